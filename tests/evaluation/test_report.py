"""evaluate_model on tiny models: files, links, and clear errors."""

import json
import re

import keras
import numpy as np
import pytest

from lensml.evaluation import as_arrays, evaluate_model, load_data, load_npy_folder

NAMES = ["no_sub", "cdm", "axion"]


def _linked_pngs(report):
    return set(re.findall(r"\]\(([^)]+\.png)\)", report))


def test_classification_report(tmp_path, tiny_cnn, tiny_data):
    images, labels = tiny_data
    history = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    record = evaluate_model(tiny_cnn, (images, labels), "classification", tmp_path, NAMES, history=history,
                            preprocess=lambda x: 1.0 - x, dataset_name="tiny", split="test")
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["num_examples"] == 12 and saved["macro_auc"] == record["macro_auc"] and saved["dataset"] == "tiny"
    assert 0 <= record["accuracy"] <= 1
    # every lens's prediction is kept: the record's metrics recomputed from it
    from lensml.evaluation.intervals import load_predictions, point_estimate

    saved_labels, probs = load_predictions(tmp_path / saved["predictions"])
    np.testing.assert_array_equal(saved_labels, labels)
    assert probs.shape == (12, 3)
    assert point_estimate([(saved_labels, probs)], "accuracy") == pytest.approx(record["accuracy"])
    assert point_estimate([(saved_labels, probs)], "macro_auc") == pytest.approx(record["macro_auc"])
    pngs = {p.name for p in tmp_path.glob("*.png")}
    assert pngs >= {"roc.png", "confusion_matrix.png", "reliability.png", "samples.png", "gradcam.png", "training_curves.png"}
    assert _linked_pngs((tmp_path / "report.md").read_text()) == pngs
    for png in tmp_path.glob("*.png"):
        assert png.stat().st_size > 2000


def test_interpretability_section(tmp_path, tiny_cnn, tiny_data):
    images, labels = tiny_data
    record = evaluate_model(tiny_cnn, (images, labels), "classification", tmp_path, NAMES, gradcam=False,
                            interpretability=True, num_interpretability=9, interpretability_layers=["conv2", "head"])
    summary = record["interpretability"]
    assert summary["layers"] == ["conv2", "head"]
    assert summary["probe_folds"] == 3 and set(summary["probes"]) == set(summary["layers"])
    assert summary["equivariance"]["head"] >= 0 and summary["patching"]["conv2"] > 0
    report = (tmp_path / "report.md").read_text()
    assert "## Interpretability" in report and "| conv2 |" in report
    assert _linked_pngs(report) == {p.name for p in tmp_path.glob("*.png")} >= {"patching.png", "probes.png", "equivariance.png"}


def test_logits_are_softmaxed_and_batches_accepted(tmp_path, tiny_data, make_tiny_cnn):
    images, labels = tiny_data
    model = make_tiny_cnn(activation=None)
    batches = [(images[i : i + 5], labels[i : i + 5]) for i in range(0, 12, 5)]
    record = evaluate_model(model, batches, "classification", tmp_path, NAMES, gradcam=False)
    assert record["num_examples"] == 12
    assert any("softmax" in note for note in record["notes"])


def test_regression_and_super_resolution_reports(tmp_path, rng):
    keras.utils.set_random_seed(0)
    reg = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    x = rng.random((10, 8, 8, 1)).astype("float32")
    y = rng.uniform(-24, -22, size=10)
    record = evaluate_model(reg, (x, y), "regression", tmp_path / "reg")
    assert set(record) >= {"mae", "rmse", "r2"}
    assert _linked_pngs((tmp_path / "reg" / "report.md").read_text()) == {"predicted_vs_true.png"}

    sr_model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.UpSampling2D(2, interpolation="bilinear")])
    hr = rng.random((4, 16, 16, 1)).astype("float32")
    lr = hr[:, ::2, ::2]
    record = evaluate_model(sr_model, (lr, hr), "super_resolution", tmp_path / "sr")
    assert set(record) >= {"psnr", "ssim", "bicubic_ssim"} and record["bicubic_psnr"] > 0
    assert (tmp_path / "sr" / "super_resolution.png").stat().st_size > 2000


def test_bad_inputs(tmp_path, tiny_cnn, tiny_data):
    images, labels = tiny_data
    with pytest.raises(ValueError, match="2 classes"):
        evaluate_model(tiny_cnn, (images, labels % 2), "classification", tmp_path, ["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        evaluate_model(tiny_cnn, [], "classification", tmp_path, NAMES)
    with pytest.raises(ValueError, match="empty"):
        as_arrays((images[:0], labels[:0]))
    with pytest.raises(ValueError, match="task"):
        evaluate_model(tiny_cnn, (images, labels), "segmentation", tmp_path, NAMES)
    with pytest.raises(ValueError, match=r"y_true.*\[0, 2\]"):  # labels beyond the model's 3 outputs
        evaluate_model(tiny_cnn, (images, labels + 1), "classification", tmp_path, gradcam=False)
    default = evaluate_model(tiny_cnn, (images, labels), "classification", tmp_path, gradcam=False)
    assert default["class_names"] == NAMES
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_npy_folder(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_data(str(tmp_path / "nowhere"))


def test_npy_folder_in_deeplense_layout(tmp_path, rng):
    for name in ("no_sub", "cdm"):
        (tmp_path / "val" / name).mkdir(parents=True)
        for i in range(2):
            np.save(tmp_path / "val" / name / f"{i}.npy", rng.random((1, 8, 8)))
    (tmp_path / "val" / "axion").mkdir()
    for i in range(2):
        np.save(tmp_path / "val" / "axion" / f"{i}.npy", np.array([rng.random((8, 8)), 10.0 ** (-23 - i)], dtype=object))
    data = load_npy_folder(tmp_path, split="val")
    assert data["images"].shape == (6, 8, 8, 1) and data["images"].max() == pytest.approx(1.0)
    np.testing.assert_array_equal(data["labels"], [0, 0, 1, 1, 2, 2])
    np.testing.assert_allclose(data["log10_axion_mass"][4:], [-23, -24])
    assert np.isnan(data["log10_axion_mass"][:4]).all()
    (tmp_path / "empty" / "cdm").mkdir(parents=True)
    with pytest.raises(ValueError, match="no .npy files"):
        load_npy_folder(tmp_path / "empty")
