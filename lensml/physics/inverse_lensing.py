"""Inverse lensing: reconstruct the source by splatting image pixels to the source plane.

Each image pixel theta is sent to beta = theta - alpha(theta) and splatted onto the source
grid with bilinear weights. A source pixel is the exact weighted mean
``sum(w * I) / sum(w)`` of what lands on it; pixels that receive (almost) nothing are 0;
corners that fall off the source grid are dropped, never clamped. The scatter is one
``segment_sum`` over a flattened ``batch * pixels`` index, so the whole batch is one op
(no Python loop over images). On CPU (TensorFlow, JAX) the segment sum is deterministic;
on GPU both backends scatter with atomic adds, whose float summation order can vary
(enable TF op determinism / XLA deterministic ops there if bitwise repeatability matters).
Differentiable with respect to the image and to alpha (through the bilinear weights).
"""

from __future__ import annotations

import keras
from keras import ops

from lensml.physics._checks import check_positive_int, check_positive_number, check_shape
from lensml.physics.grids import pixel_grid_numpy

#: Source pixels whose total splat weight is at most this are empty (0). Keeps the
#: gradient of sum(w I) / sum(w) bounded where only a sliver of a pixel's weight lands.
EMPTY_WEIGHT = 1e-6


def _static_hw(shape, name):
    height, width = shape[1], shape[2]
    if height is None or width is None:
        raise ValueError(f"{name} must have static height and width, got shape {tuple(shape)}")
    return int(height), int(width)


def inverse_lens(image, alpha, pixel_scale, source_num_pix=None, source_pixel_scale=None):
    """Reconstruct the source from an image and its deflection map.

    Args:
        image: (batch, height, width, channels) float32 surface brightness on the image grid
            (lensml's pixel grid, docs/conventions.md; pixel scale ``pixel_scale``).
        alpha: (batch, height, width, 2) float32 deflection (alpha_x, alpha_y) in arcsec.
        pixel_scale: image pixel size in arcsec (> 0).
        source_num_pix: source grid size S (default: the image height).
        source_pixel_scale: source pixel size in arcsec (default: ``pixel_scale``).

    Returns:
        (batch, S, S, channels) float32 source, the bilinear-weighted mean of the image
        pixels that land on each source pixel; 0 where nothing lands; all NaN for an image
        whose deflection map holds NaN or inf.
    """
    pixel_scale = check_positive_number("pixel_scale", pixel_scale)
    image = ops.convert_to_tensor(image)
    alpha = ops.convert_to_tensor(alpha)
    check_shape("image", image.shape, rank=4, what="(batch, height, width, channels)")
    check_shape("alpha", alpha.shape, rank=4, channels=2, what="(batch, height, width, 2)")
    height, width = _static_hw(image.shape, "image")
    if tuple(alpha.shape[1:3]) != (height, width):
        raise ValueError(
            f"alpha must have the image's height and width; got image shape {tuple(image.shape)} "
            f"and alpha shape {tuple(alpha.shape)}"
        )
    if height != width:
        raise ValueError(f"image must be square, got shape {tuple(image.shape)}")
    if source_num_pix is None:
        source_num_pix = height
    source_num_pix = check_positive_int("source_num_pix", source_num_pix)
    if source_pixel_scale is None:
        source_pixel_scale = pixel_scale
    source_pixel_scale = check_positive_number("source_pixel_scale", source_pixel_scale)

    image = ops.cast(image, "float32")
    alpha = ops.cast(alpha, "float32")
    channels = image.shape[-1]
    batch = ops.shape(image)[0]
    size = source_num_pix

    gx, gy = pixel_grid_numpy(height, pixel_scale)
    # Source-plane position in continuous source-pixel units (centre of pixel k is k).
    col = (gx[None] - alpha[..., 0]) / source_pixel_scale + (size - 1) / 2.0
    row = (gy[None] - alpha[..., 1]) / source_pixel_scale + (size - 1) / 2.0
    col0 = ops.floor(col)
    row0 = ops.floor(row)
    fc = col - col0
    fr = row - row0
    # Scatter each ray once, into the cell (row0, col0) of a grid padded by one cell on the
    # low side, carrying its four bilinear corner weights; the corners are then gathered
    # by shifting the cell grid. One index per ray instead of four makes the scatter ~3x
    # cheaper, and corners off the source grid fall outside the slices: dropped, not clamped.
    cells = size + 1
    # Clip before the integer cast: rays far off the grid must not overflow int32.
    r = ops.cast(ops.clip(row0, -2.0, cells + 1.0), "int32") + 1
    c = ops.cast(ops.clip(col0, -2.0, cells + 1.0), "int32") + 1
    inside = ops.cast((r >= 0) & (r < cells) & (c >= 0) & (c < cells), "float32")
    w_row = ops.stack([1.0 - fr, fr], axis=-1) * inside[..., None]
    w_col = ops.stack([1.0 - fc, fc], axis=-1)
    # corner order (dr, dc) = (0, 0), (0, 1), (1, 0), (1, 1)
    w = ops.reshape(w_row[..., :, None] * w_col[..., None, :], (-1, 4))
    batch_offset = ops.reshape(ops.arange(batch, dtype="int32") * (cells * cells), (-1, 1, 1))
    ids = ops.reshape(batch_offset + ops.clip(r, 0, cells - 1) * cells + ops.clip(c, 0, cells - 1), (-1,))
    flat_image = ops.reshape(image, (-1, 1, channels))
    # per ray: [w_k * I_c for each corner k and channel c] then [w_k for each corner k]
    data = ops.concatenate([ops.reshape(w[:, :, None] * flat_image, (-1, 4 * channels)), w], axis=-1)
    grid = ops.segment_sum(data, ids, num_segments=batch * cells * cells)
    grid = ops.reshape(grid, (batch, cells, cells, 4 * channels + 4))
    numerators = ops.reshape(grid[..., : 4 * channels], (batch, cells, cells, 4, channels))
    weights = grid[..., 4 * channels:]
    # source[r, c] = sum over corners (dr, dc) of cell (r - dr, c - dc), i.e. padded index +1.
    numerator = (
        numerators[:, 1:, 1:, 0] + numerators[:, 1:, :-1, 1] + numerators[:, :-1, 1:, 2] + numerators[:, :-1, :-1, 3]
    )
    weight = (
        weights[:, 1:, 1:, 0:1] + weights[:, 1:, :-1, 1:2] + weights[:, :-1, 1:, 2:3] + weights[:, :-1, :-1, 3:4]
    )
    filled = weight > EMPTY_WEIGHT
    source = ops.where(filled, numerator / ops.where(filled, weight, ops.ones_like(weight)), 0.0)
    # A non-finite deflection has no source position: rather than drop its ray unseen, the
    # whole source of that image is NaN (what TerminateOnNaN and the evaluation checks catch).
    broken = ops.logical_not(ops.all(ops.isfinite(alpha), axis=(1, 2, 3)))
    source = ops.where(ops.reshape(broken, (-1, 1, 1, 1)), float("nan"), source)
    return ops.reshape(source, (batch, size, size, channels))


