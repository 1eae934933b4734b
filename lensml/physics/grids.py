"""Pixel grids in arcseconds (DESIGN section 3).

An N x N image with pixel scale s has pixel centres at ``(k - (N - 1) / 2) * s``,
k = 0..N-1; x grows with the column index and y with the row index, ``image[row, col]``.
This is lenstronomy's default grid (``lenstronomy.Util.util.make_grid`` reshaped to
(N, N)), so lensml and lenstronomy images can be compared pixel by pixel.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from lensml.physics._checks import check_positive_int, check_positive_number


def pixel_coordinates(num_pix: int, pixel_scale: float) -> np.ndarray:
    """1-D pixel-centre coordinates ``(k - (N - 1) / 2) * s`` in arcsec, float64 numpy (N,)."""
    num_pix = check_positive_int("num_pix", num_pix)
    pixel_scale = check_positive_number("pixel_scale", pixel_scale)
    return (np.arange(num_pix, dtype=np.float64) - (num_pix - 1) / 2.0) * pixel_scale


def pixel_grid_numpy(num_pix: int, pixel_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``, each a float32 numpy array (num_pix, num_pix) in arcsec; see :func:`pixel_grid`."""
    coords = pixel_coordinates(num_pix, pixel_scale)
    y, x = np.meshgrid(coords, coords, indexing="ij")
    return x.astype(np.float32), y.astype(np.float32)


def pixel_grid(num_pix: int, pixel_scale: float):
    """Pixel-centre coordinates of a square image.

    Args:
        num_pix: pixels per side N (int >= 1).
        pixel_scale: pixel size s in arcsec (> 0).

    Returns:
        ``(x, y)``: two float32 tensors of shape (N, N) in arcsec with
        ``x[row, col] = (col - (N - 1) / 2) * s`` and ``y[row, col] = (row - (N - 1) / 2) * s``.
    """
    x, y = pixel_grid_numpy(num_pix, pixel_scale)
    return ops.convert_to_tensor(x, dtype="float32"), ops.convert_to_tensor(y, dtype="float32")
