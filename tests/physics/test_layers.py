"""Every physics layer: get_config round-trip, .keras save/load (safe_mode=True), float32."""

import keras
import numpy as np
import pytest
from lenstronomy.LensModel.lens_model import LensModel

from lensml.physics import (
    InverseLens,
    LensEquation,
    PhysicsPreprocessing,
    PoissonSolver,
    SISDeflection,
    pixel_grid_numpy,
)

from ._helpers import assert_close, run, to_numpy


def _model_and_inputs(name, rng):
    if name == "InverseLens":
        inputs = [keras.Input((8, 8, 1)), keras.Input((8, 8, 2))]
        outputs = InverseLens(pixel_scale=0.1, source_num_pix=6, source_pixel_scale=0.15)(inputs)
        data = [rng.random((2, 8, 8, 1)).astype("float32"), rng.normal(0, 0.1, (2, 8, 8, 2)).astype("float32")]
    elif name == "PoissonSolver":
        inputs = keras.Input((8, 8, 1))
        outputs = PoissonSolver(pixel_scale=0.1, pad_factor=2)(inputs)
        data = rng.random((2, 8, 8, 1)).astype("float32")
    elif name == "SISDeflection":
        inputs = [keras.Input((9, 9, 1)), keras.Input((1,))]
        outputs = SISDeflection(pixel_scale=0.1, theta_E=1.0)(inputs)
        data = [rng.random((2, 9, 9, 1)).astype("float32"), np.array([[1.0], [1.5]], "float32")]
    elif name == "PhysicsPreprocessing":
        inputs = keras.Input((8, 8, 1))
        outputs = PhysicsPreprocessing(epsilon=1e-5)(inputs)
        data = rng.random((2, 8, 8, 1)).astype("float32")
    elif name == "LensEquation":
        inputs = [
            {"theta_E": keras.Input((1,)), "e1": keras.Input((1,)), "e2": keras.Input((1,))},
            {"gamma1": keras.Input((1,)), "gamma2": keras.Input((1,))},
        ]
        outputs = LensEquation(["SIE", "SHEAR"], num_pix=8, pixel_scale=0.1)(inputs)
        data = [
            {"theta_E": np.array([[1.0], [1.4]], "float32"), "e1": np.array([[0.1], [0.0]], "float32"),
             "e2": np.array([[0.0], [-0.1]], "float32")},
            {"gamma1": np.array([[0.05], [0.0]], "float32"), "gamma2": np.array([[0.0], [0.02]], "float32")},
        ]
    else:
        raise KeyError(name)
    return keras.Model(inputs, outputs), data


LAYERS = ["InverseLens", "PoissonSolver", "SISDeflection", "PhysicsPreprocessing", "LensEquation"]


@pytest.mark.parametrize("name", LAYERS)
def test_save_load_round_trip(name, rng, tmp_path):
    model, data = _model_and_inputs(name, rng)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    expected, got = run(lambda d: (model(d), loaded(d)), data)
    layer = model.layers[-1]
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert layer.compute_dtype == "float32"
    for a, b in zip(keras.tree.flatten(got), keras.tree.flatten(expected)):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_layers_pin_float32_under_mixed_precision(rng):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = PoissonSolver(pixel_scale=0.1)
        psi, alpha = layer(rng.random((1, 8, 8, 1)).astype("float32"))
        assert keras.backend.standardize_dtype(alpha.dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_lens_equation_matches_mass_model(rng):
    layer = LensEquation(["SIE", "SHEAR"], num_pix=8, pixel_scale=0.1, return_deflection=True)
    theta_E = np.array([1.0, 1.4], "float32")
    f32 = lambda v: np.full((2,), v, "float32")  # noqa: E731
    beta, alpha = run(layer, [{"theta_E": theta_E, "e1": f32(0.1), "e2": f32(0.0)},
                         {"gamma1": f32(0.05), "gamma2": f32(0.0)}])
    x, y = pixel_grid_numpy(8, 0.1)
    lens = LensModel(["SIE", "SHEAR"])
    for b in range(2):
        ax, ay = lens.alpha(x.ravel(), y.ravel(), [{"theta_E": float(theta_E[b]), "e1": 0.1, "e2": 0.0},
                                                 {"gamma1": 0.05, "gamma2": 0.0}])
        assert_close(to_numpy(alpha)[b, ..., 0], ax.reshape(8, 8))
        assert_close(to_numpy(beta)[b, ..., 1], y - ay.reshape(8, 8))


def test_sis_deflection_values_and_centre():
    k = np.full((1, 9, 9, 1), 1.1, "float32")
    alpha = to_numpy(run(SISDeflection(pixel_scale=0.1), [k, np.array([2.0], "float32")]))
    x, y = pixel_grid_numpy(9, 0.1)
    r = np.hypot(x, y)
    assert np.all(np.isfinite(alpha))
    np.testing.assert_array_equal(alpha[0, 4, 4], [0.0, 0.0])
    mask = r > 0
    np.testing.assert_allclose(alpha[0, ..., 0][mask], (2.2 * x / np.where(mask, r, 1))[mask], rtol=1e-5)
    np.testing.assert_allclose(np.hypot(alpha[0, ..., 0], alpha[0, ..., 1])[mask], 2.2, rtol=1e-5)
    with pytest.raises(ValueError, match="theta_E"):
        SISDeflection(pixel_scale=0.1)([k, np.array([-1.0], "float32")])
    with pytest.raises(ValueError, match="pixel_scale"):
        SISDeflection(pixel_scale=0.0)
    with pytest.raises(ValueError, match="k"):
        SISDeflection(pixel_scale=0.1)(np.zeros((1, 9, 9, 2), "float32"))


def test_integer_maps_are_cast_like_the_other_layers():
    """PoissonSolver and SISDeflection take integer maps (e.g. a binary mask) as the other
    physics layers do, instead of failing inside the backend's multiply."""
    import numpy as np

    from lensml.physics import PoissonSolver, SISDeflection

    ones = np.ones((1, 8, 8, 1))
    psi_i, alpha_i = PoissonSolver(0.1)(ones.astype("int32"))
    psi_f, alpha_f = PoissonSolver(0.1)(ones.astype("float32"))
    np.testing.assert_allclose(np.asarray(alpha_i), np.asarray(alpha_f), rtol=1e-6)
    sis = SISDeflection(pixel_scale=0.1)
    np.testing.assert_allclose(np.asarray(sis([ones.astype("int32"), np.ones((1, 1), "int32")])),
                               np.asarray(sis([ones.astype("float32"), np.ones((1, 1), "float32")])), rtol=1e-6)
