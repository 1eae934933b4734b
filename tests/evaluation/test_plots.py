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


def test_draw_functions_compose_into_one_figure(rng):
    """Each report panel draws into the Axes it is given and returns it, so a notebook can put
    them side by side."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from lensml.evaluation import plots

    fig = Figure(figsize=(12, 6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3)
    labels = np.repeat(np.arange(3), 10)
    probs = rng.dirichlet(np.ones(3), size=30)
    image = rng.random((16, 16))
    assert plots.draw_roc(axes[0, 0], labels, probs, ["no_sub", "cdm", "axion"]) is axes[0, 0]
    assert len(axes[0, 0].lines) == 5  # three classes, the micro average and the diagonal
    assert plots.draw_confusion_matrix(axes[0, 1], np.eye(3) * 10, ["a", "b", "c"], colorbar=False) is axes[0, 1]
    assert plots.draw_reliability(axes[0, 2], labels, probs, num_bins=5) is axes[0, 2]
    assert plots.draw_gradcam(axes[1, 0], image, rng.random((16, 16))) is axes[1, 0]
    assert len(axes[1, 0].images) == 2  # the image and the heat map over it
    assert plots.draw_predicted_vs_true(axes[1, 1], rng.random(20), rng.random(20)) is axes[1, 1]
    lens = [{"theta_E": 1.0, "e1": 0.2, "e2": 0.0}, {"gamma1": 0.05, "gamma2": 0.0}]
    ax = plots.draw_lens_image(axes[1, 2], rng.random((64, 64)), 0.101, lens=["SIE", "SHEAR"], kwargs_lens=lens)
    assert ax is axes[1, 2] and ax.get_xlabel() == "x (arcsec)"
    assert ax.get_xlim() == pytest.approx((-3.232, 3.232))  # 64 pixels of 0.101": +-32 pixels
    assert [line.get_label() for line in ax.lines] == ["critical curve", "caustic"]
    fig.canvas.draw()  # renders without error


def test_critical_curves_match_the_analytic_sis_and_lenstronomy_sie():
    from lenstronomy.LensModel.lens_model import LensModel
    from lenstronomy.LensModel.lens_model_extensions import LensModelExtensions

    from lensml.evaluation.plots import critical_curves

    curves, caustics = critical_curves(["SIS"], [{"theta_E": 1.2}], 3.0)
    assert len(curves) == 1
    np.testing.assert_allclose(np.hypot(*curves[0].T), 1.2, atol=2e-3)  # the Einstein ring
    assert np.abs(caustics[0]).max() < 2e-3  # an SIS's tangential caustic is a point

    kwargs = [{"theta_E": 1.0, "e1": 0.2, "e2": 0.05, "center_x": 0.0, "center_y": 0.0},
              {"gamma1": 0.05, "gamma2": -0.02, "ra_0": 0.0, "dec_0": 0.0}]
    curves, caustics = critical_curves(["SIE", "SHEAR"], kwargs, 3.0, num_pix=600)
    ext = LensModelExtensions(LensModel(["SIE", "SHEAR"]))
    ra_crit, dec_crit, ra_caus, dec_caus = ext.critical_curve_caustics(kwargs, compute_window=6, grid_scale=0.005)
    theirs = max(np.abs(np.concatenate(ra_caus)).max(), np.abs(np.concatenate(dec_caus)).max())
    ours = max(np.abs(c).max() for c in caustics)
    assert ours == pytest.approx(theirs, rel=0.02)
    their_radii = np.hypot(np.concatenate(ra_crit), np.concatenate(dec_crit))
    our_radii = np.hypot(*np.concatenate(curves).T)
    assert our_radii.max() == pytest.approx(their_radii.max(), rel=0.01)
