import numpy as np
import pytest
from lenstronomy.Util import util

from lensml.physics import pixel_grid, pixel_grid_numpy
from ._helpers import to_numpy


@pytest.mark.parametrize("num_pix,scale", [(64, 0.101), (15, 0.05), (1, 0.2)])
def test_pixel_grid_matches_lenstronomy(num_pix, scale):
    x, y = pixel_grid(num_pix, scale)
    xl, yl = util.make_grid(num_pix, scale)
    assert x.shape == (num_pix, num_pix)
    np.testing.assert_allclose(to_numpy(x).ravel(), xl, atol=1e-6)
    np.testing.assert_allclose(to_numpy(y).ravel(), yl, atol=1e-6)
    # x grows with the column, y with the row, centred on 0
    if num_pix > 1:
        assert to_numpy(x)[0, 1] > to_numpy(x)[0, 0]
        assert to_numpy(y)[1, 0] > to_numpy(y)[0, 0]


@pytest.mark.parametrize("bad", [0, -0.1, float("nan")])
def test_pixel_grid_rejects_bad_scale(bad):
    with pytest.raises(ValueError, match="pixel_scale"):
        pixel_grid(8, bad)


def test_pixel_grid_rejects_bad_num_pix():
    with pytest.raises(ValueError, match="num_pix"):
        pixel_grid(0, 0.1)
    with pytest.raises(TypeError, match="num_pix"):
        pixel_grid(8.5, 0.1)


def test_subpixel_grids_average_to_the_pixel_grid_and_repeat_the_edge():
    from lensml.physics import subpixel_grids

    x, y = subpixel_grids(5, 0.2, 3, border=2, width=11)
    assert x.shape == y.shape == (9, 9, 11) and x.dtype == np.float32
    centre_x, centre_y = pixel_grid_numpy(5, 0.2)
    np.testing.assert_allclose(x.mean(0)[2:-2, 2:-4], centre_x, atol=1e-6)
    np.testing.assert_allclose(y.mean(0)[2:-2, 2:-4], centre_y, atol=1e-6)
    fine_x, _ = pixel_grid_numpy(15, 0.2 / 3)
    np.testing.assert_array_equal(np.sort(x[:, 2:-2, 2:-4].ravel()), np.sort(fine_x.ravel()))
    # border (and the extra columns): the edge pixels' sub-pixel positions again
    np.testing.assert_array_equal(x[:, :, 0], x[:, :, 2])
    np.testing.assert_array_equal(x[:, :, -1], x[:, :, 6])
    np.testing.assert_array_equal(y[:, -1, :], y[:, -3, :])


def test_subpixel_grids_reject_bad_input():
    from lensml.physics import subpixel_grids

    with pytest.raises(ValueError, match="supersampling must be >= 1, got 0"):
        subpixel_grids(4, 0.1, 0)
    with pytest.raises(ValueError, match="border must be >= 0, got -1"):
        subpixel_grids(4, 0.1, 2, border=-1)
    with pytest.raises(ValueError, match="width must be >= 8, got 7"):
        subpixel_grids(4, 0.1, 2, border=2, width=7)
