"""Classification metrics: accuracy, F1, one-vs-rest ROC AUC, confusion matrix (scikit-learn's
implementations behind lensml's input checks and JSON layout).

Conventions: ``y_true`` is ``(n,)`` integer class indices, ``probs`` is ``(n, C)`` class
probabilities (rows need not sum to one for AUC; the predicted class is the argmax).
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as _skm

from lensml.evaluation._checks import as_float_array, as_label_array
from lensml.evaluation.calibration import expected_calibration_error


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions. ``y_true``, ``y_pred``: (n,) int class indices."""
    y_true = as_label_array(y_true, "y_true")
    y_pred = as_label_array(y_pred, "y_pred")
    _same_length(y_true, y_pred, "y_pred")
    return float(_skm.accuracy_score(y_true, y_pred))


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Counts ``(C, C)`` int64; row = true class, column = predicted class (scikit-learn's layout)."""
    y_true = as_label_array(y_true, "y_true", num_classes)
    y_pred = as_label_array(y_pred, "y_pred", num_classes)
    _same_length(y_true, y_pred, "y_pred")
    return _skm.confusion_matrix(y_true, y_pred, labels=np.arange(num_classes)).astype(np.int64)


def f1_scores(y_true, y_pred, num_classes: int) -> dict:
    """Micro, macro and per-class F1 for single-label multi-class predictions.

    A class with no true and no predicted example has F1 0 (``zero_division=0``), and every one of
    the ``num_classes`` classes counts in the macro mean, present or not.
    Returns ``{"micro": float, "macro": float, "per_class": list[float]}``.
    """
    y_true = as_label_array(y_true, "y_true", num_classes)
    y_pred = as_label_array(y_pred, "y_pred", num_classes)
    _same_length(y_true, y_pred, "y_pred")
    labels = np.arange(num_classes)
    per_class = _skm.f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    micro = _skm.f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0)
    return {"micro": float(micro), "macro": float(np.mean(per_class)), "per_class": per_class.tolist()}


def roc_curve(is_positive, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary ROC curve. ``is_positive``: (n,) bool; ``scores``: (n,) float, higher = more positive.

    Returns ``(fpr, tpr, thresholds)`` starting at (0, 0) with threshold +inf, one point per
    distinct score (tied scores form one diagonal step). Raises ValueError when only one class
    is present.
    """
    positive = np.asarray(is_positive).astype(bool).reshape(-1)
    scores = as_float_array(scores, "scores", 1)
    _same_length(positive, scores, "scores")
    if positive.all() or not positive.any():
        raise ValueError("ROC needs both positive and negative examples; `is_positive` has only one class.")
    fpr, tpr, thresholds = _skm.roc_curve(positive, scores, drop_intermediate=False)
    return fpr, tpr, thresholds


def roc_auc(is_positive, scores) -> float:
    """Area under the binary ROC curve (ties count one half). NaN if one class only."""
    positive = np.asarray(is_positive).astype(bool).reshape(-1)
    if positive.all() or not positive.any():
        return float("nan")
    scores = as_float_array(scores, "scores", 1)
    _same_length(positive, scores, "scores")
    return float(_skm.roc_auc_score(positive, scores))


def one_vs_rest_auc(y_true, probs) -> dict:
    """One-vs-rest ROC AUC per class and their unweighted (macro) mean.

    ``y_true``: (n,) int; ``probs``: (n, C). A class absent from ``y_true`` has AUC NaN and is
    left out of the macro mean. Returns ``{"per_class": list[float], "macro": float}``.
    """
    probs = as_float_array(probs, "probs", 2)
    y_true = as_label_array(y_true, "y_true", probs.shape[1])
    _same_length(y_true, probs, "probs")
    per_class = np.array([roc_auc(y_true == c, probs[:, c]) for c in range(probs.shape[1])])
    defined = per_class[np.isfinite(per_class)]
    macro = float(defined.mean()) if defined.size else float("nan")
    return {"per_class": per_class.tolist(), "macro": macro}


def micro_average_roc(y_true, probs):
    """Micro-averaged ROC: every (example, class) pair as one binary decision, the one-hot
    truth against the class probability (the LensPINN paper's micro-averaged ROC).

    Returns ``(fpr, tpr, auc)``. ``y_true``: (n,) int; ``probs``: (n, C).
    """
    probs = as_float_array(probs, "probs", 2)
    y_true = as_label_array(y_true, "y_true", probs.shape[1])
    _same_length(y_true, probs, "probs")
    positive = (y_true[:, None] == np.arange(probs.shape[1])[None, :]).reshape(-1)
    fpr, tpr, _ = roc_curve(positive, probs.reshape(-1))
    return fpr, tpr, roc_auc(positive, probs.reshape(-1))


def classification_metrics(y_true, probs, class_names, ece_bins: int = 15) -> dict:
    """All classification metrics of the lensml protocol (docs/guide/evaluation.md).

    Args:
        y_true: (n,) int class indices (or (n, C) one-hot).
        probs: (n, C) float class probabilities.
        class_names: C names, in class-index order.
        ece_bins: number of equal-width confidence bins for the expected calibration error.

    Returns:
        JSON-ready dict: ``accuracy``, ``micro_f1``, ``macro_f1``, ``f1_per_class``,
        ``macro_auc``, ``micro_auc`` (micro-averaged ROC, :func:`micro_average_roc`),
        ``auc_per_class`` (name -> AUC, None where undefined),
        ``confusion_matrix`` (rows true, columns predicted), ``ece``, ``ece_bins``,
        ``num_examples``, ``class_names``.
    """
    class_names = [str(c) for c in class_names]
    probs = as_float_array(probs, "probs", 2)
    if probs.shape[1] != len(class_names):
        raise ValueError(
            f"`probs` has {probs.shape[1]} columns but `class_names` names {len(class_names)} classes "
            f"({class_names}); the model output must have one column per class."
        )
    y_true = as_label_array(y_true, "y_true", len(class_names))
    _same_length(y_true, probs, "probs")
    y_pred = np.argmax(probs, axis=1)
    f1 = f1_scores(y_true, y_pred, len(class_names))
    auc = one_vs_rest_auc(y_true, probs)
    return {
        "num_examples": int(y_true.size),
        "class_names": class_names,
        "accuracy": accuracy(y_true, y_pred),
        "micro_f1": f1["micro"],
        "macro_f1": f1["macro"],
        "f1_per_class": dict(zip(class_names, f1["per_class"])),
        "macro_auc": _none_if_nan(auc["macro"]),
        "micro_auc": _none_if_nan(micro_average_roc(y_true, probs)[2]),
        "auc_per_class": {n: _none_if_nan(a) for n, a in zip(class_names, auc["per_class"])},
        "confusion_matrix": confusion_matrix(y_true, y_pred, len(class_names)).tolist(),
        "ece": expected_calibration_error(y_true, probs, num_bins=ece_bins),
        "ece_bins": int(ece_bins),
    }


def _none_if_nan(value: float):
    return None if not np.isfinite(value) else float(value)


def _same_length(a: np.ndarray, b: np.ndarray, name: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"`{name}` has {len(b)} examples but `y_true` has {len(a)}; they must match.")
