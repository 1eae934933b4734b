"""Published DeepLense numbers as data, for ``lensml compare``.

Each entry names a model and a dataset the way lensml does (model registry names, dataset
configs without the "deeplense/" prefix), the metric key as in lensml's metrics.json, the
value and its source. Datasets that lensml does not simulate keep a descriptive key, so
they never match a lensml run by accident.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Published(NamedTuple):
    """One published number: ``metric`` uses metrics.json keys (``accuracy``, ``macro_auc``, ``mae``...)."""

    model: str
    dataset: str
    metric: str
    value: float
    source: str
    note: str = ""


_OJHA = "ML4SCI/DeepLense (Ojha) Notebooks/readme.md"
_JEPA = "Lens-JEPA, NeurIPS 2025 ML4PS"
_LENSFM = "arnesh2212/Lens-FM-DeepLense README"
_D4 = "Aditya26189/Mechanistic-Interpretability-... docs/RESULTS.md"
_DESHMUKH = "ML4SCI/DeepLense (Deshmukh) README"
_SSL_PAPER = "Self-supervised learning for dark matter Tables 1-2"

PUBLISHED: tuple[Published, ...] = (
    # Model II, 3k per class
    Published("lenspinn_large", "model_ii_3k", "accuracy", 0.996, _OJHA),
    Published("lenspinn_small", "model_ii_3k", "accuracy", 0.956, _OJHA),
    Published("lensformer", "model_ii_3k", "accuracy", 0.957, _OJHA),
    Published("resnet18", "model_ii_3k", "accuracy", 0.818, _OJHA),
    Published("vit", "model_ii_3k", "accuracy", 0.863, _OJHA),
    Published("cait", "model_ii_3k", "accuracy", 0.878, _OJHA),
    Published("vitsd", "model_ii_3k", "accuracy", 0.867, _OJHA),
    # LensPINN paper Table 1: micro F1 and one-vs-rest ROC AUC (no_sub, cdm, axion) of each row
    *(
        Published(model, "model_ii_3k", metric, value, _OJHA)
        for model, values in (
            ("resnet18", (0.817, 0.97, 0.85, 0.95)), ("vit", (0.864, 0.99, 0.66, 0.96)),
            ("cait", (0.871, 0.99, 0.64, 0.96)), ("vitsd", (0.868, 1.00, 0.66, 0.97)),
            ("lensformer", (0.959, 1.00, 0.99, 0.99)), ("lenspinn_small", (0.957, 1.00, 0.99, 0.99)),
            ("lenspinn_large", (0.996, 1.00, 1.00, 1.00)),
        )
        for metric, value in zip(("micro_f1", "auc_per_class/no_sub", "auc_per_class/cdm", "auc_per_class/axion"), values)
    ),
    # Lens-JEPA paper Table 1: the supervised rows' ROC AUC (axion, cdm, no_sub)
    *(
        Published(model, "model_ii_3k", f"auc_per_class/{cls}", value, _JEPA)
        for model, values in (("resnet18", (0.94, 0.88, 0.97)), ("vit", (0.96, 0.94, 0.99)),
                              ("cait", (0.94, 0.85, 0.95)), ("vitsd", (0.96, 0.93, 0.99)),
                              ("lensformer", (0.94, 0.92, 0.98)))
        for cls, value in zip(("axion", "cdm", "no_sub"), values)
    ),
    Published("lens_jepa", "model_ii_3k", "accuracy", 0.9120, _JEPA, "pretrained on Model A (~ model_i)"),
    Published("lens_jepa", "model_ii_3k", "auc_per_class/axion", 0.97, _JEPA),
    Published("lens_jepa", "model_ii_3k", "auc_per_class/cdm", 0.96, _JEPA),
    Published("lens_jepa", "model_ii_3k", "auc_per_class/no_sub", 1.00, _JEPA),
    Published("ijepa", "model_ii_3k", "accuracy", 0.9017, _JEPA, "pretrained on Model A (~ model_i)"),
    Published("ijepa", "model_ii_3k", "auc_per_class/axion", 0.96, _JEPA),
    Published("ijepa", "model_ii_3k", "auc_per_class/cdm", 0.95, _JEPA),
    Published("ijepa", "model_ii_3k", "auc_per_class/no_sub", 0.98, _JEPA),
    Published("lensformer", "model_ii_3k", "accuracy", 0.8969, _JEPA),
    Published("vit", "model_ii_3k", "accuracy", 0.8931, _JEPA),
    Published("vitsd", "model_ii_3k", "accuracy", 0.8838, _JEPA),
    Published("resnet18", "model_ii_3k", "accuracy", 0.8207, _JEPA),
    Published("cait", "model_ii_3k", "accuracy", 0.8065, _JEPA),
    # Model II / III, full size
    Published("lenscoat_large", "model_ii", "micro_f1", 0.999, _OJHA, "~18-20k per class"),
    Published("lenscoat_small", "model_ii", "micro_f1", 0.994, _OJHA, "~18-20k per class"),
    Published("lensformer", "model_ii", "micro_f1", 0.976, _OJHA, "F1 averaging not stated"),
    Published("lens_lejepa", "model_ii", "accuracy", 0.977, _LENSFM, "rsLoRA fine-tuning"),
    Published("lens_lejepa", "model_iii", "accuracy", 0.974, _LENSFM, "rsLoRA fine-tuning"),
    Published("resnet18", "model_ii", "accuracy", 0.9999, _LENSFM),
    Published("lenspinn", "model_ii", "accuracy", 0.9997, _LENSFM),
    Published("lensformer", "model_ii", "accuracy", 0.9820, _LENSFM, "as Lensiformer"),
    Published("vit", "model_ii", "accuracy", 0.9397, _LENSFM),
    Published("vitsd", "model_ii", "accuracy", 0.8960, _LENSFM),
    Published("cvt", "model_i", "accuracy", 0.9154, "ML4SCI/DeepLense (Sachdev) README"),
    Published("cvt", "model_ii", "accuracy", 0.9941, "ML4SCI/DeepLense (Sachdev) README"),
    Published("cvt", "model_iii", "accuracy", 0.9904, "ML4SCI/DeepLense (Sachdev) README"),
    # Per-class AUC of self-supervised models (axion, cdm, no_sub) on Models I/II/III
    *(
        Published(model, family, f"auc_per_class/{cls}", value, _DESHMUKH, note)
        for model, note, table in (
            ("simclr", "contrastive, rotation views", ((.92, .91, 1.0), (.99, .99, 1.0), (1.0, .99, 1.0))),
            ("byol", "", ((.95, .93, 1.0), (1.0, .98, 1.0), (.98, .92, .98))),
            ("resnet50", "supervised baseline", ((.97, .96, 1.0), (.98, .92, .98), (.96, .95, .99))),
        )
        for family, row in zip(("model_i", "model_ii", "model_iii"), table)
        for cls, value in zip(("axion", "cdm", "no_sub"), row)
    ),
    # The SSL paper's Tables 1-2 (macro AUC, ResNet50): Model A (HST-like: lensml model_iii),
    # Model B (Euclid-like: lensml model_ii). "resnet50" is the supervised baseline of its
    # contrastive rows (its BYOL row's own baseline: 0.990 A, 0.963 B).
    *(
        Published(model, family, "macro_auc", value, _SSL_PAPER, note)
        for model, note, values in (
            ("simclr_rotation", "contrastive, rotation pretext, fine-tuned", (0.993, 0.997)),
            ("simclr_noise", "contrastive, Gaussian-noise pretext, fine-tuned", (0.993, 0.997)),
            ("byol", "fine-tuned", (0.993, 0.960)),
            ("simsiam", "fine-tuned", (0.995, 0.996)),
            ("dino", "fine-tuned", (0.997, 0.998)),
            ("simclr_rotation_vit", "contrastive, rotation pretext, ViT encoder, fine-tuned", (0.990, 0.987)),
            ("simclr_noise_vit", "contrastive, Gaussian-noise pretext, ViT encoder, fine-tuned", (0.993, 0.990)),
            ("resnet50", "supervised baseline of the contrastive rows", (0.960, 0.967)),
            ("vit", "supervised ViT baseline of the contrastive ViT rows", (0.977, 0.983)),
        )
        for family, value in zip(("model_iii", "model_ii"), values)
    ),
    # Regression of log10(m_a / eV), MAE in dex
    *(
        Published(model, family, "mae", value, source)
        for model, source, values in (
            ("xresnet18_hybrid", "ML4SCI/DeepLense (Halychanskyi) README", (0.2737, 0.2209, 0.1262)),
            ("resnet34", "ML4SCI/DeepLense (Guan) README, ImageNet-pretrained", (0.2849, 0.2162, 0.1332)),
        )
        for family, value in zip(("model_i", "model_ii", "model_iii"), values)
    ),
    Published("resnet18", "model_ii", "mae", 0.021, _LENSFM, "regression"),
    Published("resnet18", "model_iii", "mae", 0.019, _LENSFM, "regression"),
    Published("lens_lejepa", "model_ii", "mae", 0.100, _LENSFM, "regression, rsLoRA"),
    Published("lens_lejepa", "model_iii", "mae", 0.090, _LENSFM, "regression, rsLoRA"),
    # Super-resolution
    Published("rcan", "model_i", "psnr", 30.50, "ML4SCI/DeepLense (Pranath) README"),
    Published("rcan", "model_i", "ssim", 0.570, "ML4SCI/DeepLense (Pranath) README"),
    # Datasets lensml does not simulate (kept for reference; match only by explicit name)
    Published("d4lenspinn", "no_sphere_vort_150", "macro_auc", 0.9786, _D4, "D4-TTA 0.9809"),
    Published("d4lenspinn", "no_sphere_vort_150", "accuracy", 0.904, _D4, "84.9% with D4-TTA"),
    Published("d4lenspinn_tta", "no_sphere_vort_150", "macro_auc", 0.9809, _D4, "D4LensPINN with D4-TTA (8 transforms)"),
    Published("d4lenspinn_tta", "no_sphere_vort_150", "accuracy", 0.849, _D4, "a flip changes the Sobel product's sign"),
    Published("vanilla_lenspinn", "no_sphere_vort_150", "macro_auc", 0.9776, _D4),
    Published("resnet18", "no_sphere_vort_150", "macro_auc", 0.9182, _D4),
    Published("mae_vit", "mae_benchmark", "macro_auc", 0.968, "arXiv:2512.06642", "mask ratio 0.90"),
    Published("mae_vit", "mae_benchmark", "accuracy", 0.8865, "arXiv:2512.06642", "mask ratio 0.90"),
    Published("vit", "mae_benchmark", "macro_auc", 0.957, "arXiv:2512.06642", "from scratch"),
    Published("vit", "mae_benchmark", "accuracy", 0.8246, "arXiv:2512.06642", "from scratch"),
    Published("mae_vit", "mae_benchmark", "psnr", 33.0, "arXiv:2512.06642", "16 -> 64 super-resolution, about 33 dB"),
    Published("mae_vit", "mae_benchmark", "ssim", 0.961, "arXiv:2512.06642", "16 -> 64 super-resolution"),
    Published("lensformer", "real_galaxy_tiny", "accuracy", 0.80, "ML4SCI/DeepLense (Lucas Jose) README", "2 classes"),
    Published("lensformer", "real_galaxy_tiny", "macro_auc", 0.865, "ML4SCI/DeepLense (Lucas Jose) README", "2 classes"),
)


def normalize_model(name: str | None) -> str:
    """Model names compare case- and punctuation-insensitively: "Lens-JEPA" == "lens_jepa"."""
    return re.sub(r"[^a-z0-9]", "", str(name or "").lower())


def normalize_dataset(name: str | None) -> str:
    """"deeplense/model_ii_3k:1.0.0" -> "model_ii_3k"; a folder path -> its last component."""
    text = str(name or "").strip().rstrip("/").lower()
    text = text.split(":")[0]
    if text.startswith("deeplense/"):
        return text[len("deeplense/"):]
    return text.rsplit("/", 1)[-1]


def published_for(model_name: str | None, dataset: str | None) -> list[Published]:
    """Published entries whose model and dataset match a run's (see the normalisers)."""
    model, data = normalize_model(model_name), normalize_dataset(dataset)
    return [p for p in PUBLISHED if normalize_model(p.model) == model and p.dataset == data]
