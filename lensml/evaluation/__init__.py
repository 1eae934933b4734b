"""lensml.evaluation: the shared evaluation protocol (DESIGN section 5).

Metrics (numpy), multi-seed aggregation, plots (matplotlib, PNG), interpretability
(Grad-CAM, activation patching, linear probes, equivariance error) and reports.
"""

from lensml.evaluation.aggregation import aggregate_seeds, flatten_metrics, format_mean_std
from lensml.evaluation.calibration import expected_calibration_error, reliability_bins
from lensml.evaluation.classification import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    f1_scores,
    one_vs_rest_auc,
    roc_auc,
    roc_curve,
)
from lensml.evaluation.regression import regression_metrics
from lensml.evaluation.super_resolution import bicubic_upsample, psnr_ssim, super_resolution_metrics

__all__ = [
    "accuracy",
    "aggregate_seeds",
    "bicubic_upsample",
    "classification_metrics",
    "confusion_matrix",
    "expected_calibration_error",
    "f1_scores",
    "flatten_metrics",
    "format_mean_std",
    "one_vs_rest_auc",
    "psnr_ssim",
    "regression_metrics",
    "reliability_bins",
    "roc_auc",
    "roc_curve",
    "super_resolution_metrics",
]
