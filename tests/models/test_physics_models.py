"""Physics-informed models: D4 U-Net equivariance, D4-TTA invariance, LensPINN's source
reconstruction, D4LensPINN's physics losses and their two-phase schedule."""

import numpy as np
import pytest
import keras

import lensml.models as M
from lensml.layers import d4_transform, normalize_images
from lensml.models.d4unet import d4_unet
from lensml.physics import InverseLens, PoissonSolver, SISDeflection
from tests.models._configs import TINY


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _rel_err(a, b):
    return float(np.max(np.abs(_np(a) - _np(b))) / (np.max(np.abs(_np(b))) + 1e-12))


@pytest.mark.parametrize("size", [16, 18])
def test_d4_unet_output_is_invariant(rng, size):
    inputs = keras.Input((size, size, 2))
    unet = keras.Model(inputs, d4_unet(inputs, fields=(2, 3, 4), stem_kernel=5))
    x = rng.random((2, size, size, 2)).astype("float32")
    # Random batch-norm statistics so that the check is not trivially about zeros.
    for w in unet.non_trainable_weights:
        w.assign(rng.uniform(0.5, 1.5, w.shape).astype("float32"))
    stacked = np.concatenate([_np(d4_transform(x, g)) for g in range(8)])
    out = _np(unet.predict(stacked, verbose=0))
    base = out[:2]
    assert base.shape == (2, size, size, 1) and (base >= 0).all()
    for g in range(1, 8):
        assert _rel_err(out[2 * g:2 * g + 2], d4_transform(base, g)) < 1e-5, g


@pytest.fixture(scope="module")
def d4lenspinn():
    return M.build("d4lenspinn", input_shape=(32, 32, 1), pixel_scale=0.2, **TINY["d4lenspinn"])


def test_d4lenspinn_kappa_is_invariant(d4lenspinn, rng):
    kappa_model = keras.Model(d4lenspinn.inputs, d4lenspinn.get_layer("kappa").output)
    x = rng.random((1, 32, 32, 1)).astype("float32") + 0.05
    stacked = np.concatenate([_np(d4_transform(x, g)) for g in range(8)])
    out = _np(kappa_model.predict(stacked, verbose=0))
    for g in range(1, 8):
        assert _rel_err(out[g:g + 1], d4_transform(out[:1], g)) < 1e-5, g


def test_vanilla_lenspinn_kappa_is_not_invariant(rng):
    """The paper's sanity check: the plain U-Net's convergence map must *not* be D4-invariant
    (else the ablation compares the D4 model with itself); same pipeline layers otherwise."""
    vanilla = M.build("vanilla_lenspinn", input_shape=(32, 32, 1), pixel_scale=0.2, **TINY["vanilla_lenspinn"])
    assert not any("lift" in layer.name for layer in vanilla.layers)
    assert {"kappa", "poisson", "source", "residual"} <= {layer.name for layer in vanilla.layers}
    kappa_model = keras.Model(vanilla.inputs, vanilla.get_layer("kappa").output)
    x = rng.random((1, 32, 32, 1)).astype("float32") + 0.05
    out = _np(kappa_model.predict(np.concatenate([_np(d4_transform(x, g)) for g in range(8)]), verbose=0))
    assert max(_rel_err(out[g:g + 1], d4_transform(out[:1], g)) for g in range(1, 8)) > 1e-3


def test_d4lenspinn_with_the_papers_sobel_product(rng, tmp_path):
    """preprocessing="sobel_product": the paper's signed input channel, so the D4 U-Net's
    convergence is no longer invariant (a mirror flips the channel's sign); saved and reloaded."""
    model = M.build("d4lenspinn", input_shape=(32, 32, 1), pixel_scale=0.2, preprocessing="sobel_product",
                    **TINY["d4lenspinn"])
    assert type(model.get_layer("preprocessing")).__name__ == "SobelProduct"
    kappa_model = keras.Model(model.inputs, model.get_layer("kappa").output)
    x = rng.random((1, 32, 32, 1)).astype("float32") + 0.05
    out = _np(kappa_model.predict(np.concatenate([_np(d4_transform(x, g)) for g in range(8)]), verbose=0))
    assert max(_rel_err(out[g:g + 1], d4_transform(out[:1], g)) for g in range(1, 8)) > 1e-4
    model.save(tmp_path / "sobel.keras")
    loaded = keras.saving.load_model(tmp_path / "sobel.keras")
    np.testing.assert_allclose(_np(loaded.predict(x, verbose=0)), _np(model.predict(x, verbose=0)), atol=1e-5)
    with pytest.raises(ValueError, match="preprocessing"):
        M.build("d4lenspinn", input_shape=(32, 32, 1), preprocessing="sobel", **TINY["d4lenspinn"])


