"""Every registered model: builds at 64x64 and 150x150, trains two steps, round-trips .keras."""

import numpy as np
import pytest
import keras

import lensml.models as M
from tests.models._configs import TINY

#: Every registered model is tested here: a new model needs no test line (its ``tiny`` size,
#: registered beside it, keeps the test fast).
NAMES = M.available()
#: The models of the papers (a registry that lost one fails here).
PAPER_MODELS = [
    "resnet18", "resnet50", "vit", "vitsd", "cait", "cvt", "efficientnet_b0", "efficientnetv2_s",
    "mobilenetv3_small", "mobilenetv3_large", "lensformer", "lenspinn_small", "lenspinn_large",
    "d4lenspinn", "vanilla_lenspinn",
]


def test_registry_names():
    assert set(PAPER_MODELS) <= set(NAMES)
    assert set(TINY) == set(NAMES)
    assert all(M.describe(n) for n in NAMES)


# Models whose TensorFlow graph takes long to trace (keras.applications backbones, many
# layers): 20-90 s per fit on 2 cores, against ~3 s eagerly. On TensorFlow they train eagerly
# here (the same layers and maths; a compiled D4LensPINN with its EfficientNetV2 trains in
# test_physics_models); JAX always compiles (its eager mode compiles every primitive on its
# own and is slower still).
HEAVY = {"efficientnet_b0", "efficientnetv2_s", "mobilenetv3_small", "mobilenetv3_large",
         "lenspinn_small", "lenspinn_large", "d4lenspinn", "vanilla_lenspinn", "cvt", "resnet50"}


def _infer(model, x):
    """Inference the fast way per backend: an eager call on TF, a jitted predict on JAX."""
    if keras.backend.backend() == "jax":
        return model.predict(x, verbose=0)
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in NAMES])
def test_build_fit_save(name, tmp_path, rng):
    model = M.build(name, input_shape=(64, 64, 1), num_classes=3, **TINY[name])
    assert model.output_shape == (None, 3)
    eager = name in HEAVY and keras.backend.backend() == "tensorflow"
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  jit_compile=M.default_jit_compile() and not eager, run_eagerly=eager)
    x = rng.random((4, 64, 64, 1)).astype("float32")
    y = np.array([0, 1, 2, 0])
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))  # it trained
    probs = _infer(model, x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_infer(loaded, x), probs, rtol=1e-5, atol=1e-6)

    big = M.build(name, input_shape=(150, 150, 1), num_classes=3, **TINY[name])
    assert big.output_shape == (None, 3)
