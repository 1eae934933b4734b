"""Mixed precision: under ``mixed_bfloat16`` the physics layers (Poisson solve, ray shooting,
inverse lensing, SIS deflection, physics preprocessing) stay in float32 while the rest of a
physics-informed model computes in bfloat16, and the model still runs."""

import keras
import numpy as np
import pytest

from lensml.models import build
from lensml.physics import InverseLens, LensEquation, PhysicsPreprocessing, PoissonSolver, SISDeflection

PHYSICS = (PoissonSolver, InverseLens, LensEquation, SISDeflection, PhysicsPreprocessing)


@pytest.fixture
def mixed_bfloat16():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)  # other tests run in float32


def _tiny(name):
    if name == "d4lenspinn":
        return build("d4lenspinn", input_shape=(32, 32, 1), unet_fields=(2, 2, 2, 2), stem_kernel=3,
                     head_options={"width_coefficient": 0.1, "depth_coefficient": 0.1})
    return build("lenspinn_small", input_shape=(32, 32, 1), embed_dim=8, num_heads=1, key_dim=4,
                 mlp_dim=8, decoder_features=8, decoder_options={"alpha": 0.25})


@pytest.mark.parametrize("name,physics_names,run", [
    # one forward pass is enough (XLA compiles of these models are slow on CPU): D4LensPINN has
    # the Poisson solve, inverse lensing and preprocessing; SISDeflection runs in the test below.
    ("lenspinn_small", ["deflection", "source", "preprocessing"], False),
    ("d4lenspinn", ["preprocessing", "poisson", "source", "kappa"], True),
])
def test_physics_layers_stay_float32_under_mixed_bfloat16(mixed_bfloat16, name, physics_names, run):
    model = _tiny(name)
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
    layers = {layer.name: layer for layer in model._flatten_layers(include_self=False, recursive=True)}
    for layer_name in physics_names:
        layer = layers[layer_name]
        assert layer.compute_dtype == "float32" and layer.variable_dtype == "float32", layer_name
    physics = [layer for layer in layers.values() if isinstance(layer, PHYSICS)]
    assert len(physics) >= 2
    # the policy is really active elsewhere: some layer computes in bfloat16
    assert any(layer.compute_dtype == "bfloat16" for layer in layers.values())
    if not run:
        return

    probe = keras.Model(model.inputs, [model.output] + [layers[n].output for n in physics_names])
    size = model.input_shape[1]
    images = np.random.default_rng(0).random((2, size, size, 1)).astype("float32") + 0.1
    outputs = probe.predict(images, verbose=0)  # compiled: eager JAX in bfloat16 is very slow
    for layer_name, out in zip(physics_names, outputs[1:]):
        for tensor in (out if isinstance(out, (list, tuple)) else [out]):
            assert keras.backend.standardize_dtype(tensor.dtype) == "float32", layer_name
            assert np.isfinite(keras.ops.convert_to_numpy(tensor)).all(), layer_name
    probs = np.asarray(outputs[0], dtype="float32")
    assert probs.shape == (2, 3) and np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=2e-2)  # bfloat16 softmax


def test_lens_equation_and_poisson_are_float32_under_mixed_bfloat16(mixed_bfloat16):
    eq = LensEquation(["SIS"], num_pix=8, pixel_scale=0.1)
    beta = eq([{"theta_E": np.array([1.0, 1.5], "float32"), "center_x": np.zeros(2, "float32"),
                "center_y": np.zeros(2, "float32")}])
    assert eq.compute_dtype == "float32" and keras.backend.standardize_dtype(beta.dtype) == "float32"
    kappa = keras.ops.cast(keras.ops.ones((1, 8, 8, 1)), "bfloat16")  # what a bfloat16 layer hands over
    psi, alpha = PoissonSolver(0.1)(kappa)
    assert keras.backend.standardize_dtype(psi.dtype) == keras.backend.standardize_dtype(alpha.dtype) == "float32"
    assert np.isfinite(keras.ops.convert_to_numpy(alpha)).all()
    sis = SISDeflection(0.1)
    alpha = sis([kappa, keras.ops.cast(keras.ops.ones((1, 1)), "bfloat16")])
    assert sis.compute_dtype == "float32" and keras.backend.standardize_dtype(alpha.dtype) == "float32"


def test_policy_is_restored_after_the_fixture():
    assert keras.config.dtype_policy().name == "float32"


def test_d4_batch_norm_trains_under_mixed_bfloat16(mixed_bfloat16):
    from lensml.layers import D4BatchNormalization

    layer = D4BatchNormalization()
    x = keras.ops.cast(np.random.default_rng(0).random((2, 4, 4, 16)), "bfloat16")  # 2 fields x 8
    for training in (True, False):
        y = layer(x, training=training)
        assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
        assert np.isfinite(keras.ops.convert_to_numpy(keras.ops.cast(y, "float32"))).all()
    assert keras.backend.standardize_dtype(layer.moving_mean.dtype) == "float32"