@keras.saving.register_keras_serializable(package="lensml")
class InverseLens(keras.layers.Layer):
    """Keras layer for :func:`inverse_lens`.

    Args:
        pixel_scale: image pixel size in arcsec (> 0).
        source_num_pix: source grid size S (default: the image size).
        source_pixel_scale: source pixel size in arcsec (default: ``pixel_scale``).

    Call: ``layer([image, alpha])`` with image (batch, H, W, C) and alpha (batch, H, W, 2)
    in arcsec -> source (batch, S, S, C). No weights. Runs in float32.

    Example:

    ```python
    import numpy as np
    from lensml.physics import InverseLens, PoissonSolver

    images = np.random.rand(2, 64, 64, 1).astype("float32")
    _, alpha = PoissonSolver(pixel_scale=0.101)(0.1 * np.ones((2, 64, 64, 1), "float32"))
    source = InverseLens(pixel_scale=0.101)([images, alpha])  # (2, 64, 64, 1): the image traced back
    ```
    """

    def __init__(self, pixel_scale, source_num_pix=None, source_pixel_scale=None, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.pixel_scale = check_positive_number("pixel_scale", pixel_scale)
        self.source_num_pix = (
            None if source_num_pix is None else check_positive_int("source_num_pix", source_num_pix)
        )
        self.source_pixel_scale = (
            None
            if source_pixel_scale is None
            else check_positive_number("source_pixel_scale", source_pixel_scale)
        )

    def _unpack(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f"{self.name}: inputs must be [image, alpha], got {type(inputs).__name__}"
            )
        return inputs

    def call(self, inputs):
        image, alpha = self._unpack(inputs)
        return inverse_lens(
            image, alpha, self.pixel_scale, self.source_num_pix, self.source_pixel_scale
        )

    def compute_output_shape(self, input_shape):
        image_shape, alpha_shape = self._unpack(input_shape)
        check_shape("image", image_shape, rank=4, what="(batch, height, width, channels)")
        check_shape("alpha", alpha_shape, rank=4, channels=2, what="(batch, height, width, 2)")
        size = self.source_num_pix or image_shape[1]
        return (image_shape[0], size, size, image_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            pixel_scale=self.pixel_scale,
            source_num_pix=self.source_num_pix,
            source_pixel_scale=self.source_pixel_scale,
        )
        return config
