"""Mass profiles against lenstronomy's LensModel on random parameters and positions."""

import numpy as np
import pytest
from lenstronomy.LensModel.lens_model import LensModel

from lensml.physics import PROFILES, MassModel

from ._helpers import assert_close, run, to_numpy

NUM_DRAWS = 120
NUM_POSITIONS = 24


def _positions(rng, params, min_distance):
    """Random positions in [-3, 3]^2 at least ``min_distance`` from the profile centre."""
    cx = np.asarray(params.get("center_x", params.get("ra_0", np.zeros((NUM_DRAWS, 1)))))
    cy = np.asarray(params.get("center_y", params.get("dec_0", np.zeros((NUM_DRAWS, 1)))))
    x = rng.uniform(-3, 3, (NUM_DRAWS, NUM_POSITIONS))
    y = rng.uniform(-3, 3, (NUM_DRAWS, NUM_POSITIONS))
    r = np.hypot(x - cx, y - cy)
    far = r >= min_distance
    # Push close positions outwards along their direction.
    scale = np.where(far, 1.0, min_distance / np.maximum(r, 1e-3))
    return cx + (x - cx) * scale, cy + (y - cy) * scale


def _draw(name, rng):
    u = lambda lo, hi: rng.uniform(lo, hi, (NUM_DRAWS, 1))  # noqa: E731
    if name == "SIS":
        return {"theta_E": u(0.05, 3.0), "center_x": u(-0.5, 0.5), "center_y": u(-0.5, 0.5)}
    if name == "SIE":
        return {
            "theta_E": u(0.05, 3.0),
            "e1": u(-0.4, 0.4),
            "e2": u(-0.4, 0.4),
            "center_x": u(-0.5, 0.5),
            "center_y": u(-0.5, 0.5),
        }
    if name == "SHEAR":
        return {"gamma1": u(-0.2, 0.2), "gamma2": u(-0.2, 0.2), "ra_0": u(-0.5, 0.5), "dec_0": u(-0.5, 0.5)}
    if name == "POINT_MASS":
        return {"theta_E": u(0.01, 1.5), "center_x": u(-1, 1), "center_y": u(-1, 1)}
    if name == "NFW":
        return {"Rs": u(0.2, 2.0), "alpha_Rs": u(0.01, 1.5), "center_x": u(-0.5, 0.5), "center_y": u(-0.5, 0.5)}
    if name == "TNFW":
        rs = u(0.2, 2.0)
        return {"Rs": rs, "alpha_Rs": u(0.01, 1.5), "r_trunc": rs * u(0.3, 20.0),
                "center_x": u(-0.5, 0.5), "center_y": u(-0.5, 0.5)}
    raise KeyError(name)


def _reference(name, method, x, y, params):
    model = LensModel([name])
    out = []
    for i in range(NUM_DRAWS):
        kw = {k: float(v[i, 0]) for k, v in params.items()}
        value = getattr(model, method)(x[i], y[i], [kw])
        value = value if isinstance(value, tuple) else (value,)
        out.append(np.stack(np.broadcast_arrays(*value, x[i])[:-1]))
    return np.stack(out, axis=1)  # (components, draws, positions)


CLOSED_FORM = ["SIS", "SIE", "SHEAR", "POINT_MASS", "NFW", "TNFW"]


def _all_quantities(x, y, profile, **params):
    ax, ay = profile.deflection(x, y, **params)
    return ax, ay, profile.potential(x, y, **params), profile.convergence(x, y, **params)


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_profile_matches_lenstronomy(name, rng):
    """Deflection, potential and convergence on NUM_DRAWS random parameter sets."""
    params = _draw(name, rng)
    x, y = _positions(rng, params, min_distance=0.02)
    ax, ay, psi, kappa = run(_all_quantities, x.astype("float32"), y.astype("float32"),
                             profile=PROFILES[name](), **params)
    ref = _reference(name, "alpha", x, y, params)
    assert_close(ax, ref[0], err_msg=f"{name} alpha_x")
    assert_close(ay, ref[1], err_msg=f"{name} alpha_y")
    assert_close(psi, _reference(name, "potential", x, y, params)[0], err_msg=f"{name} potential")
    if name != "POINT_MASS":  # lenstronomy's point-mass "kappa" is its (zero-trace) Hessian
        # lenstronomy differentiates the SIE deflection numerically (step 1e-10) for kappa.
        assert_close(kappa, _reference(name, "kappa", x, y, params)[0],
                     atol_frac=1e-5 if name != "SHEAR" else 0.0, err_msg=f"{name} convergence")


