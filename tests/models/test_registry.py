"""Registry behaviour, heads, encoders, bad input, compile defaults."""

import numpy as np
import pytest
import keras

import lensml.models as M
from tests.models._configs import TINY


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match="unknown model name 'resnet19'.*resnet18.*vit"):
        M.build("resnet19")
    with pytest.raises(ValueError, match="known models"):
        M.build_encoder("nope", (64, 64, 1))


@pytest.mark.parametrize("shape", [(64, 64, 3), (64, 64, 2)])
def test_wrong_channel_count(shape):
    with pytest.raises(ValueError, match="expected 1 channel"):
        M.build("resnet18", input_shape=shape, **TINY["resnet18"])


def test_wrong_channels_at_call_time(rng):
    model = M.build("vit", input_shape=(16, 16, 1), patch_size=4, **TINY["vit"])
    with pytest.raises(ValueError):
        model(rng.random((1, 16, 16, 3)).astype("float32"))


def test_bad_shapes_and_options():
    with pytest.raises(ValueError, match="rank 3"):
        M.build("resnet18", input_shape=(64, 64))
    with pytest.raises(ValueError, match="not divisible by patch_size=10"):
        M.build("vit", input_shape=(64, 64, 1), patch_size=10, **TINY["vit"])
    with pytest.raises(ValueError, match="not divisible by patch_size=7"):
        M.build("lensformer", input_shape=(64, 64, 1), patch_size=7, **TINY["lensformer"])
    with pytest.raises(ValueError, match="even image size"):
        M.build("d4lenspinn", input_shape=(63, 63, 1), **TINY["d4lenspinn"])
    with pytest.raises(ValueError, match="task"):
        M.build("resnet18", task="segmentation")
    with pytest.raises(ValueError, match="num_classes"):
        M.build("resnet18", num_classes=1)
    with pytest.raises(ValueError, match="has no option 'not_an_option'; its options: "):
        M.build("resnet18", **TINY["resnet18"], not_an_option=3)


def test_auto_patch_size():
    from lensml.models.vit import resolve_patch_size

    assert resolve_patch_size(64, None, 8) == 8
    assert resolve_patch_size(150, None, 8) == 15
    assert resolve_patch_size(64, None, 2) == 32
    assert resolve_patch_size(150, None, 2) == 75


def test_logits_regression_and_encoder(rng):
    x = rng.random((2, 32, 32, 1)).astype("float32")
    logits = M.build("resnet18", (32, 32, 1), 3, classifier_activation=None, **TINY["resnet18"])
    assert logits.get_layer("predictions").activation is keras.activations.linear
    reg = M.build("resnet18", (32, 32, 1), task="regression", head_hidden=(8,), **TINY["resnet18"])
    assert reg.output_shape == (None, 1)
    assert reg.get_layer("regression").activation is keras.activations.linear
    enc = M.build_encoder("resnet18", (32, 32, 1), **TINY["resnet18"])
    assert enc.output_shape == (None, 32)
    assert np.asarray(enc(x)).shape == (2, 32)


def test_regression_target_range_starts_at_the_prior_centre(rng, tmp_path):
    """A regression head told the axion prior (-24, -22) dex predicts near its centre at
    initialisation (a plain head starts near 0, ~23 dex off) and round-trips through .keras."""
    x = rng.random((3, 32, 32, 1)).astype("float32")
    plain = M.build("resnet18", (32, 32, 1), task="regression", **TINY["resnet18"])
    ranged = M.build("resnet18", (32, 32, 1), task="regression", target_range=(-24.0, -22.0), **TINY["resnet18"])
    assert np.all(np.abs(np.asarray(plain(x))) < 5)
    y = np.asarray(ranged(x))
    assert np.all(np.abs(y + 23.0) < 1.0), y
    path = tmp_path / "reg.keras"
    ranged.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(x), y, rtol=1e-6)
    with pytest.raises(ValueError, match="target_range"):
        M.build("resnet18", (32, 32, 1), task="regression", target_range=(-22.0, -24.0), **TINY["resnet18"])


def test_super_resolution(rng, tmp_path):
    model = M.build_super_resolution((16, 16, 1), scale=4, filters=4, num_blocks=1)
    assert model.output_shape == (None, 64, 64, 1)
    model.compile("adam", "mse", jit_compile=M.default_jit_compile())
    lo = rng.random((4, 16, 16, 1)).astype("float32")
    hi = rng.random((4, 64, 64, 1)).astype("float32")
    model.fit(lo, hi, batch_size=2, epochs=1, verbose=0)
    path = tmp_path / "sr.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(lo, verbose=0), model.predict(lo, verbose=0),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="power of two"):
        M.build_super_resolution(scale=3)


def test_default_jit_compile():
    from lensml.models.compile import accelerator_available

    backend = keras.backend.backend()
    expected = True if backend == "jax" else accelerator_available()
    assert M.default_jit_compile() is expected
    assert M.default_jit_compile("resnet18") is expected
    assert M.default_jit_compile("my_own_model") is expected
    # Lensformer trains faster under XLA than in TF's graph mode on a CPU (bench_models).
    assert M.default_jit_compile("lensformer") is (backend in ("jax", "tensorflow"))


@pytest.mark.parametrize("name", ["lensformer", "resnet18"])
def test_compile_auto_gives_the_models_default(name):
    # A user who calls compile() without jit_compile gets default_jit_compile(model).
    model = M.build(name, input_shape=(32, 32, 1), **TINY[name])
    model.compile("adam", "sparse_categorical_crossentropy")
    assert model.jit_compile is M.default_jit_compile(name)
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=False)
    assert model.jit_compile is False
