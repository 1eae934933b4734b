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


def random_d4(images: list, seed):
    """The same random D4 element applied to every (H, W, C) tensor in ``images``
    (an image and, e.g., its convergence map), in tf ops for tf.data: the element's transform
    is ``lensml.layers.d4_transform`` (mirror, then quarter turns) on the tensors' first two axes.
    seed: int32/int64 tensor of shape (2,)."""
    from lensml.layers.d4 import d4_transform  # imported here: lensml.data loads no Keras

    element = tf.random.stateless_uniform([], seed=seed, minval=0, maxval=8, dtype=tf.int32)
    branches = [lambda g=g: [d4_transform(x, g, axes=(0, 1), xp=tf.experimental.numpy) for x in images]
                for g in range(8)]
    return tf.switch_case(element, branches)


def random_noise(image, stddev: float, seed):
    """image + N(0, stddev^2) per pixel. seed: shape (2,) tensor."""
    return image + stddev * tf.random.stateless_normal(tf.shape(image), seed=seed, dtype=image.dtype)