def test_point_mass_convergence_is_zero_off_centre(rng):
    x = rng.uniform(-2, 2, 50).astype("float32")
    kappa = to_numpy(PROFILES["POINT_MASS"]().convergence(x, x + 0.3, theta_E=0.5))
    assert np.all(kappa == 0)


def test_point_mass_deflection_analytic():
    # theta_E^2 / r along the direction to the mass: at r = 2 theta_E it is theta_E / 2.
    ax, ay = PROFILES["POINT_MASS"]().deflection(
        np.array([1.0 + 0.6], "float32"), np.array([-0.5], "float32"), theta_E=0.3, center_x=1.0, center_y=-0.5
    )
    np.testing.assert_allclose(to_numpy(ax), [0.15], rtol=1e-6)
    np.testing.assert_allclose(to_numpy(ay), [0.0], atol=1e-7)


def test_sie_round_limit_is_sis(rng):
    x = rng.uniform(-2, 2, 200).astype("float32")
    y = rng.uniform(-2, 2, 200).astype("float32")
    sie, sis = run(lambda x, y: (PROFILES["SIE"]().deflection(x, y, theta_E=1.3, e1=0.0, e2=0.0),
                                 PROFILES["SIS"]().deflection(x, y, theta_E=1.3)), x, y)
    assert_close(sie[0], to_numpy(sis[0]))
    assert_close(sie[1], to_numpy(sis[1]))


def test_composite_model_is_the_sum_and_batches(rng):
    names = ["SIE", "SHEAR", "POINT_MASS"]
    model = MassModel(names)
    batch = 3
    theta_E = rng.uniform(0.5, 2, (batch, 1, 1))
    kwargs = [
        {"theta_E": theta_E, "e1": 0.1, "e2": -0.05},
        {"gamma1": 0.05, "gamma2": 0.0},
        {"theta_E": 0.1, "center_x": 0.4, "center_y": -0.2},
    ]
    x = rng.uniform(-2, 2, (1, 5, 5)).astype("float32")
    y = rng.uniform(-2, 2, (1, 5, 5)).astype("float32")
    def everything(x, y):
        return (model.deflection(x, y, kwargs), model.ray_shoot(x, y, kwargs),
                model.convergence(x, y, kwargs), model.potential(x, y, kwargs))

    (ax, ay), (bx, by), kappa, psi = run(everything, x, y)
    assert tuple(ax.shape) == (batch, 5, 5)
    lens = LensModel(names)
    for b in range(batch):
        kw = [dict(kwargs[0], theta_E=float(theta_E[b, 0, 0])), kwargs[1], kwargs[2]]
        rx, ry = lens.alpha(x[0].ravel(), y[0].ravel(), kw)
        assert_close(to_numpy(ax)[b].ravel(), rx)
        assert_close(to_numpy(ay)[b].ravel(), ry)
    assert_close(bx, x - to_numpy(ax))
    assert_close(by, y - to_numpy(ay))
    assert tuple(kappa.shape) == tuple(psi.shape) == (batch, 5, 5)


def _vortex_draws(rng, n):
    u = lambda lo, hi: rng.uniform(lo, hi, (n, 1))  # noqa: E731
    return {"theta_E": u(0.05, 0.6), "half_length": u(0.05, 1.5), "angle": u(0, np.pi),
            "center_x": u(-0.3, 0.3), "center_y": u(-0.3, 0.3)}


def _away_from_line(rng, p, n_pos, min_distance=0.1):
    """Positions at least ``min_distance`` from the vortex segment."""
    x = rng.uniform(-3, 3, (p["theta_E"].shape[0], n_pos))
    y = rng.uniform(-3, 3, x.shape)
    cos, sin = np.cos(p["angle"]), np.sin(p["angle"])
    du, dv = x - p["center_x"], y - p["center_y"]
    along = du * cos + dv * sin
    across = -du * sin + dv * cos
    gap = np.hypot(np.maximum(np.abs(along) - p["half_length"], 0), across)
    push = np.where(gap < min_distance, min_distance + 0.05, 0.0) * np.where(across >= 0, 1, -1)
    return x - push * sin, y + push * cos


