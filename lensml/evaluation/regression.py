"""Regression metrics for log10 axion mass (units: dex, i.e. log10(m_a / eV))."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as _skm

from lensml.evaluation._checks import as_float_array


def regression_metrics(y_true, y_pred) -> dict:
    """MAE, RMSE (dex) and the coefficient of determination R^2.

    Args:
        y_true: (n,) or (n, 1) true log10(m_a / eV).
        y_pred: same shape, predicted log10(m_a / eV).

    Returns:
        ``{"mae", "rmse", "r2", "num_examples", "units": "dex"}``; R^2 = 1 - SS_res / SS_tot
        (scikit-learn's definition), NaN -> None when ``y_true`` is constant.
    """
    y_true = as_float_array(y_true, "y_true", (1, 2)).reshape(-1)
    y_pred = as_float_array(y_pred, "y_pred", (1, 2)).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"`y_pred` has {y_pred.size} values but `y_true` has {y_true.size}; they must match.")
    constant = bool(np.all(y_true == y_true[0]))
    return {
        "num_examples": int(y_true.size),
        "mae": float(_skm.mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(_skm.mean_squared_error(y_true, y_pred))),
        "r2": None if constant else float(_skm.r2_score(y_true, y_pred)),
        "units": "dex",
    }
