"""SIS-ansatz deflection with a per-pixel scale map (Lensformer / Lens-JEPA).

The potential ansatz Psi = k(theta) * theta_E * |theta| with k held locally constant gives
alpha = k * theta_E * theta / |theta|: the SIS deflection scaled pixel by pixel.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lensml.physics._checks import check_nonnegative_values, check_positive_number, check_shape
from lensml.physics.grids import pixel_grid_numpy


def sis_unit_directions(num_pix, pixel_scale):
    """theta / |theta| on the pixel grid as float32 numpy (num_pix, num_pix, 2); 0 at the exact centre."""
    x, y = pixel_grid_numpy(num_pix, pixel_scale)
    r = np.hypot(x.astype(np.float64), y.astype(np.float64))
    safe = np.where(r > 0, r, 1.0)
    unit = np.stack([np.where(r > 0, x / safe, 0.0), np.where(r > 0, y / safe, 0.0)], axis=-1)
    return unit.astype(np.float32)


@keras.saving.register_keras_serializable(package="lensml")
class SISDeflection(keras.layers.Layer):
    """alpha = k * theta_E * theta / |theta| on the image grid.

    Args:
        pixel_scale: pixel size in arcsec (> 0).
        theta_E: Einstein radius in arcsec used when the call gives none (default 1.0).

    Call: ``layer(k)`` or ``layer([k, theta_E])`` with k (batch, H, W, 1) (learnable or
    predicted scale map) and theta_E (batch,) or (batch, 1) in arcsec ->
    alpha (batch, H, W, 2) in arcsec. Finite everywhere: at the exact centre (odd H) the
    direction is 0. Square images only. Runs in float32.

    Example:

    ```python
    import numpy as np
    from lensml.physics import SISDeflection

    k = np.ones((2, 64, 64, 1), "float32")                   # a per-pixel SIS scale map
    alpha = SISDeflection(pixel_scale=0.101, theta_E=1.2)(k)  # (2, 64, 64, 2) arcsec
    ```
    """

    def __init__(self, pixel_scale, theta_E=1.0, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.pixel_scale = check_positive_number("pixel_scale", pixel_scale)
        self.theta_E = check_positive_number("theta_E", theta_E, allow_zero=True)

    def _split(self, inputs):
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 2:
                raise ValueError(f"{self.name}: inputs must be k or [k, theta_E], got {len(inputs)} tensors")
            return inputs[0], inputs[1]
        return inputs, None

    def call(self, inputs):
        k, theta_E = self._split(inputs)
        check_shape("k", k.shape, rank=4, channels=1, what="(batch, height, width, 1)")
        height, width = k.shape[1], k.shape[2]
        if height is None or height != width:
            raise ValueError(f"k must be a square map with static size, got shape {tuple(k.shape)}")
        k = ops.cast(k, self.compute_dtype)  # integer maps too, as the other physics layers
        unit = ops.convert_to_tensor(sis_unit_directions(height, self.pixel_scale))
        if theta_E is None:
            scale = self.theta_E
        else:
            check_nonnegative_values("theta_E", theta_E)
            scale = ops.reshape(ops.cast(theta_E, "float32"), (-1, 1, 1, 1))
        return k * scale * unit[None]

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        return tuple(input_shape[:-1]) + (2,)

    def get_config(self):
        config = super().get_config()
        config.update(pixel_scale=self.pixel_scale, theta_E=self.theta_E)
        return config