def test_axion_vortex_is_a_line_of_lenstronomy_point_masses(rng):
    n_points, draws = 20, 100
    p = _vortex_draws(rng, draws)
    x, y = _away_from_line(rng, p, 12, min_distance=0.02)
    profile = PROFILES["AXION_VORTEX"]()
    ax, ay = run(profile.deflection, x.astype("float32"), y.astype("float32"), n_points=n_points, **p)
    psi = run(profile.potential, x.astype("float32"), y.astype("float32"), n_points=n_points, **p)
    lens = LensModel(["POINT_MASS"] * n_points)
    ref = np.zeros((3,) + x.shape)
    frac = np.linspace(-1, 1, n_points)
    for i in range(draws):
        d = {k: float(v[i, 0]) for k, v in p.items()}
        kw = [{"theta_E": d["theta_E"] / np.sqrt(n_points),
               "center_x": d["center_x"] + f * d["half_length"] * np.cos(d["angle"]),
               "center_y": d["center_y"] + f * d["half_length"] * np.sin(d["angle"])} for f in frac]
        ref[0, i], ref[1, i] = lens.alpha(x[i], y[i], kw)
        ref[2, i] = lens.potential(x[i], y[i], kw)
    assert_close(ax, ref[0])
    assert_close(ay, ref[1])
    assert_close(psi, ref[2])
    assert to_numpy(profile.convergence(x, y, n_points=n_points, **p)).max() == 0


def test_collinear_point_masses_match_lenstronomy(rng):
    # The line-frame sum of the batched simulator's axion class (and of AXION_VORTEX): K point
    # masses of unequal theta_E at unequal signed offsets on a line through the origin.
    from lensml.physics.mass.axion import collinear_point_mass_deflection

    k, draws = 5, 6
    angle = rng.uniform(0, 2 * np.pi, draws)
    t = rng.uniform(-1.0, 1.0, (draws, k))
    theta = rng.uniform(0.01, 0.2, (draws, k))
    x, y = rng.uniform(-2, 2, (2, draws, 7, 7))
    col = lambda v: v.reshape(-1, 1, 1).astype("float32")  # noqa: E731
    ax, ay = (to_numpy(a) for a in collinear_point_mass_deflection(
        x.astype("float32"), y.astype("float32"), col(angle), [col(t[:, i]) for i in range(k)],
        [col(theta[:, i]) for i in range(k)]))
    lens = LensModel(["POINT_MASS"] * k)
    for i in range(draws):
        kw = [{"theta_E": theta[i, j], "center_x": t[i, j] * np.cos(angle[i]), "center_y": t[i, j] * np.sin(angle[i])}
              for j in range(k)]
        rx, ry = lens.alpha(x[i], y[i], kw)
        assert_close(ax[i], rx)
        assert_close(ay[i], ry)
    with pytest.raises(ValueError, match="offsets"):
        collinear_point_mass_deflection(x, y, 0.0, [0.1], [])


def test_axion_vortex_line_matches_numerical_integral(rng):
    from scipy.integrate import quad

    p = _vortex_draws(rng, 100)
    x, y = _away_from_line(rng, p, 3, min_distance=0.1)
    ax, ay = run(PROFILES["AXION_VORTEX_LINE"]().deflection, x.astype("float32"), y.astype("float32"), **p)
    psi = run(PROFILES["AXION_VORTEX_LINE"]().potential, x.astype("float32"), y.astype("float32"), **p)
    ref = np.zeros((3,) + x.shape)
    for i in range(x.shape[0]):
        d = {k: float(v[i, 0]) for k, v in p.items()}
        lam = d["theta_E"] ** 2 / (2 * d["half_length"])
        for j in range(x.shape[1]):
            def offset(t):
                return (x[i, j] - d["center_x"] - t * np.cos(d["angle"]),
                        y[i, j] - d["center_y"] - t * np.sin(d["angle"]))
            lo, hi = -d["half_length"], d["half_length"]
            ref[0, i, j] = quad(lambda t: lam * offset(t)[0] / np.hypot(*offset(t)) ** 2, lo, hi, epsabs=1e-12)[0]
            ref[1, i, j] = quad(lambda t: lam * offset(t)[1] / np.hypot(*offset(t)) ** 2, lo, hi, epsabs=1e-12)[0]
            ref[2, i, j] = quad(lambda t: lam * np.log(np.hypot(*offset(t))), lo, hi, epsabs=1e-12)[0]
    assert_close(ax, ref[0])
    assert_close(ay, ref[1])
    assert_close(psi, ref[2])


