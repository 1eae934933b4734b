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
#: What a model does with NaN / inf pixels (``ImageNormalization(masked=...)``): "error" (the
#: default: ``LensModel`` refuses the images, naming them) or "fill" (masked pixels, e.g. of real
#: cutouts, take the median of the image's finite pixels: its background).
MASKED = ("error", "fill")


def check_masked(masked) -> str:
    if masked not in MASKED:
        raise ValueError(f"masked must be one of {MASKED}, got {masked!r}")
    return masked


def fill_non_finite(images):
    """Each image's NaN / inf pixels replaced by the (lower) median of its finite pixels, its
    background level in a lensing cutout (0 when it has none). ``images`` (B, H, W, C); keras.ops, both backends, inside a compiled graph."""
    shape = ops.shape(images)
    flat = ops.reshape(images, (shape[0], -1))
    finite = ops.isfinite(flat)
    count = ops.sum(ops.cast(finite, "int32"), axis=-1, keepdims=True)
    ranked = ops.sort(ops.where(finite, flat, float("inf")), axis=-1)  # finite pixels first
    median = ops.take_along_axis(ranked, ops.maximum((count - 1) // 2, 0), axis=-1)
    median = ops.where(count > 0, median, 0.0)
    return ops.reshape(ops.where(finite, flat, median), shape)


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
      masked: "error" (``LensModel`` refuses images with NaN / inf pixels) or "fill" (they take
        the median of the image's finite pixels first, :func:`fill_non_finite`).
      pixel_scale: arcsec per pixel of the images the model was trained on (None: not recorded),
        what ``lensml predict`` compares a cutout's pixel scale with. Not used in the computation.

    Call: images ``(B, H, W, C)`` in any per-image linear unit (counts, counts/s, already
    normalised) -> normalised images, same shape. No weights.

    Example:

    ```python
    import numpy as np
    import keras
    from lensml.layers import ImageNormalization

    inputs = keras.Input((64, 64, 1))
    x = ImageNormalization("minmax", pixel_scale=0.101)(inputs)  # each image to [0, 1]; the contract saved with the model
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    model(np.random.rand(2, 64, 64, 1).astype("float32"))
    ```
    """

    def __init__(self, normalization: str = "minmax", masked: str = "error", pixel_scale: float | None = None,
                 **kwargs):
        kwargs.setdefault("dtype", "float32")  # min, max and std in full precision under mixed precision
        super().__init__(**kwargs)
        self.normalization = check_normalization(normalization)
        self.masked = check_masked(masked)
        if pixel_scale is not None and not (isinstance(pixel_scale, (int, float)) and 0 < pixel_scale < float("inf")):
            raise ValueError(f"pixel_scale must be a finite number > 0 (arcsec) or None, got {pixel_scale!r}")
        self.pixel_scale = None if pixel_scale is None else float(pixel_scale)
        if self.normalization == "none":
            raise ValueError("ImageNormalization: normalization='none' needs no layer; leave it out")

    def call(self, images):
        images = ops.cast(images, self.compute_dtype)
        if self.masked == "fill":
            images = fill_non_finite(images)
        return normalize_images(images, self.normalization)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "normalization": self.normalization, "masked": self.masked,
                "pixel_scale": self.pixel_scale}
