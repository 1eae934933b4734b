"""Evaluation figures: ``draw_*`` functions that draw into a matplotlib ``Axes`` you give them
and return it (compose them in a notebook), and ``plot_*`` functions that write the report's
PNG files with them (matplotlib's Agg canvas; pyplot's global state is never touched).

``draw_lens_image`` shows an image with arcsec axes and, for a known lens model, its critical
curves and caustics (``critical_curves``); ``draw_roc``, ``draw_confusion_matrix``, ``draw_reliability``,
``draw_gradcam`` and ``draw_predicted_vs_true`` are the report's panels. Every ``plot_*``
function takes a destination ``path`` (str or Path), writes one PNG and returns the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lensml._io import read_history_csv
from lensml.evaluation._checks import as_float_array, as_label_array
from lensml.evaluation.calibration import reliability_bins
from lensml.evaluation.classification import micro_average_roc, roc_auc, roc_curve


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Constrained layout: no overlapping labels, and cheaper than tight_layout at save time.
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path) -> Path:
    """``fig`` as a PNG at ``path``, atomically (``lensml._io``)."""
    from lensml._io import atomic_target

    with atomic_target(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


def _images_2d(images, name: str) -> np.ndarray:
    """(n, H, W) or (n, H, W, 1) -> (n, H, W)."""
    images = as_float_array(images, name, (3, 4))
    return images[..., 0] if images.ndim == 4 else images


def critical_curves(lens, kwargs_lens, half_width: float, num_pix: int = 400):
    """Critical curves of a lens model and their caustics, each a list of (n, 2) arrays of (x, y)
    in arcsec: where det(A) = (1 - f_xx)(1 - f_yy) - f_xy f_yx, the inverse magnification, is 0 on
    a ``num_pix`` grid over [-half_width, half_width]^2 (contours by scikit-image), and those
    points mapped to the source plane (beta = theta - alpha).

    ``lens``: a ``lensml.physics.MassModel`` or its profile names (e.g. ``["SIE", "SHEAR"]``);
    ``kwargs_lens``: one dict of lenstronomy keyword parameters per profile."""
    from skimage.measure import find_contours

    from lensml.physics import MassModel

    model = lens if isinstance(lens, MassModel) else MassModel(list(lens))
    c = np.linspace(-half_width, half_width, num_pix, dtype=np.float32)
    x, y = np.meshgrid(c, c)  # row index -> y, column index -> x
    f_xx, f_xy, f_yx, f_yy = (np.asarray(h, dtype=np.float64) for h in model.hessian(x, y, kwargs_lens))
    det = np.nan_to_num((1 - f_xx) * (1 - f_yy) - f_xy * f_yx, nan=-1e6, posinf=1e6, neginf=-1e6)
    step = float(c[1] - c[0])
    curves = [np.stack([-half_width + seg[:, 1] * step, -half_width + seg[:, 0] * step], axis=1)
              for seg in find_contours(det, 0.0) if len(seg) > 2]
    caustics = []
    for curve in curves:
        bx, by = model.ray_shoot(curve[:, 0].astype(np.float32), curve[:, 1].astype(np.float32), kwargs_lens)
        caustics.append(np.stack([np.asarray(bx), np.asarray(by)], axis=1).astype(np.float64))
    return curves, caustics


def draw_lens_image(ax, image, pixel_scale: float, *, lens=None, kwargs_lens=None, cmap: str = "inferno",
                    critical_color: str = "white", caustic_color: str = "cyan", title: str | None = None):
    """An image (H, W[, 1]) with axes in arcsec (pixel centres at ``(k - (N - 1) / 2) * pixel_scale``,
    x along columns, y along rows upward, lensml's convention) into ``ax`` (returned); with ``lens``
    and ``kwargs_lens`` (see :func:`critical_curves`) its critical curves (solid) and caustics
    (dashed) drawn over it."""
    image = np.asarray(image, dtype=np.float64)
    image = image[..., 0] if image.ndim == 3 else image
    if image.ndim != 2:
        raise ValueError(f"`image` must be (H, W) or (H, W, 1), got shape {image.shape}.")
    if not (isinstance(pixel_scale, (int, float)) and pixel_scale > 0):
        raise ValueError(f"`pixel_scale` must be a number > 0 (arcsec), got {pixel_scale!r}.")
    h, w = image.shape
    extent = (-w / 2 * pixel_scale, w / 2 * pixel_scale, -h / 2 * pixel_scale, h / 2 * pixel_scale)
    ax.imshow(image, cmap=cmap, origin="lower", extent=extent)
    if lens is not None:
        curves, caustics = critical_curves(lens, kwargs_lens, max(w, h) / 2 * pixel_scale)
        for i, (curve, caustic) in enumerate(zip(curves, caustics)):
            ax.plot(curve[:, 0], curve[:, 1], color=critical_color, linewidth=1,
                    label="critical curve" if i == 0 else None)
            ax.plot(caustic[:, 0], caustic[:, 1], color=caustic_color, linewidth=1, linestyle="--",
                    label="caustic" if i == 0 else None)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        if curves:
            ax.legend(loc="upper right", fontsize=7)
    ax.set(xlabel="x (arcsec)", ylabel="y (arcsec)")
    if title:
        ax.set_title(title)
    return ax


def draw_roc(ax, y_true, probs, class_names):
    """One-vs-rest ROC curve per class and the micro-averaged curve into ``ax`` (returned).
    ``y_true``: (n,) int; ``probs``: (n, C)."""
    probs = as_float_array(probs, "probs", 2)
    y_true = as_label_array(y_true, "y_true", probs.shape[1])
    for c, name in enumerate(class_names):
        positive = y_true == c
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, probs[:, c])
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc(positive, probs[:, c]):.3f})")
    if len(np.unique(y_true)) > 1:
        fpr, tpr, auc = micro_average_roc(y_true, probs)
        ax.plot(fpr, tpr, color="black", linestyle="--", linewidth=1, label=f"micro-average (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (one vs rest)", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_roc_curves(y_true, probs, class_names, path) -> Path:
    """:func:`draw_roc` as a PNG at ``path``."""
    fig = _figure(4.5, 4.5)
    draw_roc(fig.add_subplot(), y_true, probs, class_names)
    return save_figure(fig, path)


def draw_confusion_matrix(ax, matrix, class_names, normalize: bool = True, colorbar: bool = True):
    """Confusion matrix heat map into ``ax`` (returned); rows true, columns predicted;
    ``normalize`` divides each row by its count."""
    cm = np.asarray(matrix, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(class_names):
        raise ValueError(f"`matrix` must be ({len(class_names)}, {len(class_names)}), got shape {cm.shape}.")
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            text = f"{shown[i, j]:.2f}\n({int(cm[i, j])})" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if shown[i, j] > 0.5 * shown.max() else "black")
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix" + (" (row-normalised)" if normalize else ""))
    return ax


def plot_confusion_matrix(matrix, class_names, path, normalize: bool = True) -> Path:
    """:func:`draw_confusion_matrix` as a PNG at ``path``."""
    fig = _figure(4.5, 4.0)
    draw_confusion_matrix(fig.add_subplot(), matrix, class_names, normalize)
    return save_figure(fig, path)


def draw_reliability(ax, y_true, probs, num_bins: int = 15, ax_count=None):
    """Reliability diagram into ``ax`` (returned): accuracy vs confidence per equal-width bin,
    the gap to the diagonal in red; the bin counts into ``ax_count`` when given."""
    bins = reliability_bins(y_true, probs, num_bins)
    centres = 0.5 * (bins["edges"][:-1] + bins["edges"][1:])
    width = 1.0 / num_bins
    filled = bins["count"] > 0
    ax.bar(centres[filled], bins["accuracy"][filled], width=width, edgecolor="black", label="accuracy")
    ax.bar(centres[filled], bins["confidence"][filled] - bins["accuracy"][filled], bottom=bins["accuracy"][filled],
           width=width, color="red", alpha=0.3, label="gap")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title=f"reliability ({num_bins} bins)")
    ax.legend(loc="upper left", fontsize=8)
    if ax_count is None:
        ax.set(xlabel="confidence")
    else:
        ax_count.bar(centres, bins["count"], width=width, color="grey")
        ax_count.set(xlabel="confidence", ylabel="count")
    return ax


def plot_reliability_diagram(y_true, probs, path, num_bins: int = 15) -> Path:
    """:func:`draw_reliability` with the bin counts below, as a PNG at ``path``."""
    fig = _figure(4.5, 5.0)
    ax, ax_count = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    draw_reliability(ax, y_true, probs, num_bins, ax_count=ax_count)
    return save_figure(fig, path)


def load_history(history) -> dict[str, list[float]]:
    """Training history from a Keras ``History``, its ``.history`` dict, or a CSVLogger file path."""
    if hasattr(history, "history") and isinstance(history.history, dict):
        history = history.history
    if isinstance(history, (str, Path)):
        path = Path(history)
        if not path.is_file():
            raise FileNotFoundError(f"`history` file {str(path)!r} does not exist (expected a Keras CSVLogger .csv).")
        history = read_history_csv(path)  # NaN where an epoch has no value: gaps in the curves
        if not history:
            raise ValueError(f"`history` file {str(path)!r} has no rows.")
    if not isinstance(history, dict) or not history:
        raise TypeError(f"`history` must be a non-empty dict, a keras History or a CSV path, got {type(history).__name__}.")
    return {str(k): [float(v) for v in values] for k, values in history.items()}


def plot_training_curves(history, path) -> Path:
    """Loss and metric curves per epoch; ``val_*`` series share a panel with their training series."""
    history = load_history(history)
    names = sorted({k[4:] if k.startswith("val_") else k for k in history} - {"lr", "learning_rate"})
    fig = _figure(4.0 * len(names), 3.2)
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    for ax, name in zip(axes, names):
        for key, label in ((name, "train"), ("val_" + name, "validation")):
            if key in history:
                ax.plot(np.arange(1, len(history[key]) + 1), history[key], marker=".", label=label)
        ax.set(xlabel="epoch", title=name)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def draw_predicted_vs_true(ax, y_true, y_pred, label: str = "log10(m_a / eV)"):
    """Scatter of predicted against true values with the identity line (units of ``label``) into ``ax`` (returned)."""
    y_true = as_float_array(y_true, "y_true", (1, 2)).reshape(-1)
    y_pred = as_float_array(y_pred, "y_pred", (1, 2)).reshape(-1)
    lo, hi = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    ax.scatter(y_true, y_pred, s=6, alpha=0.6)
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle=":")
    ax.set(xlabel=f"true {label}", ylabel=f"predicted {label}", title="predicted vs true")
    return ax


def plot_predicted_vs_true(y_true, y_pred, path, label: str = "log10(m_a / eV)") -> Path:
    """:func:`draw_predicted_vs_true` as a PNG at ``path``."""
    fig = _figure(4.5, 4.5)
    draw_predicted_vs_true(fig.add_subplot(), y_true, y_pred, label)
    return save_figure(fig, path)


def plot_super_resolution(low_res, predicted, high_res, path, num_examples: int = 3, bicubic=None) -> Path:
    """Rows of LR / SR / HR (and bicubic, when given) for the first ``num_examples`` images."""
    panels = [("LR", _images_2d(low_res, "low_res")), ("SR", _images_2d(predicted, "predicted"))]
    if bicubic is not None:
        panels.append(("bicubic", _images_2d(bicubic, "bicubic")))
    panels.append(("HR", _images_2d(high_res, "high_res")))
    n = min(num_examples, panels[0][1].shape[0])
    fig = _figure(2.2 * len(panels), 2.2 * n)
    axes = np.asarray(fig.subplots(n, len(panels), squeeze=False))
    for i in range(n):
        for j, (title, images) in enumerate(panels):
            axes[i, j].imshow(images[i], cmap="inferno")
            axes[i, j].set_axis_off()
            if i == 0:
                axes[i, j].set_title(title)
    return save_figure(fig, path)


def draw_gradcam(ax, image, heatmap=None, alpha: float = 0.45, title: str | None = None):
    """One image (H, W[, 1]) in grey with its Grad-CAM heat map (H, W, in [0, 1]) over it into
    ``ax`` (returned); no heat map: the image alone."""
    image = np.asarray(image, dtype=np.float64)
    image = image[..., 0] if image.ndim == 3 else image
    ax.imshow(image, cmap="gray")
    if heatmap is not None:
        heatmap = np.asarray(heatmap, dtype=np.float64)
        if heatmap.shape != image.shape:
            raise ValueError(f"`heatmap` has shape {heatmap.shape} but `image` has {image.shape}; they must match.")
        ax.imshow(heatmap, cmap="jet", alpha=alpha, vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_gradcam(images, heatmaps, path, preprocessed=None, titles=None, alpha: float = 0.45) -> Path:
    """Grad-CAM overlays: per example the image, the heat map on the image and, when
    ``preprocessed`` (n, H, W[, 1]) is given, the heat map on the physics-preprocessed image.

    ``images``: (n, H, W[, 1]); ``heatmaps``: (n, H, W) in [0, 1] (same H, W as the images).
    """
    images = _images_2d(images, "images")
    heatmaps = _images_2d(heatmaps, "heatmaps")
    if heatmaps.shape != images.shape:
        raise ValueError(f"`heatmaps` has shape {heatmaps.shape} but `images` has {images.shape}; they must match.")
    columns = [("image", images, None), ("Grad-CAM", images, heatmaps)]
    if preprocessed is not None:
        pre = _images_2d(preprocessed, "preprocessed")
        columns += [("preprocessed", pre, None), ("Grad-CAM on preprocessed", pre, heatmaps)]
    n = images.shape[0]
    fig = _figure(2.3 * len(columns), 2.3 * n)
    axes = np.asarray(fig.subplots(n, len(columns), squeeze=False))
    for i in range(n):
        for j, (title, base, heat) in enumerate(columns):
            draw_gradcam(axes[i, j], base[i], None if heat is None else heat[i], alpha, title if i == 0 else None)
        if titles is not None:
            axes[i, 0].text(-0.05, 0.5, str(titles[i]), transform=axes[i, 0].transAxes, rotation=90,
                            ha="right", va="center", fontsize=8)
    return save_figure(fig, path)


def plot_sample_grid(images, labels, class_names, path, per_class: int = 4) -> Path:
    """A grid with one row per class holding its first ``per_class`` images."""
    images = _images_2d(images, "images")
    labels = as_label_array(labels, "labels", len(class_names))
    fig = _figure(1.8 * per_class, 1.9 * len(class_names))
    axes = np.asarray(fig.subplots(len(class_names), per_class, squeeze=False))
    for c, name in enumerate(class_names):
        members = np.flatnonzero(labels == c)[:per_class]
        for k in range(per_class):
            ax = axes[c, k]
            ax.set_axis_off()
            if k < members.size:
                ax.imshow(images[members[k]], cmap="inferno")
        axes[c, 0].set_title(name, fontsize=9, loc="left")
    return save_figure(fig, path)


def plot_curves(x, series: dict, path, xlabel: str, ylabel: str, title: str = "", log_x: bool = False) -> Path:
    """Line plot of ``series`` = {label: (means (k,), stds (k,) or None)} against ``x`` (k,)."""
    fig = _figure(5.0, 3.8)
    ax = fig.add_subplot()
    for label, (means, stds) in series.items():
        means = np.asarray(means, dtype=np.float64)
        ax.plot(x, means, marker="o", label=label)
        if stds is not None:
            stds = np.asarray(stds, dtype=np.float64)
            ax.fill_between(x, means - stds, means + stds, alpha=0.2)
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_layer_values(values: dict, path, ylabel: str, title: str = "", log_y: bool = False, reference: float | None = None) -> Path:
    """Bar chart of one number per layer (``{layer_name: value}``, in forward order), e.g.
    activation-patching output change, probe accuracy or equivariance error; ``reference``
    draws a horizontal line (e.g. chance accuracy)."""
    if not values:
        raise ValueError("`values` is empty; expected {layer_name: value}.")
    names = list(values)
    heights = np.asarray([values[n] for n in names], dtype=np.float64)
    fig = _figure(max(4.0, 0.55 * len(names) + 1.5), 3.6)
    ax = fig.add_subplot()
    ax.bar(range(len(names)), heights, color="tab:blue")
    if reference is not None:
        ax.axhline(reference, color="grey", linestyle=":", label=f"reference {reference:.3g}")
        ax.legend(fontsize=8)
    if log_y and np.all(heights > 0):
        ax.set_yscale("log")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel=ylabel, title=title)
    return save_figure(fig, path)
