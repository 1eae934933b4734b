"""Every registered model: builds at 64x64 and 150x150, trains two steps, round-trips .keras."""

import numpy as np
import pytest
import keras

import lensml.models as M
from tests.models._configs import TINY

NAMES = [
    "resnet18", "resnet50", "vit", "vitsd", "cait", "cvt", "efficientnet_b0", "efficientnetv2_s",
    "mobilenetv3_small", "mobilenetv3_large", "lensformer", "lenspinn_small", "lenspinn_large",
    "d4lenspinn",
]


def test_registry_names():
    assert set(NAMES) <= set(M.available())
    assert set(TINY) == set(M.available())
    assert all(M.describe(n) for n in NAMES)


# Models with keras.applications backbones take longest (many layers to trace and compile).
HEAVY = {"efficientnet_b0", "efficientnetv2_s", "mobilenetv3_small", "mobilenetv3_large",
         "lenspinn_small", "lenspinn_large", "d4lenspinn"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in NAMES])
def test_build_fit_save(name, tmp_path, rng):
    model = M.build(name, input_shape=(64, 64, 1), num_classes=3, **TINY[name])
    assert model.output_shape == (None, 3)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  jit_compile=M.default_jit_compile())
    x = rng.random((4, 64, 64, 1)).astype("float32")
    y = np.array([0, 1, 2, 0])
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), probs, rtol=1e-5, atol=1e-6)

    big = M.build(name, input_shape=(150, 150, 1), num_classes=3, **TINY[name])
    assert big.output_shape == (None, 3)