@pytest.mark.slow
def test_d4tta_is_invariant(d4lenspinn, rng, tmp_path):
    tta = M.D4TTA(d4lenspinn)
    x = rng.random((2, 32, 32, 1)).astype("float32")
    stacked = np.concatenate([_np(d4_transform(x, g)) for g in range(8)])
    out = _np(tta.predict(stacked, verbose=0))
    for g in range(1, 8):
        np.testing.assert_allclose(out[2 * g:2 * g + 2], out[:2], atol=1e-5)
    path = tmp_path / "tta.keras"
    tta.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_np(loaded.predict(x, verbose=0)), out[:2], atol=1e-5)


def test_d4tta_spatial_outputs_are_equivariant(rng):
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(inputs))
    tta = M.D4TTA(model, spatial_output=True)
    x = rng.random((1, 8, 8, 1)).astype("float32")
    base = _np(tta(x))
    for g in range(1, 8):
        assert _rel_err(tta(_np(d4_transform(x, g))), d4_transform(base, g)) < 1e-5


def test_lenspinn_source_is_inverse_lens_with_predicted_radius(rng):
    model = M.build("lenspinn_small", input_shape=(32, 32, 1), pixel_scale=0.1,
                    **TINY["lenspinn_small"])
    probe = keras.Model(model.inputs, [model.get_layer("einstein_radius").output,
                                       model.get_layer("source").output])
    x = rng.random((3, 32, 32, 1)).astype("float32")
    theta_E, source = (_np(t) for t in probe.predict(x, verbose=0))
    x = _np(normalize_images(x, "minmax"))  # the model lenses its input contract's images
    # Bounded to (0.05", half the 3.2" field of view): a runaway radius empties the source.
    assert theta_E.shape == (3, 1) and (theta_E > 0.05).all() and (theta_E < 1.6).all()
    alpha = SISDeflection(0.1)([np.ones_like(x), theta_E])
    expected = InverseLens(0.1)([x, alpha])
    # Compiled vs eager summation order in the splat: float32 rounding only.
    np.testing.assert_allclose(source, _np(expected), rtol=1e-4, atol=1e-5)


def test_lenspinn_einstein_radius_range_is_checked():
    with pytest.raises(ValueError, match="theta_E_range"):
        M.build("lenspinn_small", input_shape=(32, 32, 1), theta_E_init=2.0,
                theta_E_range=(0.1, 1.0), **TINY["lenspinn_small"])


def test_lensformer_k_map_range(rng):
    model = M.build("lensformer", input_shape=(32, 32, 1), **TINY["lensformer"])
    probe = keras.Model(model.inputs, model.get_layer("k_map").output)
    k = _np(probe.predict(rng.random((2, 32, 32, 1)).astype("float32"), verbose=0))
    assert k.shape == (2, 32, 32, 1) and (k >= 0.8).all() and (k <= 1.2).all()


def test_physics_loss_terms():
    layer = M.PhysicsLoss(0.1, initial_phase=1.0)
    kappa = np.full((1, 16, 16, 1), 0.5, "float32")
    psi, _ = PoissonSolver(0.1)(kappa)
    tv, l1, centre, poisson = (float(_np(t)) for t in layer.terms(kappa, psi))
    assert tv == 0.0 and l1 == pytest.approx(0.5)
    r = (np.arange(16) - 7.5) * 0.1
    assert centre == pytest.approx(0.5 * np.mean(r[:, None] ** 2 + r[None, :] ** 2), rel=1e-5)
    # psi solves the Poisson equation: the residual is discretisation error only.
    assert poisson < 0.05
    layer([kappa, psi])
    assert float(_np(layer.losses[0])) > 0
    layer.phase.assign(0.0)
    layer([kappa, psi])
    assert float(_np(layer.losses[-1])) == 0.0


@pytest.mark.slow
def test_physics_schedule_switches_inside_fit(d4lenspinn, rng):
    # The compiled train and test steps (the other tests check invariance, which holds for
    # any weights, so training the shared model is harmless).
    model = d4lenspinn
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=M.default_jit_compile())
    x = rng.random((2, 32, 32, 1)).astype("float32")
    y = np.array([0, 2])
    phases = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            phases.append(float(_np(self.model.get_layer("kappa").phase)))

    history = model.fit(x, y, batch_size=2, epochs=2, verbose=0,
                        callbacks=[M.PhysicsLossSchedule(1), Record()])
    assert phases == [0.0, 1.0]
    assert all(np.isfinite(history.history["loss"]))
    # The compiled loss reads the phase variable: switching it changes the loss.
    M.set_physics_phase(model, 0.0)
    off = model.evaluate(x, y, verbose=0)
    M.set_physics_phase(model, 1.0)
    on = model.evaluate(x, y, verbose=0)
    assert on > off
    with pytest.raises(ValueError, match="phase2_epoch"):
        M.PhysicsLossSchedule(-1)
    plain = M.build("resnet18", (32, 32, 1), **TINY["resnet18"])
    plain.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="no PhysicsLoss"):
        plain.fit(rng.random((2, 32, 32, 1)).astype("float32"), y, epochs=1, verbose=0,
                  callbacks=[M.PhysicsLossSchedule(0)])
