"""Analytic identities (alpha = grad psi), finiteness at singular points, bad inputs."""

import numpy as np
import pytest

from lensml.physics import PROFILES, MassModel

from ._helpers import run, to_numpy

PARAMS = {
    "SIS": {"theta_E": 1.1, "center_x": 0.1, "center_y": -0.2},
    "SIE": {"theta_E": 1.1, "e1": 0.15, "e2": -0.1, "center_x": 0.1, "center_y": -0.2},
    "SHEAR": {"gamma1": 0.05, "gamma2": -0.03},
    "POINT_MASS": {"theta_E": 0.3, "center_x": 0.1, "center_y": -0.2},
    "NFW": {"Rs": 0.8, "alpha_Rs": 0.6, "center_x": 0.1, "center_y": -0.2},
    "TNFW": {"Rs": 0.8, "alpha_Rs": 0.6, "r_trunc": 2.0, "center_x": 0.1, "center_y": -0.2},
    "AXION_VORTEX": {"theta_E": 0.4, "half_length": 0.6, "angle": 0.5, "n_points": 25, "center_x": 0.1,
                     "center_y": -0.2},
    "AXION_VORTEX_LINE": {"theta_E": 0.4, "half_length": 0.6, "angle": 0.5, "center_x": 0.1, "center_y": -0.2},
}


def test_every_profile_is_covered():
    assert set(PARAMS) == set(PROFILES)


def _deflection_and_potential(x, y, profile, **params):
    ax, ay = profile.deflection(x, y, **params)
    return ax, ay, profile.potential(x, y, **params), profile.convergence(x, y, **params)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_deflection_is_gradient_of_potential(name, rng):
    # float64 positions a step h apart; float32 psi limits h to ~1e-3 and the check to ~1e-3.
    x = rng.uniform(-2, 2, 64)
    y = rng.uniform(-2, 2, 64)
    keep = np.hypot(x - 0.1, y + 0.2) > 0.9  # away from centres and the vortex line
    x, y = x[keep], y[keep]
    h = 2e-3
    xs = np.concatenate([x + h, x - h, x, x, x]).astype("float32")
    ys = np.concatenate([y, y, y + h, y - h, y]).astype("float32")
    ax, ay, psi, _ = run(_deflection_and_potential, xs, ys, profile=PROFILES[name](), **PARAMS[name])
    psi = to_numpy(psi).astype(np.float64).reshape(5, -1)
    ax, ay = to_numpy(ax).reshape(5, -1)[4], to_numpy(ay).reshape(5, -1)[4]
    step_x = (xs[: x.size] - xs[x.size: 2 * x.size]).astype(np.float64)
    step_y = (ys[2 * y.size: 3 * y.size] - ys[3 * y.size: 4 * y.size]).astype(np.float64)
    grad_x = (psi[0] - psi[1]) / step_x
    grad_y = (psi[2] - psi[3]) / step_y
    scale = max(np.abs(ax).max(), np.abs(ay).max())
    np.testing.assert_allclose(grad_x, ax, atol=2e-3 * scale + 1e-4)
    np.testing.assert_allclose(grad_y, ay, atol=2e-3 * scale + 1e-4)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_finite_at_centre_zero_mass_and_far_away(name):
    params = dict(PARAMS[name])
    centre_x, centre_y = params.get("center_x", 0.0), params.get("center_y", 0.0)
    # rows: the parameters as given, then with zero mass (theta_E / alpha_Rs / gamma = 0),
    # then (vortex) zero length; columns: exactly at the centre, next to it, far away.
    zero_mass = {k: 0.0 for k in ("theta_E", "alpha_Rs", "gamma1", "gamma2") if k in params}
    rows = [dict(params), dict(params, **zero_mass)]
    if "half_length" in params:
        rows.append(dict(params, half_length=0.0))
    batched = {k: np.array([[r[k]] for r in rows], "float32") for k in params if k != "n_points"}
    if "n_points" in params:
        batched["n_points"] = params["n_points"]
    x = np.array([[centre_x, centre_x + 1e-7, 1e4, -3e3, 0.0]], "float32")
    y = np.array([[centre_y, centre_y, 1e4, 2.0, 0.0]], "float32")
    values = run(_deflection_and_potential, x, y, profile=PROFILES[name](), **batched)
    for value in values:
        assert np.all(np.isfinite(to_numpy(value))), name
    ax, ay = to_numpy(values[0]), to_numpy(values[1])
    assert np.all(ax[1] == 0) and np.all(ay[1] == 0)  # zero mass deflects nothing


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_unknown_and_missing_keywords(name):
    profile = PROFILES[name]()
    with pytest.raises(ValueError, match="thetaE"):
        profile.deflection(0.0, 0.0, thetaE=1.0, **PARAMS[name])
    required = profile.required[0]
    kwargs = {k: v for k, v in PARAMS[name].items() if k != required}
    with pytest.raises(ValueError, match=required):
        profile.deflection(0.0, 0.0, **kwargs)


@pytest.mark.parametrize("name,key", [("SIS", "theta_E"), ("SIE", "theta_E"), ("POINT_MASS", "theta_E"),
                                      ("NFW", "Rs"), ("TNFW", "r_trunc"), ("AXION_VORTEX", "half_length"),
                                      ("AXION_VORTEX_LINE", "theta_E")])
def test_negative_parameters_are_rejected(name, key):
    with pytest.raises(ValueError, match=key):
        PROFILES[name]().deflection(0.0, 0.0, **dict(PARAMS[name], **{key: -0.5}))
    batch = np.array([[1.0], [-0.2]])
    with pytest.raises(ValueError, match=key):
        PROFILES[name]().convergence(0.0, 0.0, **dict(PARAMS[name], **{key: batch}))


def test_mass_model_bad_inputs():
    with pytest.raises(ValueError, match="NIE"):
        MassModel(["SIE", "NIE"])
    with pytest.raises(TypeError, match="profile_names"):
        MassModel("SIE")
    model = MassModel(["SIS", "SHEAR"])
    with pytest.raises(ValueError, match="kwargs_list"):
        model.deflection(0.0, 0.0, [{"theta_E": 1.0}])
    with pytest.raises(TypeError, match="kwargs_list"):
        model.deflection(0.0, 0.0, {"theta_E": 1.0})
    with pytest.raises(ValueError, match="gamma"):
        model.deflection(0.0, 0.0, [{"theta_E": 1.0}, {"gamma_1": 0.1, "gamma2": 0.0}])
    with pytest.raises(TypeError, match="n_points"):
        PROFILES["AXION_VORTEX"]().deflection(0.0, 0.0, **dict(PARAMS["AXION_VORTEX"], n_points=2.5))
