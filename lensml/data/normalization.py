"""Per-image normalisation of image batches for tf.data (tf ops; also plain tensors).

The normalisations and their arithmetic are ``lensml.layers.normalization``'s (also the
``ImageNormalization`` layer a model carries); here they run on single images or batches in
a tf.data pipeline, with a check for NaN and inf pixels.
"""

from __future__ import annotations

import tensorflow as tf

from lensml.layers.normalization import NORMALIZATIONS, check_normalization, normalize_images  # noqa: F401 - re-exported


def normalize(images, normalization: str = "minmax"):
    """Normalise each image. images: (H, W, C) or (B, H, W, C) float32; same shape out.

    NaN or inf pixels raise ``tf.errors.InvalidArgumentError`` ("images hold NaN or inf
    pixels"): one of them would make the whole normalised image NaN."""
    images = tf.convert_to_tensor(images, tf.float32)
    images = tf.debugging.assert_all_finite(images, "lensml.data.normalize: images hold NaN or inf pixels")
    return normalize_images(images, normalization, xp=tf.experimental.numpy)


def normalize_ops(images, normalization: str = "minmax"):
    """``normalize`` in keras.ops, for use inside a compiled keras/JAX function (the
    simulated stream); the same arithmetic (``lensml.layers.normalization``). images: (B, H, W, C)."""
    return normalize_images(images, normalization)
