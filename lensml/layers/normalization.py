"""Per-image normalisation, the one implementation (``keras.ops``, both backends), and the
``ImageNormalization`` layer that carries a model's input contract inside its ``.keras`` file.

- ``minmax``: (x - min) / (max - min) per image, to [0, 1], as the DeepLense papers.
- ``standardize``: (x - mean) / std per image.
- ``none``: unchanged.
A constant image maps to 0 (no division by zero). Both are invariant under a per-image
positive affine change of the input (counts vs counts/s, another exposure, an image already
normalised either way), so a model that starts with ``ImageNormalization`` gives the same
output for raw counts and for the normalised images it was trained on: ``minmax`` exactly
(min 0 and max 1 map to themselves), ``standardize`` to float rounding.
"""

from __future__ import annotations

import keras
from keras import ops

NORMALIZATIONS = ("minmax", "standardize", "none")


def check_normalization(normalization) -> str:
    """The normalisation name, or ValueError naming the accepted ones."""
    if normalization is None:
        return "none"
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS} or None, got {normalization!r}")
    return normalization


def normalize_images(images, normalization: str = "minmax", xp=ops):
    """Normalise each image of ``images`` ((B,) H, W, C) float32 over its last three axes.

    ``xp``: the array namespace, ``keras.ops`` (models, the simulated stream) or
    ``tf.experimental.numpy`` (tf.data pipelines, whatever the Keras backend); same arithmetic.
    """
    normalization = check_normalization(normalization)
    if normalization == "none":
        return images
    axes = (-3, -2, -1)
    if normalization == "minmax":
        lo = xp.min(images, axis=axes, keepdims=True)
        span = xp.max(images, axis=axes, keepdims=True) - lo
        return xp.where(span > 0, (images - lo) / xp.where(span > 0, span, 1.0), 0.0)
    mean = xp.mean(images, axis=axes, keepdims=True)
    std = xp.std(images, axis=axes, keepdims=True)
    return xp.where(std > 0, (images - mean) / xp.where(std > 0, std, 1.0), 0.0)


@keras.saving.register_keras_serializable(package="lensml")
class ImageNormalization(keras.layers.Layer):
    """The input contract of a lensml model: normalises each image as its training data was.

    Args:
      normalization: "minmax" or "standardize" (see the module docstring).

    Call: images ``(B, H, W, C)`` in any per-image linear unit (counts, counts/s, already
    normalised) -> normalised images, same shape. No weights.
    """

    def __init__(self, normalization: str = "minmax", **kwargs):
        kwargs.setdefault("dtype", "float32")  # min, max and std in full precision under mixed precision
        super().__init__(**kwargs)
        self.normalization = check_normalization(normalization)
        if self.normalization == "none":
            raise ValueError("ImageNormalization: normalization='none' needs no layer; leave it out")

    def call(self, images):
        return normalize_images(ops.cast(images, self.compute_dtype), self.normalization)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "normalization": self.normalization}
