"""Evaluation figures as PNG files (matplotlib's Agg canvas; pyplot's global state is never touched).

Every function takes a destination ``path`` (str or Path), writes one PNG and returns the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lensml._io import read_history_csv
from lensml.evaluation._checks import as_float_array, as_label_array
from lensml.evaluation.calibration import reliability_bins
from lensml.evaluation.classification import roc_auc, roc_curve


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


def plot_roc_curves(y_true, probs, class_names, path) -> Path:
    """One-vs-rest ROC curve per class. ``y_true``: (n,) int; ``probs``: (n, C)."""
    probs = as_float_array(probs, "probs", 2)
    y_true = as_label_array(y_true, "y_true", probs.shape[1])
    fig = _figure(4.5, 4.5)
    ax = fig.add_subplot()
    for c, name in enumerate(class_names):
        positive = y_true == c
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, probs[:, c])
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc(positive, probs[:, c]):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (one vs rest)", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, path)


def plot_confusion_matrix(matrix, class_names, path, normalize: bool = True) -> Path:
    """Confusion matrix heat map; rows true, columns predicted; ``normalize`` divides each row by its count."""
    cm = np.asarray(matrix, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(class_names):
        raise ValueError(f"`matrix` must be ({len(class_names)}, {len(class_names)}), got shape {cm.shape}.")
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    fig = _figure(4.5, 4.0)
    ax = fig.add_subplot()
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            text = f"{shown[i, j]:.2f}\n({int(cm[i, j])})" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if shown[i, j] > 0.5 * shown.max() else "black")
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix" + (" (row-normalised)" if normalize else ""))
    return save_figure(fig, path)


def plot_reliability_diagram(y_true, probs, path, num_bins: int = 15) -> Path:
    """Reliability diagram: accuracy vs confidence per equal-width bin, with the bin counts below."""
    bins = reliability_bins(y_true, probs, num_bins)
    centres = 0.5 * (bins["edges"][:-1] + bins["edges"][1:])
    width = 1.0 / num_bins
    fig = _figure(4.5, 5.0)
    ax, ax_count = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    filled = bins["count"] > 0
    ax.bar(centres[filled], bins["accuracy"][filled], width=width, edgecolor="black", label="accuracy")
    ax.bar(centres[filled], bins["confidence"][filled] - bins["accuracy"][filled], bottom=bins["accuracy"][filled],
           width=width, color="red", alpha=0.3, label="gap")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title=f"reliability ({num_bins} bins)")
    ax.legend(loc="upper left", fontsize=8)
    ax_count.bar(centres, bins["count"], width=width, color="grey")
    ax_count.set(xlabel="confidence", ylabel="count")
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


def plot_predicted_vs_true(y_true, y_pred, path, label: str = "log10(m_a / eV)") -> Path:
    """Scatter of predicted against true values with the identity line (units of ``label``)."""
    y_true = as_float_array(y_true, "y_true", (1, 2)).reshape(-1)
    y_pred = as_float_array(y_pred, "y_pred", (1, 2)).reshape(-1)
    lo, hi = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    fig = _figure(4.5, 4.5)
    ax = fig.add_subplot()
    ax.scatter(y_true, y_pred, s=6, alpha=0.6)
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle=":")
    ax.set(xlabel=f"true {label}", ylabel=f"predicted {label}", title="predicted vs true")
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
            ax = axes[i, j]
            ax.imshow(base[i], cmap="gray")
            if heat is not None:
                ax.imshow(heat[i], cmap="jet", alpha=alpha, vmin=0, vmax=1)
            ax.set_axis_off()
            if i == 0:
                ax.set_title(title, fontsize=9)
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
