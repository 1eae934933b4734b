"""Physics preprocessing of lens images: LensPINN's |tanh(d/dx d/dy (log(I_max / I))^2)| and
D4LensPINN's Sobel product (d/dx L)(d/dy L) of L = log(I_max / I)."""

from __future__ import annotations

import keras
from keras import ops

from lensml.physics._checks import check_positive_number, check_shape


def _gradient(values, axis):
    """``np.gradient`` along ``axis`` (unit spacing): central differences inside,
    one-sided differences at the two edges (as LensPINN computes it)."""
    n = values.shape[axis]
    if n is None or n < 2:
        raise ValueError(f"images must have at least 2 pixels along axis {axis}, got shape {tuple(values.shape)}")

    def take(start, stop):
        index = [slice(None)] * len(values.shape)
        index[axis] = slice(start, stop)
        return values[tuple(index)]

    first = take(1, 2) - take(0, 1)
    last = take(n - 1, n) - take(n - 2, n - 1)
    if n == 2:
        return ops.concatenate([first, last], axis=axis)
    middle = 0.5 * (take(2, n) - take(0, n - 2))
    return ops.concatenate([first, middle, last], axis=axis)


def _log_ratio(images, epsilon):
    """log((I_max + eps) / (I + eps)) per image (batch, H, W, 1), negative pixels as 0: the
    log-brightness ratio both preprocessing maps differentiate."""
    epsilon = check_positive_number("epsilon", epsilon)
    images = ops.cast(ops.convert_to_tensor(images), "float32")
    check_shape("images", images.shape, rank=4, channels=1, what="(batch, height, width, 1)")
    intensity = ops.maximum(images, 0.0)
    peak = ops.max(intensity, axis=(1, 2, 3), keepdims=True)
    return ops.log((peak + epsilon) / (intensity + epsilon))


def physics_preprocessing(images, epsilon=1e-6):
    """LensPINN distortion map |tanh(d/dx d/dy (log((I_max + eps) / (I + eps)))^2)|.

    Args:
        images: (batch, height, width, 1) float32; negative pixels are treated as 0.
        epsilon: added to I and I_max so that I = 0 gives a finite log (> 0).

    Returns:
        (batch, height, width, 1) float32 in [0, 1]. I_max is per image; derivatives are
        in pixel units (``np.gradient`` along columns, then rows).
    """
    log_ratio = _log_ratio(images, epsilon)
    squared = log_ratio * log_ratio
    mixed = _gradient(_gradient(squared, axis=2), axis=1)
    return ops.abs(ops.tanh(mixed))


class _LogRatioMap(keras.layers.Layer):
    """A weightless float32 layer mapping images (batch, H, W, 1) to one map of log(I_max / I):
    subclasses name the map's function in ``map_function``."""

    map_function = None

    def __init__(self, epsilon=1e-6, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.epsilon = check_positive_number("epsilon", epsilon)

    def call(self, images):
        return type(self).map_function(images, self.epsilon)

    def compute_output_shape(self, input_shape):
        check_shape("images", input_shape, rank=4, channels=1, what="(batch, height, width, 1)")
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="lensml")
class PhysicsPreprocessing(_LogRatioMap):
    """Keras layer for :func:`physics_preprocessing`.

    Args:
        epsilon: regulariser of log(I_max / I) at I = 0 (> 0, default 1e-6).

    Call: images (batch, H, W, 1) -> (batch, H, W, 1) in [0, 1]. No weights; float32.

    Example:

    ```python
    import numpy as np
    from lensml.physics import PhysicsPreprocessing

    images = np.random.rand(2, 64, 64, 1).astype("float32")
    maps = PhysicsPreprocessing()(images)  # (2, 64, 64, 1), D4-invariant
    ```
    """

    map_function = staticmethod(physics_preprocessing)

#: 3x3 Sobel kernel of d/dx (columns), as cross-correlation; its transpose is d/dy (rows).
_SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


def sobel_product(images, epsilon=1e-6):
    """D4LensPINN's preprocessing: P = (Sobel_x L) (Sobel_y L) / std(P), L = log((I_max + eps) / (I + eps)).

    The product of the two Sobel derivatives of the log-brightness ratio highlights where arcs
    bend (the paper's "distortion" channel). It is signed: a mirror or a quarter turn flips its
    sign, so it is not D4-invariant (why the paper's D4 test-time augmentation lowered its
    accuracy); ``physics_preprocessing`` is the invariant alternative.

    Args:
        images: (batch, height, width, 1) float32; negative pixels are treated as 0.
        epsilon: added to I so that I = 0 gives a finite log.

    Returns:
        (batch, height, width, 1) float32 with unit standard deviation per image (0 for a flat
        image). Sobel derivatives in pixel units, zero padding at the edges (the paper's
        ``conv2d(padding=1)``).
    """
    log_ratio = _log_ratio(images, epsilon)
    sobel_x = ops.convert_to_tensor(_SOBEL_X, "float32")
    kernel = ops.stack([sobel_x, ops.transpose(sobel_x)], axis=-1)[:, :, None, :]  # (3, 3, 1, 2): d/dx, d/dy
    derivatives = ops.conv(log_ratio, kernel, padding="same")
    product = derivatives[..., :1] * derivatives[..., 1:]
    std = ops.std(product, axis=(1, 2, 3), keepdims=True)
    return ops.divide_no_nan(product, std)


@keras.saving.register_keras_serializable(package="lensml")
class SobelProduct(_LogRatioMap):
    """Keras layer for :func:`sobel_product` (D4LensPINN's preprocessing).

    Args:
        epsilon: regulariser of log(I_max / I) at I = 0 (> 0, default 1e-6).

    Call: images (batch, H, W, 1) -> (batch, H, W, 1), unit std per image. No weights; float32.

    Example:

    ```python
    import numpy as np
    from lensml.physics import SobelProduct

    images = np.random.rand(2, 64, 64, 1).astype("float32")
    maps = SobelProduct()(images)  # (2, 64, 64, 1), the D4LensPINN paper's signed map
    ```
    """

    map_function = staticmethod(sobel_product)


#: The physics maps of an image by name (a model option: ``build(input_map=...)``, D4LensPINN's
#: ``preprocessing``).
MAPS = {"lenspinn": PhysicsPreprocessing, "sobel_product": SobelProduct}


def preprocessing_layer(kind: str, epsilon: float = 1e-6, name: str | None = None) -> keras.layers.Layer:
    """The layer of the physics map ``kind`` (a key of ``MAPS``); ValueError naming them otherwise."""
    if kind not in MAPS:
        raise ValueError(f"preprocessing map {kind!r}: expected one of {sorted(MAPS)}")
    return MAPS[kind](epsilon, name=name)
