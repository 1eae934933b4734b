"""Every figure is written as a non-empty PNG."""

import numpy as np
import pytest

from lensml.evaluation import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000


def test_all_plots(tmp_path, rng):
    y = np.repeat(np.arange(3), 10)
    probs = rng.dirichlet(np.ones(3), size=30)
    images = rng.random((30, 16, 16, 1))
    names = ["no_sub", "cdm", "axion"]
    written = [
        plots.plot_roc_curves(y, probs, names, tmp_path / "roc.png"),
        plots.plot_confusion_matrix(np.eye(3, dtype=int) * 5 + 1, names, tmp_path / "cm.png"),
        plots.plot_reliability_diagram(y, probs, tmp_path / "rel.png", num_bins=10),
        plots.plot_training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.4, 0.8]}, tmp_path / "tc.png"),
        plots.plot_predicted_vs_true(rng.uniform(-24, -22, 30), rng.uniform(-24, -22, 30), tmp_path / "pvt.png"),
        plots.plot_super_resolution(images[:3, ::4, ::4], images[:3], images[:3], tmp_path / "sr.png", bicubic=images[:3]),
        plots.plot_gradcam(images[:2], rng.random((2, 16, 16)), tmp_path / "gc.png", preprocessed=images[:2], titles=["a", "b"]),
        plots.plot_sample_grid(images, y, names, tmp_path / "grid.png", per_class=3),
        plots.plot_layer_values({"conv1": 0.1, "conv2": 1.5, "head": 3.0}, tmp_path / "layers.png", "delta", log_y=True,
                                reference=0.5),
        plots.plot_curves([0.01, 0.1, 1.0], {"resnet": ([0.5, 0.7, 0.9], [0.05, 0.02, 0.01])}, tmp_path / "le.png",
                          "label fraction", "accuracy", log_x=True),
    ]
    for path in written:
        _assert_png(path)


def test_training_curves_from_csv(tmp_path):
    csv = tmp_path / "log.csv"
    csv.write_text("epoch,accuracy,loss,val_loss\n0,0.5,1.0,1.2\n1,0.7,0.6,0.9\n")
    assert plots.load_history(csv) == {"accuracy": [0.5, 0.7], "loss": [1.0, 0.6], "val_loss": [1.2, 0.9]}
    _assert_png(plots.plot_training_curves(csv, tmp_path / "tc.png"))
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        plots.load_history(tmp_path / "missing.csv")


def test_plot_bad_input(tmp_path, rng):
    with pytest.raises(ValueError, match="heatmaps"):
        plots.plot_gradcam(rng.random((2, 16, 16, 1)), rng.random((2, 8, 8)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="matrix"):
        plots.plot_confusion_matrix(np.eye(2), ["a", "b", "c"], tmp_path / "x.png")
