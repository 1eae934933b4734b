"""The physics intermediates of LensPINN, Lensformer and D4LensPINN read on test images."""

import numpy as np
import pytest

from lensml.evaluation.physics_branch import branch_layers, physics_branch_summary
from lensml.models import build

SHAPE = (32, 32, 1)
PINN = dict(embed_dim=16, key_dim=8, decoder_features=16, decoder_options={"alpha": 0.1})


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((6, *SHAPE)).astype("float32")


def test_einstein_radius_spread_bounds_and_correlation_with_the_truth(images):
    model = build("lenspinn_small", SHAPE, **PINN)
    truth = np.linspace(0.5, 1.5, 6)
    radius = physics_branch_summary(model, images, theta_E=truth, batch_size=4)["einstein_radius"]
    assert radius["low_bound"] == pytest.approx(0.05) and radius["high_bound"] == pytest.approx(0.5 * 32 * 0.101)
    assert radius["low_bound"] < radius["min"] <= radius["mean"] <= radius["max"] < radius["high_bound"]
    assert radius["at_lower_bound"] == 0 and -1 <= radius["pearson_r"] <= 1 and radius["true_mean"] == pytest.approx(1.0)


def test_a_branch_collapsed_to_its_lower_bound_is_reported_as_such(images):
    model = build("lenspinn_small", SHAPE, **PINN)
    dense = model.get_layer("einstein_radius_unit")
    kernel, bias = dense.get_weights()
    dense.set_weights([np.zeros_like(kernel), np.full_like(bias, -30.0)])  # sigmoid -> 0: theta_E at 0.05"
    radius = physics_branch_summary(model, images, theta_E=np.linspace(0.5, 1.5, 6))["einstein_radius"]
    assert radius["at_lower_bound"] == 1.0 and radius["pearson_r"] is None  # a constant correlates with nothing
    assert radius["median_abs_error"] == pytest.approx(np.median(np.abs(0.05 - np.linspace(0.5, 1.5, 6))), abs=1e-4)


def test_k_map_and_convergence_maps(images):
    k = physics_branch_summary(build("lensformer", SHAPE, embed_dim=16, key_dim=8), images)["k_map"]
    assert (k["low_bound"], k["high_bound"]) == pytest.approx((0.8, 1.2))
    assert 0.8 <= k["min"] <= k["max"] <= 1.2 and k["within_image_range"] >= 0 and "across_image_std" in k
    d4 = build("d4lenspinn", SHAPE, unet_fields=[1, 1, 1, 1],
               head_options={"width_coefficient": 0.1, "depth_coefficient": 0.1})
    kappa = physics_branch_summary(d4, images, convergence=np.ones((6, *SHAPE)) + images)["kappa"]
    assert -1 <= kappa["pearson_r"] <= 1 and kappa["true_mean"] > 1


def test_the_oracle_unlenses_with_the_given_radius_and_round_trips(images, tmp_path):
    import keras

    model = build("lenspinn_small", SHAPE, theta_E_fixed=0.8, **PINN)
    assert branch_layers(model) == [] and "einstein_radius_fixed" in {l.name for l in model.layers}
    model.save(tmp_path / "oracle.keras")
    again = keras.saving.load_model(tmp_path / "oracle.keras")
    np.testing.assert_allclose(again.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="theta_E_fixed"):
        build("lenspinn_small", SHAPE, theta_E_fixed=-1.0, **PINN)


def test_models_without_a_branch_and_bad_input(images):
    assert branch_layers(build("resnet18", SHAPE, width=4)) == []
    assert physics_branch_summary(build("resnet18", SHAPE, width=4), images) == {}
    assert branch_layers(build("lenspinn_small", SHAPE, physics=False, **PINN)) == []
    with pytest.raises(ValueError, match="images"):
        physics_branch_summary(build("lenspinn_small", SHAPE, **PINN), images[..., 0])
    with pytest.raises(ValueError, match="theta_E"):
        physics_branch_summary(build("lenspinn_small", SHAPE, **PINN), images, theta_E=[1.0, 2.0])
