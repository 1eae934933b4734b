"""lensml.evaluation: the shared evaluation protocol (docs/guide/evaluation.md).

Metrics (numpy), multi-seed aggregation, plots (matplotlib, PNG), interpretability
(Grad-CAM, activation patching, linear probes, equivariance error) and reports.
"""

from lensml.evaluation.aggregation import aggregate_seeds, flatten_metrics, format_mean_std, group_and_aggregate
from lensml.evaluation.calibration import expected_calibration_error, reliability_bins
from lensml.evaluation.classification import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    f1_scores,
    micro_average_roc,
    one_vs_rest_auc,
    roc_auc,
    roc_curve,
)
from lensml.evaluation.equivariance import equivariance_error, regular_action, spatial_action
from lensml.evaluation.gradcam import d4_grad_cam, grad_cam
from lensml.evaluation.inputs import as_arrays, load_data, load_npy_folder
from lensml.evaluation.intercept import find_layer, intercept, last_conv_layer, layer_outputs
from lensml.evaluation.label_efficiency import (
    DEFAULT_SEEDS,
    LABEL_FRACTIONS,
    stratified_subset,
    write_protocol_report,
)
from lensml.evaluation.patching import activation_patching
from lensml.evaluation.probes import d4_element_probe, extract_features, linear_probe, probe_layers
from lensml.evaluation.regression import regression_metrics
from lensml.evaluation.report import evaluate_model, render_report
from lensml.evaluation.transfer import TRANSFER_SETTINGS, match_dataset_images, match_instrument
from lensml.evaluation.transforms import D4_ELEMENTS, d4_inverse, d4_transform
from lensml.evaluation.super_resolution import bicubic_upsample, psnr_ssim, super_resolution_metrics

__all__ = [
    "DEFAULT_SEEDS",
    "D4_ELEMENTS",
    "LABEL_FRACTIONS",
    "TRANSFER_SETTINGS",
    "group_and_aggregate",
    "match_dataset_images",
    "match_instrument",
    "stratified_subset",
    "write_protocol_report",
    "accuracy",
    "activation_patching",
    "as_arrays",
    "d4_element_probe",
    "d4_grad_cam",
    "d4_inverse",
    "d4_transform",
    "equivariance_error",
    "evaluate_model",
    "extract_features",
    "find_layer",
    "grad_cam",
    "intercept",
    "last_conv_layer",
    "layer_outputs",
    "linear_probe",
    "load_data",
    "load_npy_folder",
    "probe_layers",
    "render_report",
    "regular_action",
    "spatial_action",
    "aggregate_seeds",
    "bicubic_upsample",
    "classification_metrics",
    "confusion_matrix",
    "expected_calibration_error",
    "f1_scores",
    "micro_average_roc",
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

from lensml import _keras_objects  # noqa: E402

_keras_objects.register_if_keras_loaded(finishing=__name__)  # see lensml._keras_objects