def test_axion_vortex_line_limits(rng):
    x = rng.uniform(-2, 2, 50).astype("float32")
    y = rng.uniform(-2, 2, 50).astype("float32")
    kw = dict(theta_E=0.4, half_length=0.5, angle=0.3, center_x=0.1)
    far = np.hypot(x - 0.1, y) > 0.8

    def limits(x, y, xf, yf):
        return (PROFILES["AXION_VORTEX_LINE"]().deflection(x, y, theta_E=0.4, half_length=0.0, angle=0.3),
                PROFILES["POINT_MASS"]().deflection(x, y, theta_E=0.4),
                PROFILES["AXION_VORTEX"]().deflection(xf, yf, n_points=400, **kw),
                PROFILES["AXION_VORTEX_LINE"]().deflection(xf, yf, **kw))

    zero_length, point, dense, line = run(limits, x, y, x[far], y[far])
    # a zero-length line is a point mass
    assert_close(zero_length[0], to_numpy(point[0]))
    # many point masses converge to the line (away from it)
    assert_close(dense[0], to_numpy(line[0]), rtol=2e-3, atol_frac=2e-3)


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_hessian_matches_lenstronomy(name, rng):
    """(f_xx, f_xy, f_yx, f_yy): closed form for SIS, SHEAR, POINT_MASS, autodiff of the
    deflection (lensml.physics.autodiff) for SIE, NFW, TNFW; the convergence is half its trace."""
    params = _draw(name, rng)
    x, y = _positions(rng, params, min_distance=0.05)
    profile = PROFILES[name]()
    hess = run(lambda x, y, **p: profile.hessian(x, y, **p), x.astype("float32"), y.astype("float32"), **params)
    ref = _reference(name, "hessian", x, y, params)
    for k, part in enumerate(("f_xx", "f_xy", "f_yx", "f_yy")):
        assert_close(hess[k], ref[k], rtol=1e-3, atol_frac=1e-4, err_msg=f"{name} {part}")
    if name != "POINT_MASS":
        kappa = run(lambda x, y, **p: profile.convergence(x, y, **p), x.astype("float32"), y.astype("float32"),
                    **params)
        assert_close(0.5 * (to_numpy(hess[0]) + to_numpy(hess[3])), to_numpy(kappa), rtol=1e-3, atol_frac=1e-4,
                     err_msg=f"{name} kappa = tr(H) / 2")


@pytest.mark.parametrize("name", ["SIS", "SHEAR", "POINT_MASS"])
def test_closed_form_hessian_equals_autodiff(name, rng):
    from lensml.physics.mass.base import MassProfile

    params = _draw(name, rng)
    x, y = _positions(rng, params, min_distance=0.05)
    profile = PROFILES[name]()

    def both(x, y, **p):
        q = profile.parse_kwargs(p)
        return profile._hessian(x, y, **q), MassProfile._hessian(profile, x, y, **q)

    closed, auto = run(both, x.astype("float32"), y.astype("float32"), **params)
    for c, a in zip(closed, auto):
        assert_close(c, to_numpy(a), rtol=1e-4, atol_frac=1e-5, err_msg=name)


def test_magnification_matches_lenstronomy(rng):
    names = ["SIE", "SHEAR", "NFW"]
    kwargs = [{"theta_E": 1.2, "e1": 0.1, "e2": -0.05}, {"gamma1": 0.05, "gamma2": 0.02},
              {"Rs": 0.5, "alpha_Rs": 0.1, "center_x": 0.7, "center_y": -0.3}]
    x = rng.uniform(-2.5, 2.5, 300)
    y = rng.uniform(-2.5, 2.5, 300)
    mu = to_numpy(run(lambda x, y: MassModel(names).magnification(x, y, kwargs), x.astype("float32"),
                      y.astype("float32")))
    ref = LensModel(names).magnification(x, y, kwargs)
    keep = np.abs(ref) < 50  # away from the critical curves, where float32 cannot follow 1/det
    assert keep.sum() > 250
    assert_close(mu[keep], ref[keep], rtol=2e-3, atol_frac=1e-4)
