"""Per-image normalisation of image batches (tf ops, for tf.data; also plain tensors).

- ``minmax``: (x - min) / (max - min) per image, to [0, 1], as the DeepLense papers.
- ``standardize``: (x - mean) / std per image.
- ``none``: unchanged.
A constant image maps to 0 (no division by zero).
"""

from __future__ import annotations

import tensorflow as tf

NORMALIZATIONS = ("minmax", "standardize", "none")


def check_normalization(normalization) -> str:
    """The normalisation name, or ValueError naming the accepted ones."""
    if normalization is None:
        return "none"
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS} or None, got {normalization!r}")
    return normalization


def normalize(images, normalization: str = "minmax"):
    """Normalise each image. images: (H, W, C) or (B, H, W, C) float32; same shape out."""
    normalization = check_normalization(normalization)
    images = tf.convert_to_tensor(images, tf.float32)
    if normalization == "none":
        return images
    axes = [-3, -2, -1]
    if normalization == "minmax":
        lo = tf.reduce_min(images, axis=axes, keepdims=True)
        hi = tf.reduce_max(images, axis=axes, keepdims=True)
        return tf.math.divide_no_nan(images - lo, hi - lo)
    mean = tf.reduce_mean(images, axis=axes, keepdims=True)
    std = tf.math.reduce_std(images, axis=axes, keepdims=True)
    return tf.math.divide_no_nan(images - mean, std)
