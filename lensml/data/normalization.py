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
    """Normalise each image. images: (H, W, C) or (B, H, W, C) float32; same shape out.

    NaN or inf pixels raise ``tf.errors.InvalidArgumentError`` ("images hold NaN or inf
    pixels"): one of them would make the whole normalised image NaN."""
    normalization = check_normalization(normalization)
    images = tf.convert_to_tensor(images, tf.float32)
    images = tf.debugging.assert_all_finite(images, "lensml.data.normalize: images hold NaN or inf pixels")
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


def normalize_ops(images, normalization: str = "minmax"):
    """``normalize`` in keras.ops, for use inside a compiled keras/JAX function (the
    simulated stream); same arithmetic. images: (B, H, W, C) float32."""
    from keras import ops

    normalization = check_normalization(normalization)
    if normalization == "none":
        return images
    axes = (1, 2, 3)
    if normalization == "minmax":
        lo = ops.min(images, axis=axes, keepdims=True)
        span = ops.max(images, axis=axes, keepdims=True) - lo
        return ops.where(span > 0, (images - lo) / ops.where(span > 0, span, 1.0), 0.0)
    mean = ops.mean(images, axis=axes, keepdims=True)
    std = ops.std(images, axis=axes, keepdims=True)
    return ops.where(std > 0, (images - mean) / ops.where(std > 0, std, 1.0), 0.0)
