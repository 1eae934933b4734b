"""Light profiles against lenstronomy's LightModel."""

import numpy as np
import pytest
from lenstronomy.LightModel.light_model import LightModel as LenstronomyLight

from lensml.physics import LIGHT_PROFILES, LightModel

from ._helpers import assert_close, run, to_numpy

DRAWS, POSITIONS = 120, 24


def _draw(name, rng):
    u = lambda lo, hi: rng.uniform(lo, hi, (DRAWS, 1))  # noqa: E731
    if name == "SERSIC_ELLIPSE":
        return {"amp": u(0.5, 30), "R_sersic": u(0.1, 1.5), "n_sersic": u(0.5, 4.0), "e1": u(-0.4, 0.4),
                "e2": u(-0.4, 0.4), "center_x": u(-0.5, 0.5), "center_y": u(-0.5, 0.5)}
    return {"amp": u(0.5, 30), "sigma": u(0.05, 1.0), "center_x": u(-0.5, 0.5), "center_y": u(-0.5, 0.5)}


@pytest.mark.parametrize("name", sorted(LIGHT_PROFILES))
def test_light_matches_lenstronomy(name, rng):
    params = _draw(name, rng)
    x = rng.uniform(-2, 2, (DRAWS, POSITIONS))
    y = rng.uniform(-2, 2, (DRAWS, POSITIONS))
    value = run(LIGHT_PROFILES[name]().surface_brightness, x.astype("float32"), y.astype("float32"), **params)
    light = LenstronomyLight([name])
    ref = np.stack([light.surface_brightness(x[i], y[i], [{k: float(v[i, 0]) for k, v in params.items()}])
                    for i in range(DRAWS)])
    # relative to each draw's own peak: a Sersic spans many decades over the field
    assert_close(to_numpy(value) / ref.max(axis=1, keepdims=True), ref / ref.max(axis=1, keepdims=True),
                 rtol=1e-4, atol_frac=1e-6)


def test_light_model_sums_and_batches(rng):
    model = LightModel(["SERSIC_ELLIPSE", "GAUSSIAN"])
    center = rng.uniform(-0.3, 0.3, (3, 1, 1))
    kwargs = [{"amp": 20.0, "R_sersic": 0.25, "n_sersic": 1.0, "e1": -0.1, "e2": 0.1, "center_x": center},
              {"amp": 2.0, "sigma": 0.3}]
    x = rng.uniform(-1, 1, (1, 6, 6)).astype("float32")
    y = rng.uniform(-1, 1, (1, 6, 6)).astype("float32")
    value = to_numpy(run(model.surface_brightness, x, y, kwargs_list=kwargs))
    assert value.shape == (3, 6, 6)
    light = LenstronomyLight(["SERSIC_ELLIPSE", "GAUSSIAN"])
    for b in range(3):
        kw = [dict(kwargs[0], center_x=float(center[b, 0, 0])), kwargs[1]]
        assert_close(value[b].ravel(), light.surface_brightness(x[0].ravel(), y[0].ravel(), kw))


def test_light_bad_inputs():
    with pytest.raises(ValueError, match="SERSIC"):
        LightModel(["SERSIC"])
    with pytest.raises(ValueError, match="R_sersic"):
        LightModel(["SERSIC_ELLIPSE"]).surface_brightness(
            0.0, 0.0, [{"amp": 1.0, "R_sersic": -1.0, "n_sersic": 1.0, "e1": 0.0, "e2": 0.0}])
    with pytest.raises(ValueError, match="Rsersic"):
        LightModel(["SERSIC_ELLIPSE"]).surface_brightness(
            0.0, 0.0, [{"amp": 1.0, "Rsersic": 1.0, "n_sersic": 1.0, "e1": 0.0, "e2": 0.0}])
    with pytest.raises(ValueError, match="kwargs_list"):
        LightModel(["GAUSSIAN"]).surface_brightness(0.0, 0.0, [])
