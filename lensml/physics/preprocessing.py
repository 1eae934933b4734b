"""LensPINN physics preprocessing: |tanh(d/dx d/dy (log(I_max / I))^2)|."""

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


def physics_preprocessing(images, epsilon=1e-6):
    """LensPINN distortion map |tanh(d/dx d/dy (log((I_max + eps) / (I + eps)))^2)|.

    Args:
        images: (batch, height, width, 1) float32; negative pixels are treated as 0.
        epsilon: added to I and I_max so that I = 0 gives a finite log (> 0).

    Returns:
        (batch, height, width, 1) float32 in [0, 1]. I_max is per image; derivatives are
        in pixel units (``np.gradient`` along columns, then rows).
    """
    epsilon = check_positive_number("epsilon", epsilon)
    images = ops.cast(ops.convert_to_tensor(images), "float32")
    check_shape("images", images.shape, rank=4, channels=1, what="(batch, height, width, 1)")
    intensity = ops.maximum(images, 0.0)
    peak = ops.max(intensity, axis=(1, 2, 3), keepdims=True)
    log_ratio = ops.log((peak + epsilon) / (intensity + epsilon))
    squared = log_ratio * log_ratio
    mixed = _gradient(_gradient(squared, axis=2), axis=1)
    return ops.abs(ops.tanh(mixed))


@keras.saving.register_keras_serializable(package="lensml")
class PhysicsPreprocessing(keras.layers.Layer):
    """Keras layer for :func:`physics_preprocessing`.

    Args:
        epsilon: regulariser of log(I_max / I) at I = 0 (> 0, default 1e-6).

    Call: images (batch, H, W, 1) -> (batch, H, W, 1) in [0, 1]. No weights; float32.
    """

    def __init__(self, epsilon=1e-6, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.epsilon = check_positive_number("epsilon", epsilon)

    def call(self, images):
        return physics_preprocessing(images, self.epsilon)

    def compute_output_shape(self, input_shape):
        check_shape("images", input_shape, rank=4, channels=1, what="(batch, height, width, 1)")
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon)
        return config
