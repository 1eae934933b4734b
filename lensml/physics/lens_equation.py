"""Lens equation beta = theta - alpha(theta) as a Keras layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
from keras import ops

from lensml.physics._checks import check_positive_int, check_positive_number
from lensml.physics.grids import pixel_grid_numpy
from lensml.physics.mass_model import MassModel


def _per_example(value):
    """A parameter of shape (batch,) or (batch, 1) -> (batch, 1, 1) so it broadcasts over pixels."""
    if isinstance(value, (bool, int, float)):
        return value
    value = ops.cast(ops.convert_to_tensor(value), "float32")
    if len(value.shape) == 0:
        return value
    return ops.reshape(value, (-1, 1, 1))


@keras.saving.register_keras_serializable(package="lensml")
class LensEquation(keras.layers.Layer):
    """Ray shooting through a fixed :class:`MassModel` with per-example parameters.

    Args:
        profile_names: lenstronomy profile names, e.g. ``["SIE", "SHEAR", "POINT_MASS"]``.
        num_pix: image pixels per side N.
        pixel_scale: pixel size in arcsec (> 0).
        return_deflection: if True the call returns ``(beta, alpha)``.

    Call: ``layer(kwargs_list)``, one dict per profile mapping lenstronomy keyword names to
    tensors/arrays of shape (batch,) or (batch, 1) ->
    beta (batch, N, N, 2) = (beta_x, beta_y) in arcsec on the lensml pixel grid (docs/conventions.md).

    Example:

    ```python
    import numpy as np
    from lensml.physics import LensEquation

    lens = LensEquation(["SIE", "SHEAR"], num_pix=64, pixel_scale=0.101)
    beta = lens([dict(theta_E=np.array([1.0, 1.3]), e1=np.array([0.1, 0.0]), e2=np.array([0.0, 0.05])),
                 dict(gamma1=np.array([0.02, 0.0]), gamma2=np.array([0.0, -0.01]))])  # (2, 64, 64, 2) arcsec
    ```
    """

    def __init__(self, profile_names, num_pix, pixel_scale, return_deflection=False, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.mass_model = MassModel(list(profile_names))
        self.profile_names = list(profile_names)
        self.num_pix = check_positive_int("num_pix", num_pix)
        self.pixel_scale = check_positive_number("pixel_scale", pixel_scale)
        self.return_deflection = bool(return_deflection)

    def call(self, kwargs_list):
        if isinstance(kwargs_list, Mapping) or not isinstance(kwargs_list, Sequence):
            raise TypeError(
                f"{self.name}: input must be a list of dicts (one per profile), got {type(kwargs_list).__name__}"
            )
        kwargs_list = [
            {key: _per_example(value) for key, value in dict(kwargs).items()} for kwargs in kwargs_list
        ]
        gx, gy = pixel_grid_numpy(self.num_pix, self.pixel_scale)
        x = ops.convert_to_tensor(gx[None])
        y = ops.convert_to_tensor(gy[None])
        ax, ay = self.mass_model.deflection(x, y, kwargs_list)
        # Parameters shared by the batch give (1, N, N); broadcast to the batch of any tensor input.
        alpha = ops.stack([ax, ay], axis=-1)
        beta = ops.stack([x, y], axis=-1) - alpha
        if self.return_deflection:
            return beta, alpha
        return beta

    def compute_output_shape(self, input_shape):
        batch = None
        for kwargs in input_shape:
            for shape in dict(kwargs).values():
                if isinstance(shape, (list, tuple)) and len(shape) > 0:
                    batch = shape[0]
        out = (batch, self.num_pix, self.num_pix, 2)
        return (out, out) if self.return_deflection else out

    def get_config(self):
        config = super().get_config()
        config.update(
            profile_names=self.profile_names,
            num_pix=self.num_pix,
            pixel_scale=self.pixel_scale,
            return_deflection=self.return_deflection,
        )
        return config
