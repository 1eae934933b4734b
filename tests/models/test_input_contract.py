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
    want = {"normalization": "minmax", "pixel_scale": 0.1 if name == "lenspinn_small" else None,
            "image_shape": (32, 32, 1), "masked": "error"}
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
    from lensml.training import load_config, run

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


def test_nan_pixels_and_wrong_sizes_are_refused_the_same_on_every_backend(tmp_path):
    """One NaN policy (lensml.models.contract): predict / fit / evaluate name the images with
    NaN or inf pixels and refuse another image size, on TensorFlow and JAX alike; with
    masked = "fill" those pixels take the lower median of the image's finite pixels."""
    import keras
    import tensorflow as tf

    import lensml.models as M

    model = M.build("resnet18", (16, 16, 1), width=4, stage_blocks=(1, 1, 1, 1))
    model.compile("adam", "sparse_categorical_crossentropy")
    images = np.random.default_rng(0).random((3, 16, 16, 1)).astype("float32")
    labels = np.array([0, 1, 2])
    bad = images.copy()
    bad[1, 2, 2, 0] = np.nan
    bad[2, :2, 0, 0] = np.inf
    message = r"2 of 3 images hold NaN or inf pixels \(image 1: 1, image 2: 2 pixels\)"
    for attempt in (lambda: model.predict(bad, verbose=0), lambda: model.fit(bad, labels, verbose=0),
                    lambda: model.evaluate(bad, labels, verbose=0),
                    lambda: model.fit(images, labels, validation_data=(bad, labels), verbose=0)):
        with pytest.raises(ValueError, match=message):
            attempt()
    with pytest.raises(tf.errors.InvalidArgumentError, match="hold NaN or inf pixels"):  # a tf.data input, batch by batch
        model.fit(tf.data.Dataset.from_tensor_slices((bad, labels)).batch(3), verbose=0)
    with pytest.raises(ValueError, match=r"takes images of shape \(batch, 16, 16, 1\).*got \(2, 20, 20, 1\)"):
        model.predict(np.zeros((2, 20, 20, 1), "float32"), verbose=0)

    # masked = "fill" survives a .keras round trip and equals filling by hand
    path = tmp_path / "m.keras"
    model.save(path)
    filled_model = M.set_masked(keras.saving.load_model(path), "fill")
    assert M.input_contract(filled_model)["masked"] == "fill"
    by_hand = bad.copy()
    for i in (1, 2):
        finite = np.sort(bad[i][np.isfinite(bad[i])])
        by_hand[i][~np.isfinite(bad[i])] = finite[(len(finite) - 1) // 2]
    np.testing.assert_allclose(filled_model.predict(bad, verbose=0), model.predict(by_hand, verbose=0),
                               rtol=1e-5, atol=1e-6)
    filled_model.save(path)
    assert M.input_contract(keras.saving.load_model(path))["masked"] == "fill"


def test_lensml_train_records_the_training_pixel_scale():
    """The pixel scale ``lensml predict`` compares cutouts with: the dataset family's (the coarser
    low-resolution images for super-resolution inputs), none for synthetic data."""
    from lensml.training.config import DataConfig
    from lensml.training.runner import training_pixel_scale

    assert training_pixel_scale(DataConfig(dataset="deeplense/model_ii_tiny")) == pytest.approx(0.101)
    assert training_pixel_scale(DataConfig(dataset="model_i_published_n20")) == pytest.approx(0.05)
    assert training_pixel_scale(DataConfig(dataset="deeplense/model_ii_sr16_tiny", target="hr")) == pytest.approx(0.404)
    assert training_pixel_scale(DataConfig(dataset="synthetic:24:12")) is None
    model = M.build("resnet18", input_shape=(32, 32, 1), input_pixel_scale=0.101, **TINY["resnet18"])
    assert M.input_contract(model)["pixel_scale"] == pytest.approx(0.101)
