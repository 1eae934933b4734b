"""Pixel grids in arcseconds (docs/conventions.md).

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


def subpixel_grids(num_pix: int, pixel_scale: float, supersampling: int, border: int = 0,
                   width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The supersampled pixel grid, one (H, W) grid per sub-pixel offset.

    The N x N image's supersampled grid is ``pixel_grid_numpy(N * ss, s / ss)``; here it is laid
    out as ss^2 grids of the image's shape (offset (i, j) holds sub-pixel (i, j) of every pixel),
    so averaging over the first axis gives lenstronomy's supersampled pixel mean. ``border``
    more pixels on each side repeat the edge pixels' positions (a pointwise function of position,
    evaluated there, is its edge-replicated ('nearest') padding), and on the right as many more
    as make ``width`` columns (default: none).

    Args:
        num_pix: pixels per side N (int >= 1).
        pixel_scale: pixel size s in arcsec (> 0).
        supersampling: sub-pixels per pixel side ss (int >= 1).
        border: pixels added on each side (int >= 0).
        width: total columns (int >= N + 2 border), or None.

    Returns:
        ``(x, y)``: float32 numpy arrays (ss^2, N + 2 border, width) in arcsec.
    """
    num_pix = check_positive_int("num_pix", num_pix)
    ss = check_positive_int("supersampling", supersampling)
    border = check_positive_int("border", border, minimum=0)
    bordered = num_pix + 2 * border
    extra = 0 if width is None else check_positive_int("width", width, minimum=bordered) - bordered
    x, y = pixel_grid_numpy(num_pix * ss, pixel_scale / ss)

    def per_offset(a):
        a = a.reshape(num_pix, ss, num_pix, ss)  # (row, sub-row, column, sub-column)
        a = np.pad(a, ((border, border), (0, 0), (border, border + extra), (0, 0)), mode="edge")
        return np.ascontiguousarray(a.transpose(1, 3, 0, 2).reshape(ss * ss, *a.shape[::2]))

    return per_offset(x), per_offset(y)


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
