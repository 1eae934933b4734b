"""Presets (``lensml.models.presets``): keras-hub's layout with a model card, round trips from a
folder, a registered name and an ``hf://`` URI (offline, from a pre-filled Hugging Face cache;
nothing is downloaded), and the preset ``lensml train`` writes of its best checkpoint."""

import json

import numpy as np
import pytest

import lensml.models as M


@pytest.fixture(scope="module")
def model():
    return M.build("resnet18", (16, 16, 1), width=4, stage_blocks=(1, 1, 1, 1), input_pixel_scale=0.101)


@pytest.fixture
def images():
    return np.random.default_rng(3).gamma(2.0, 40.0, (4, 16, 16, 1)).astype("float32")


def test_a_preset_folder_round_trips_with_its_card(model, images, tmp_path):
    card = {"architecture": "resnet18", "dataset": "deeplense/model_ii_published_n500", "train_examples": 76800,
            "recipe": {"learning_rate": 1e-3}, "metrics": {"test_accuracy": 0.917}, "seeds": [0]}
    path = M.save_preset(model, tmp_path / "p", card=card)
    assert sorted(p.name for p in path.iterdir()) == ["README.md", "config.json", "metadata.json", "model.weights.h5"]
    loaded = M.from_preset(path)
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    assert M.input_contract(loaded) == M.input_contract(model)
    meta = M.preset_metadata(path)
    assert meta["parameter_count"] == model.count_params() and meta["input_contract"]["pixel_scale"] == 0.101
    readme = (path / "README.md").read_text()
    for words in ("76,800 training examples", "| test_accuracy | 0.9170 |", "Deep Residual Learning", "Licence:",
                  "lensml 0.1.0 (commit"):
        assert words in readme, words
    assert json.loads((path / "config.json").read_text())["class_name"] == "LensModel"
    with pytest.raises(FileExistsError, match="already exists"):
        M.save_preset(model, path)
    M.register_preset("tiny_resnet", str(path))
    assert M.list_presets()["tiny_resnet"] == str(path)
    np.testing.assert_array_equal(M.from_preset("tiny_resnet").predict(images, verbose=0),
                                  model.predict(images, verbose=0))
    with pytest.raises(ValueError, match="not a preset folder"):
        M.from_preset(tmp_path / "nothing")
    with pytest.raises(ValueError, match="unknown URI scheme"):
        M.from_preset("s3://bucket/preset")


def test_hf_uri_from_a_prefilled_cache_offline(model, images, tmp_path, monkeypatch):
    import huggingface_hub.constants as hf_constants  # the lensml[hf] extra, installed by .[dev]
    commit = "0123456789abcdef0123456789abcdef01234567"
    cache = tmp_path / "hub"
    M.save_preset(model, cache / "models--lensml--tiny-resnet" / "snapshots" / commit)
    (cache / "models--lensml--tiny-resnet" / "refs").mkdir()
    (cache / "models--lensml--tiny-resnet" / "refs" / "main").write_text(commit)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)  # nothing may be downloaded
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = M.from_preset("hf://lensml/tiny-resnet")
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    with pytest.raises(ValueError, match="cannot get it from the Hugging Face Hub or its cache"):
        M.from_preset("hf://lensml/not-cached")


def test_lensml_train_writes_a_preset_of_its_best_checkpoint(tmp_path, images):
    import keras

    from lensml.evaluation.predict import predict
    from lensml.training import config_from_dict, run_seed

    config = config_from_dict({
        "name": "presetted", "data": {"dataset": "synthetic:24:16", "batch_size": 8},
        "model": {"name": "resnet18", "options": {"width": 4, "stage_blocks": [1, 1, 1, 1]}},
        "training": {"epochs": 2, "learning_rate": 0.01, "verbose": 0, "run_eagerly": True},
        "output": {"dir": str(tmp_path / "run")}})
    result = run_seed(config, 0)
    preset = result["paths"]["preset"]
    best = keras.saving.load_model(result["paths"]["checkpoint"])
    np.testing.assert_allclose(M.from_preset(preset).predict(images, verbose=0), best.predict(images, verbose=0),
                               rtol=1e-6)
    readme = (tmp_path / "run" / "preset" / "README.md").read_text()
    assert "synthetic:24:16 (stored training split)" in readme and "test_accuracy" in readme
    table = predict(preset, images)  # lensml predict takes a preset too
    assert len(table) == 4 and "predicted_class" in table


def test_a_preset_holds_the_weights_not_the_optimizer_state(model, tmp_path):
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.zeros((4, 16, 16, 1), "float32"), np.arange(4) % 3, verbose=0)  # Adam state now exists
    import h5py

    model.save_weights(tmp_path / "keras.weights.h5")  # Keras's own file holds the optimizer too
    with h5py.File(tmp_path / "keras.weights.h5") as f:
        assert "optimizer" in f
    path = M.save_preset(model, tmp_path / "p")
    with h5py.File(path / "model.weights.h5") as f:
        assert "optimizer" not in f and "layers" in f
