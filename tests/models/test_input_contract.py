"""A lensml model carries its input contract: the normalisation of its training data (an
``ImageNormalization`` layer) and, for the physics models, the pixel scale, inside its
``.keras`` file; ``model.predict(raw_counts)`` equals the prediction on normalised images."""

import keras
import numpy as np
import pytest

import lensml.models as M
from lensml.layers import ImageNormalization, normalize_images
from tests.models._configs import TINY


def _counts(rng, n=3, size=32):
    # raw images in counts: positive, an arbitrary exposure and sky level
    return (rng.gamma(2.0, 40.0, size=(n, size, size, 1)) + 150.0).astype("float32")


@pytest.mark.parametrize("name", ["resnet18", "lenspinn_small"])
def test_predict_on_raw_counts_equals_predict_on_normalised_images(tmp_path, rng, name):
    model = M.build(name, input_shape=(32, 32, 1), pixel_scale=0.1, **TINY[name]) if name == "lenspinn_small" \
        else M.build(name, input_shape=(32, 32, 1), **TINY[name])
    raw = _counts(rng)
    normalised = np.asarray(normalize_images(raw, "minmax"))
    np.testing.assert_allclose(model.predict(raw, verbose=0), model.predict(normalised, verbose=0), rtol=1e-5, atol=1e-6)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    want = {"normalization": "minmax", "pixel_scale": 0.1 if name == "lenspinn_small" else None}
    assert M.input_contract(loaded) == want
    np.testing.assert_allclose(loaded.predict(raw * 7.0, verbose=0), model.predict(normalised, verbose=0),
                               rtol=1e-5, atol=1e-6)  # another exposure: the same lens


def test_contract_choices(rng):
    plain = M.build("resnet18", input_shape=(32, 32, 1), normalization=None, **TINY["resnet18"])
    assert M.input_contract(plain)["normalization"] is None
    assert "input_normalization" not in [layer.name for layer in plain.layers]
    std = M.build("resnet18", input_shape=(32, 32, 1), normalization="standardize", **TINY["resnet18"])
    raw = _counts(rng)
    np.testing.assert_allclose(std.predict(raw, verbose=0),
                               std.predict(np.asarray(normalize_images(raw, "standardize")), verbose=0),
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="normalization must be one of"):
        M.build("resnet18", input_shape=(32, 32, 1), normalization="zscore", **TINY["resnet18"])


def test_image_normalization_layer(rng):
    x = _counts(rng)
    x[1] = 3.0  # a constant image maps to 0
    out = np.asarray(ImageNormalization("minmax")(x))
    assert out.min() == 0.0 and out[0].max() == 1.0 and not out[1].any()
    np.testing.assert_array_equal(np.asarray(ImageNormalization("minmax")(out)), out)  # exactly idempotent
    layer = ImageNormalization.from_config(ImageNormalization("standardize", name="n").get_config())
    assert layer.normalization == "standardize" and layer.dtype_policy.name == "float32"
    with pytest.raises(ValueError, match="needs no layer"):
        ImageNormalization("none")


def test_trained_model_carries_the_data_normalisation(tmp_path):
    from lensml.experiments import load_config, run

    path = tmp_path / "c.toml"
    path.write_text(f'''name = "contract"
[data]
dataset = "synthetic:12:16"
batch_size = 6
normalization = "standardize"
[model]
name = "resnet18"
options = {{ width = 4, stage_blocks = [1, 1, 1, 1] }}
[training]
epochs = 1
verbose = 0
run_eagerly = true
[output]
dir = "{tmp_path}/runs/{{name}}"
''')
    result = run(load_config(path), evaluate_test=False)
    saved = result["runs"][0]["paths"]["model"]
    assert M.input_contract(keras.saving.load_model(saved))["normalization"] == "standardize"
