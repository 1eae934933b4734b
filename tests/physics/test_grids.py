import numpy as np
import pytest
from lenstronomy.Util import util

from lensml.physics import pixel_grid
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
