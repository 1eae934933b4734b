"""Data augmentation in tf.data: the dihedral group D4 (8 rotations/flips of the square,
the symmetries of a lens image's statistics) and additive Gaussian noise.

Random draws are stateless, from a per-example seed pair, so a pipeline with a seed is
reproducible.
"""

from __future__ import annotations

import tensorflow as tf

AUGMENTATIONS = ("d4", "noise")


def check_augment(augment) -> tuple[str, ...]:
    """Normalise ``augment`` (None, "d4", "noise", "d4+noise" or a sequence) to a tuple."""
    if augment is None:
        return ()
    items = augment.split("+") if isinstance(augment, str) else list(augment)
    for item in items:
        if item not in AUGMENTATIONS:
            raise ValueError(
                f"augment must be None or a combination of {AUGMENTATIONS} "
                f"(e.g. 'd4+noise'), got {augment!r}"
            )
    return tuple(items)


def d4_transform(image, element):
    """Apply D4 element ``element`` (int 0..7: k = element % 4 quarter turns, then a
    left-right flip if element >= 4). image: (H, W, C) square."""
    image = tf.image.rot90(image, k=element % 4)
    return tf.cond(element >= 4, lambda: tf.image.flip_left_right(image), lambda: image)


def random_d4(images: list, seed):
    """The same random D4 element applied to every (H, W, C) tensor in ``images``
    (an image and, e.g., its convergence map). seed: int32/int64 tensor of shape (2,)."""
    element = tf.random.stateless_uniform([], seed=seed, minval=0, maxval=8, dtype=tf.int32)
    return [d4_transform(x, element) for x in images]


def random_noise(image, stddev: float, seed):
    """image + N(0, stddev^2) per pixel. seed: shape (2,) tensor."""
    return image + stddev * tf.random.stateless_normal(tf.shape(image), seed=seed, dtype=image.dtype)
