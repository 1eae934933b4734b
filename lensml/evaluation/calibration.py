"""Expected calibration error and the per-bin numbers behind a reliability diagram."""

from __future__ import annotations

import numpy as np

from lensml.evaluation._checks import as_float_array, as_label_array


def reliability_bins(y_true, probs, num_bins: int = 15) -> dict:
    """Top-label calibration statistics in ``num_bins`` equal-width confidence bins on [0, 1].

    Args:
        y_true: (n,) int class indices.
        probs: (n, C) float class probabilities; confidence = max over classes.
        num_bins: number of bins; bin k holds confidences in (k/B, (k+1)/B] (the first bin includes 0).

    Returns:
        ``{"edges": (B+1,), "accuracy": (B,), "confidence": (B,), "count": (B,)}`` numpy arrays;
        accuracy/confidence are NaN in empty bins.
    """
    if not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
        raise ValueError(f"`num_bins` must be a positive integer, got {num_bins!r}.")
    probs = as_float_array(probs, "probs", 2)
    y_true = as_label_array(y_true, "y_true", probs.shape[1])
    if len(y_true) != len(probs):
        raise ValueError(f"`probs` has {len(probs)} rows but `y_true` has {len(y_true)}; they must match.")
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(np.float64)
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    index = np.clip(np.ceil(confidence * num_bins).astype(np.int64) - 1, 0, num_bins - 1)
    count = np.bincount(index, minlength=num_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.bincount(index, weights=correct, minlength=num_bins) / count
        conf = np.bincount(index, weights=confidence, minlength=num_bins) / count
    return {"edges": edges, "accuracy": acc, "confidence": conf, "count": count}


def expected_calibration_error(y_true, probs, num_bins: int = 15) -> float:
    """ECE = sum_k (n_k / n) |accuracy_k - confidence_k| over equal-width top-label bins.

    ``y_true``: (n,) int; ``probs``: (n, C). Returns a float in [0, 1].
    """
    bins = reliability_bins(y_true, probs, num_bins)
    filled = bins["count"] > 0
    weights = bins["count"][filled] / bins["count"].sum()
    return float(np.sum(weights * np.abs(bins["accuracy"][filled] - bins["confidence"][filled])))
