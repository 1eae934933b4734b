"""``lensml benchmark reproduce``: re-run a paper's table under the one protocol.

A *table* is a list of rows, each an experiment config in ``train/`` (one per paper table
row) and the published number it reproduces (``lensml.evaluation.published``). Supervised
rows are trained with ``lensml.training.run_seed``; self-supervised rows are chained per
seed with ``lensml.protocols.pretraining`` (pretrain -> fine-tune or linear probe -> test,
the code path of ``lensml pretrain`` / ``lensml finetune``); the from-scratch baselines of
the SSL papers with ``pretraining.finetune_seed``. The Markdown table puts the paper's number
beside lensml's mean +- std over seeds, the gap between them, both rankings and their
Spearman rank correlation; regression rows (MAE / R^2 in dex of log10 m_a) and
super-resolution rows (PSNR / SSIM beside bicubic) get tables of their own.

Scales:

- ``paper``: the configs as they are (published data sizes, epochs, seeds): a GPU machine.
- ``cpu``: a 2-core CPU, each table within an hour. Every row on the *published-compatible*
  variant of its family (``<family>_published``, the data the papers trained on), each model
  at its CPU scale with its recipe (``lensml.models.cpu_scale`` / ``recipe``; the SSL rows'
  pretraining and encoders sized in the table, ``Row.cpu``), trained on fresh lenses
  (``data.source = "stream"``; stored pairs for super-resolution) and tested on the stored
  test split of ``<family>_published_n<per_class>``. The header says what differs.
- ``small``: the older laptop scale: a ``<family>_n<per_class>`` stored dataset, fewer
  epochs and seeds, a larger learning rate (stated in the table header).
- ``tiny``: a few images, one epoch, narrow models: the test suite's smoke run.

Rows lensml cannot run (no config) say so instead of a number. Seeds run in the outer loop,
so a time budget that runs out still leaves every row with its first seeds. A controlled table
keeps every run's test predictions in ``reproduce_<table>_<scale>_predictions/`` beside its
JSON (``predictions_archive``): copy both to resume or re-render it on another machine with
intervals and paired orderings over all its seeds.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np

#: lensml's columns per row kind: (metrics key written by the runner, header).
COLUMNS = {
    "classification": (("test_accuracy", "accuracy"), ("test_micro_f1", "micro F1"), ("test_macro_auc", "macro AUC")),
    "regression": (("test_mae", "MAE (dex)"), ("test_rmse", "RMSE (dex)"), ("test_r2", "R^2")),
    "super_resolution": (("test_psnr", "PSNR (dB)"), ("test_ssim", "SSIM"), ("test_bicubic_psnr", "bicubic PSNR"),
                         ("test_bicubic_ssim", "bicubic SSIM")),
}
#: Published metrics shown for the rows of each kind other than classification (whose are the table's).
KIND_METRICS = {"regression": ("mae", "r2"), "super_resolution": ("psnr", "ssim")}
#: Which way is better for a table's primary metric (rankings, gaps).
LOWER_IS_BETTER = {"mae", "rmse"}


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of a paper table.

    ``config``: the experiment config under ``train/`` (None: lensml has none).
    ``paper_model`` / ``paper_dataset`` / ``source``: which ``Published`` entries hold the
    paper's numbers (``source`` is a substring of ``Published.source``).
    ``needs``: "pretrain" for rows that need a self-supervised pretraining stage
    (``pretrain``: its config; ``config`` is then the fine-tuning config), "finetune" for rows
    trained by ``lensml finetune`` (the SSL papers' from-scratch baselines).
    ``kind``: "classification", "regression" or "super_resolution" (which columns).
    ``cpu`` / ``cpu_pretrain``: the row's CPU scale for models outside the registry (SSL
    trainers and downstream models): ``model`` (another registry architecture for the config),
    ``options`` merged into ``model.options``, ``epochs``,
    ``steps_per_epoch``, ``recipe`` (a registry model whose recipe the run takes) and dotted
    config keys.
    ``controlled_only``: a row lensml adds to the paper's (an ablation), run at controlled scales.
    ``tta_of``: the label of an earlier row whose trained models this row tests again with D4
    test-time augmentation (``data.test_tta = "d4"``), seed for seed: nothing is trained.
    ``variant_of``: the label of the row this one changes (an ablation, an oracle, another input):
    a controlled table gives that row minus this one, paired over seeds and test lenses.
    """

    label: str
    config: str | None
    paper_model: str
    paper_dataset: str
    source: str
    needs: str | None = None
    note: str = ""
    pretrain: str | None = None
    kind: str = "classification"
    cpu: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)
    cpu_pretrain: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)
    controlled_only: bool = False
    tta_of: str | None = None
    variant_of: str | None = None


@dataclasses.dataclass(frozen=True)
class Table:
    """A paper table: its rows, the published metrics shown, the sizes of its small scales."""

    name: str
    title: str
    metrics: tuple[str, ...]
    rows: tuple[Row, ...]
    small_per_class: int = 300
    note: str = ""
    cpu_per_class: int = 500
    cpu_note: str = ""
    #: (a config's family, the family its rows train and test on at the CPU and controlled scales)
    #: pairs; a family not named here goes to its published-compatible variant.
    cpu_families: tuple[tuple[str, str], ...] = ()
    #: Controlled scales: every row's named budget-matched size (``lensml.models.size``: its
    #: parameter count +-15 %) and its epochs of the stored training split (the stream gives as
    #: many steps of as many lenses).
    size: str = "budget_1m"
    controlled_epochs: int = 7
    #: (the paper's experiment, what lensml reproduces of it and where, or why not)
    coverage: tuple[tuple[str, str], ...] = ()

    @property
    def budget(self) -> int:
        """The parameter count of the table's named size (``lensml.models.registry.budget_of``)."""
        from lensml.models.registry import budget_of

        return budget_of(self.size)

    def cpu_family(self, family: str) -> str:
        """The family a config of ``family`` runs on at the CPU and controlled scales."""
        return dict(self.cpu_families).get(family) or published_family(family)


_OJHA, _JEPA, _D4, _DESH, _MAE = "Ojha", "Lens-JEPA", "Aditya26189", "Self-supervised learning for dark matter", "2512.06642"

# CPU scales of the SSL rows (the registry models carry their own, lensml.models.cpu_scale).
_RESNET50_CPU = {"options": {"encoder_options": {"width": 16}}, "epochs": 4, "steps_per_epoch": 150, "recipe": "resnet50"}
_FINETUNE_CPU = {"epochs": 4, "steps_per_epoch": 150, "recipe": "resnet50"}
#: The SSL paper's ViT encoder rows at CPU scale: the narrow transformer (128-d, 4 blocks), the ViT recipe.
_VIT_SSL_CPU = {"options": {"encoder_options": {"embed_dim": 128, "depth": 4, "num_heads": 4, "mlp_dim": 256}},
                "epochs": 4, "steps_per_epoch": 150, "recipe": "vit"}
_VIT_SSL_FINETUNE_CPU = {"epochs": 4, "steps_per_epoch": 150, "recipe": "vit"}
_SMALL_VIT = {"embed_dim": 128, "depth": 4, "num_heads": 4}
_MAE_PRETRAIN_CPU = {"options": {**_SMALL_VIT, "decoder_dim": 64, "decoder_depth": 2, "decoder_heads": 4},
                     "epochs": 4, "steps_per_epoch": 150, "training.learning_rate": 1.5e-3}
_VIT_FINETUNE_CPU = {"epochs": 6, "steps_per_epoch": 200, "recipe": "vit"}
#: The D4LensPINN table: one lens budget for every row (28,800 lenses), as the paper gives every row its epochs.
_D4_CPU = {"epochs": 4, "steps_per_epoch": 150}
_JEPA_PRETRAIN_CPU = {"options": {"embed_dim": 128, "num_heads": 4, "predictor_dim": 128, "predictor_depth": 2,
                                  "predictor_heads": 4, "patch_size": 5},  # 10 x 10 tokens on 50 x 50
                      "epochs": 4, "steps_per_epoch": 100, "data.batch_size": 32}


def _mae_rows() -> tuple[Row, ...]:
    """The MAE paper's rows: a pretraining per mask ratio (its ablation), each fine-tuned for
    classification and for super-resolution, and both tasks trained from scratch with the same
    encoder, head and decoder."""
    vit_cpu = {"encoder_options": {"dim": 128, "depth": 4, "num_heads": 4, "patch_size": 8, "cls_token": True}}
    sr_cpu = {"epochs": 8, "recipe": "vit", "training.learning_rate": 1e-3}
    classify, resolve = [], []
    for mask in (90, 75, 50):
        pre, paper = f"train/ssl/pretrain_mae_vit_mask{mask}_model_ii.toml", "mae_vit" if mask == 90 else f"mae_vit_mask{mask}"
        classify.append(Row(f"MAE ViT (mask 0.{mask})", f"train/ssl/finetune_mae_vit_mask{mask}_model_ii.toml", paper,
                            "mae_benchmark", _MAE, "pretrain", "lensml: Model II", pre,
                            cpu={**_VIT_FINETUNE_CPU, "options": {}}, cpu_pretrain=_MAE_PRETRAIN_CPU))
        resolve.append(Row("MAE ViT super-resolution 16 -> 64" + ("" if mask == 90 else f" (mask 0.{mask})"),
                           f"train/ssl/finetune_mae_vit_mask{mask}_sr16_model_ii.toml", paper, "mae_benchmark", _MAE,
                           "pretrain", "lensml: Model II", pre, kind="super_resolution", cpu=sr_cpu,
                           cpu_pretrain=_MAE_PRETRAIN_CPU))
    scratch = Row("ViT (scratch)", "train/ssl/scratch_mae_vit_model_ii.toml", "vit", "mae_benchmark", _MAE, "finetune",
                  "lensml: Model II", cpu={**_VIT_FINETUNE_CPU, "model.name": "ssl_vit", "options": vit_cpu})
    scratch_sr = Row("ViT super-resolution 16 -> 64 (scratch)", "train/ssl/scratch_mae_vit_sr16_model_ii.toml",
                     "vit_sr_scratch", "mae_benchmark", _MAE, "finetune", "lensml: Model II", kind="super_resolution",
                     cpu={**sr_cpu, "model.name": "ssl_vit", "options": vit_cpu})
    return (*classify, scratch, *resolve, scratch_sr)


def _ssl_rows() -> tuple[Row, ...]:
    """The SSL paper's rows on both data models: its 14 self-supervised rows (contrastive with the
    rotation and the Gaussian-noise pretext on ResNet50 and ViT encoders, BYOL, SimSiam and DINO on
    ResNet50), the supervised ResNet50 and ViT baselines, and axion-mass regression from every
    ResNet50 method beside the supervised one."""
    rows = []
    methods = (("Contrastive (rotation)", "simclr_rotation"), ("Contrastive (Gaussian noise)", "simclr_noise"),
               ("BYOL", "byol"), ("SimSiam", "simsiam"), ("DINO", "dino"))
    for fam, model_letter in (("model_ii", "B"), ("model_iii", "A")):
        data = f"Model {model_letter}"
        for label, method in methods:
            stem = f"{method}_resnet50"
            rows.append(Row(f"{label}, ResNet50 ({fam})", f"train/ssl/finetune_{stem}_{fam}.toml", method, fam, _DESH,
                            "pretrain", data, f"train/ssl/pretrain_{stem}_{fam}.toml",
                            cpu=_FINETUNE_CPU, cpu_pretrain=_RESNET50_CPU))
        for label, method in methods[:2]:
            stem = f"{method}_vit"
            rows.append(Row(f"{label}, ViT ({fam})", f"train/ssl/finetune_{stem}_{fam}.toml", stem, fam, _DESH,
                            "pretrain", data, f"train/ssl/pretrain_{stem}_{fam}.toml",
                            cpu=_VIT_SSL_FINETUNE_CPU, cpu_pretrain=_VIT_SSL_CPU))
        rows.append(Row(f"ResNet50 supervised ({fam})", f"train/ssl/scratch_resnet50_{fam}.toml", "resnet50", fam, _DESH,
                        "finetune", data, cpu=_RESNET50_CPU))
        rows.append(Row(f"ViT supervised ({fam})", f"train/ssl/scratch_vit_{fam}.toml", "vit", fam, _DESH,
                        "finetune", data, cpu=_VIT_SSL_CPU))
        for label, method in methods:
            stem = f"{method}_resnet50"
            rows.append(Row(f"{label} regression ({fam})", f"train/ssl/finetune_regression_{stem}_{fam}.toml", method,
                            fam, _DESH, "pretrain", data, f"train/ssl/pretrain_{stem}_{fam}.toml",
                            kind="regression", cpu=_FINETUNE_CPU, cpu_pretrain=_RESNET50_CPU))
        rows.append(Row(f"ResNet50 supervised regression ({fam})", f"train/resnet50_regression_{fam}.toml", "resnet50",
                        fam, _DESH, None, data, kind="regression"))
    return tuple(rows)


TABLES: dict[str, Table] = {
    "lenspinn": Table(
        "lenspinn", "LensPINN (NeurIPS 2024 ML4PS) Table 1: Model II, 3,000 images per class",
        ("accuracy", "micro_f1", "auc_per_class/no_sub", "auc_per_class/cdm", "auc_per_class/axion"),
        tuple(Row(label, f"train/{cfg}_model_ii_3k.toml", cfg, "model_ii_3k", _OJHA) for label, cfg in (
            ("ResNet18", "resnet18"), ("ViT", "vit"), ("CaiT", "cait"), ("ViTSD", "vitsd"),
            ("Lensformer", "lensformer"), ("LensPINN_small", "lenspinn_small"), ("LensPINN_large", "lenspinn_large"),
        )) + tuple(  # ablations (lensml's, at the same budget): the physics branch removed
            Row(f"{label} without its physics branch", f"train/{cfg}_model_ii_3k.toml", f"{cfg}_no_physics",
                "model_ii_3k", _OJHA, cpu={"options": {"physics": False}}, controlled_only=True, variant_of=label)
            for label, cfg in (("Lensformer", "lensformer"), ("LensPINN_small", "lenspinn_small"),
                               ("LensPINN_large", "lenspinn_large"))) + (
            # the oracle: every lens of a DeepLense family has the family's one Einstein radius
            Row("LensPINN_small with the true Einstein radius", "train/lenspinn_small_model_ii_3k.toml",
                "lenspinn_small_oracle", "model_ii_3k", _OJHA, cpu={"options": {"theta_E_fixed": "family"}},
                controlled_only=True, variant_of="LensPINN_small"),) + tuple(
            # the paper's Table 2: its decoders' CNNs alone, on the preprocessed vs the raw image
            # (the paper's numbers are not in its text; lensml's rows stand alone)
            Row(f"{label} on the {view} image", "train/resnet18_model_ii_3k.toml", f"{cnn}_{view}", "model_ii_3k",
                _OJHA, cpu={"model": cnn, "options": {"input_map": "lenspinn"} if view == "preprocessed" else {}},
                controlled_only=True, variant_of=f"{label} on the preprocessed image" if view == "raw" else None)
            for label, cnn in (("MobileNetV3-Small", "mobilenetv3_small"), ("EfficientNetB0", "efficientnet_b0"))
            for view in ("preprocessed", "raw")),
        # 7 rows x 2 seeds, four of them 14M-parameter transformers: 250 per class keeps the
        # whole table under an hour on a 2-core CPU (300 per class took ~56 min).
        small_per_class=250,
        coverage=(
            ("Table 1 (seven models, accuracy, micro F1, per-class AUC)", "every row, at every scale"),
            ("Table 2 (a CNN on the preprocessed vs the raw image)", "MobileNetV3-Small and EfficientNetB0 rows at the "
             "controlled scales (`input_map`); the paper's numbers are not in its text"),
            ("Fig. 2 micro-averaged ROC", "`micro_auc` and its curve in every run's evaluation report, not in this table"),
            ("Fig. 3 Grad-CAM on the preprocessed image", "every run's evaluation report (`gradcam.png`)"),
            ("faster convergence", "each run's history.csv; not summarised here"),
        ),
        cpu_note="The paper trains 50 epochs on 2,160 stored images per class (Model II as published); lensml "
                 "trains each model at its CPU scale (transformers narrowed to 128-d, 4 blocks; ResNet18 at width 24; "
                 "LensPINN_large with half-width EfficientNet decoders) on fresh lenses of the same simulator.",
    ),
    "lens_jepa": Table(
        "lens_jepa", "Lens-JEPA (NeurIPS 2025 ML4PS) Table 1: pretrained on Model A, fine-tuned on Model B, "
                     "3,000 per class",
        ("accuracy", "auc_per_class/axion", "auc_per_class/cdm", "auc_per_class/no_sub"),
        tuple(Row(label, f"train/{cfg}_lens_jepa_model_b_3k.toml", cfg, "model_ii_3k", _JEPA) for label, cfg in (
            ("ResNet18", "resnet18"), ("CaiT", "cait"), ("ViTSD", "vitsd"), ("ViT", "vit"), ("Lensformer", "lensformer"),
        )) + (
            Row("I-JEPA", "train/ssl/finetune_ijepa_model_b_3k.toml", "ijepa", "model_ii_3k", _JEPA, "pretrain",
                "pretrained on Model A", "train/ssl/pretrain_ijepa_model_a.toml",
                cpu=_VIT_FINETUNE_CPU, cpu_pretrain=_JEPA_PRETRAIN_CPU),
            Row("Lens-JEPA", "train/ssl/finetune_lens_jepa_model_b_3k.toml", "lens_jepa", "model_ii_3k", _JEPA,
                "pretrain", "pretrained on Model A", "train/ssl/pretrain_lens_jepa_model_a.toml",
                cpu=_VIT_FINETUNE_CPU, cpu_pretrain={**_JEPA_PRETRAIN_CPU, "options": {
                    **_JEPA_PRETRAIN_CPU["options"], "k_embed_dim": 32}}),
        ),
        coverage=(
            ("Table 1 (seven models, accuracy, per-class AUC)", "every row, on lensml's Model A (pretraining) and "
             "Model B (fine-tuning and the supervised rows), 150x150 (at CPU scale the same fields in 50x50 pixels)"),
        ),
        cpu_families=(("lens_jepa_model_a", "lens_jepa_model_a_50"), ("lens_jepa_model_b", "lens_jepa_model_b_50")),
        cpu_note="The paper pretrains 300 epochs on 10k Model A images and fine-tunes 50 epochs on 2,160 stored "
                 "Model B images per class; lensml pretrains (I-JEPA, Lens-JEPA: 128-d encoders, 2-block predictors) "
                 "on fresh Model A lenses and fine-tunes every row at CPU scale on fresh Model B lenses, both at "
                 "50x50 (the same 7.5\" and 6.46\" fields in 3x coarser pixels: 150x150 costs ~9x more per step).",
    ),
    "d4lenspinn": Table(
        "d4lenspinn", "D4LensPINN write-up: the paper's no / sphere / vort data (150x150), 3k test",
        ("macro_auc", "accuracy"),
        tuple(Row(label, f"train/{cfg}_no_sphere_vort.toml", cfg, "no_sphere_vort_150", _D4, cpu=_D4_CPU)
              for label, cfg in (("D4LensPINN", "d4lenspinn"), ("VanillaLensPINN", "vanilla_lenspinn"),
                                 ("ResNet18 (scratch)", "resnet18"))) + (
            # the paper's D4 test-time augmentation: D4LensPINN's trained models, tested again
            Row("D4LensPINN with D4-TTA", "train/d4lenspinn_no_sphere_vort.toml", "d4lenspinn_tta",
                "no_sphere_vort_150", _D4, cpu=_D4_CPU, tta_of="D4LensPINN"),
            # the ablation (lensml's, at the same budget and with D4LensPINN's recipe): the physics branch
            # removed, its EfficientNetV2-S head alone on the image
            Row("EfficientNetV2-S head alone (no physics)", "train/resnet18_no_sphere_vort.toml",
                "efficientnetv2_s_no_physics", "no_sphere_vort_150", _D4,
                cpu={**_D4_CPU, "model": "efficientnetv2_s", "recipe": "d4lenspinn"},
                controlled_only=True, variant_of="D4LensPINN"),),
        small_per_class=150,
        note="The paper's EfficientNetV2-S head starts from ImageNet weights (stages 0-2 frozen); lensml downloads "
             "no weights and trains it from scratch. lensml's no_sphere_vort follows the public PyLensing recipe "
             "the paper's class names come from (see the dataset card for what is inferred).",
        coverage=(
            ("main table (D4LensPINN, VanillaLensPINN, ResNet18; macro AUC)", "every row, on lensml's no / sphere / "
             "vort (PyLensing's recipe; at CPU scale the same field in 50x50 pixels)"),
            ("D4 test-time augmentation (0.9786 -> 0.9809)", "the D4-TTA row: D4LensPINN's own trained models tested "
             "again with `data.test_tta = \"d4\"`, seed for seed"),
            ("activation patching, linear probes, D4-element probe, equivariance error",
             "`lensml evaluate --interpretability` (the Poisson solver's outputs as sites `poisson/0`, `poisson/1`); "
             "not in this table"),
            ("Sobel-product preprocessing", "`preprocessing=\"sobel_product\"`; the rows use the D4-invariant default"),
        ),
        cpu_families=(("no_sphere_vort", "no_sphere_vort_50"),),
        cpu_note="The paper trains 55 epochs on 8k 150x150 images per class. At CPU scale lensml runs this table on "
                 "no_sphere_vort_50, the same 7.5\" field in 50x50 pixels of 0.15\" (sky noise per pixel scaled "
                 "with its area): a 150x150 D4LensPINN step costs ~3-4 s on 2 cores, and 400 such steps of Model I "
                 "left D4LensPINN at chance. Every row trains on the same 28,800 fresh lenses (600 steps of 48) at CPU "
                 "scale (D4 U-Net fields 2-4-4-8, VanillaLensPINN's plain U-Net as wide, a quarter-width "
                 "EfficientNetV2 head; ResNet18 at width 24).",
    ),
    "ssl": Table(
        "ssl", "Self-supervised learning for dark matter Tables 1-2: macro AUC, Model A (HST-like, "
               "lensml model_iii) and Model B (Euclid-like, lensml model_ii); axion-mass regression (Fig. 2)",
        ("macro_auc",),
        _ssl_rows(),
        coverage=(
            ("Tables 1-2, 14 self-supervised rows and their supervised baselines", "every row on both data "
             "models: contrastive (rotation, Gaussian noise) with ResNet50 and ViT encoders, BYOL, SimSiam and DINO "
             "with ResNet50; supervised ResNet50 and ViT"),
            ("regression (Fig. 2)", "every ResNet50 method beside the supervised one (the figure does not say "
             "which methods it shows: all are run)"),
            ("the paper's view recipe", "BYOL: random flips and rotations (the exact D4 group), as the paper says; "
             "the contrastive rows use their pretexts; SimSiam and DINO, whose views the paper does not give, "
             "lensml's lens-safe views (D4, noise, PSF blur; DINO's local crops)"),
        ),
        cpu_note="The paper pretrains and fine-tunes full ResNet50s and a 12-block ViT on 30,000 images per class "
                 "(64x64); lensml pretrains ResNet50s at width 16 (ViTs at 128-d, 4 blocks) for 600 steps of 48 fresh "
                 "lenses and fine-tunes (and trains the supervised baselines) for 600 steps with the same recipe. The paper's supervised number is that of "
                 "its contrastive rows (BYOL's own baseline: 0.990 Model A, 0.963 Model B). Its regression results "
                 "are a figure (no number): lensml's MAE / R^2 are shown beside its supervised regression baseline.",
    ),
    "mae": Table(
        "mae", "Masked autoencoders for DeepLense (arXiv:2512.06642): classification and 16 -> 64 super-resolution, "
               "with its mask-ratio ablation",
        ("macro_auc", "accuracy"),
        _mae_rows(),
        coverage=(
            ("classification with mask 0.90 vs a ViT from scratch", "both rows; the scratch ViT is the MAE's encoder "
             "with the fine-tuned MAE's linear head (the paper's reads the CLS token; lensml's token encoders pool "
             "by the mean)"),
            ("16 -> 64 super-resolution, and the same decoder trained from scratch", "both rows"),
            ("mask-ratio ablation (0.5 / 0.75 / 0.9): classification and super-resolution",
             "a pretraining per mask ratio, each fine-tuned for both tasks (the paper's ablation numbers are not in "
             "its text: lensml's rows stand alone)"),
        ),
        cpu_note="The paper pretrains a ViT 100 epochs on the DeepLense benchmark and fine-tunes it; lensml "
                 "pretrains a 128-d, 4-block ViT MAE per mask ratio for 600 steps of fresh Model II lenses, "
                 "fine-tunes it and trains the same ViT from scratch for 1,200 steps each; super-resolution "
                 "fine-tunes the MAE's patch tokens (or trains them from scratch) on the stored 16x16 -> 64x64 pairs.",
    ),
}


@dataclasses.dataclass(frozen=True)
class Scale:
    """How a scale changes every row's config (None: keep the config's value)."""

    name: str
    per_class: int | None = None
    epochs: int | None = None
    seeds: tuple[int, ...] | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    tiny_models: bool = False
    cpu_scale: bool = False
    regime: str | None = None

    def describe(self, table: Table) -> str:
        if self.regime:
            return self._describe_controlled(table)
        if self.name == "paper":
            return "Scale paper: each config as published (data size, epochs, seeds, optimiser)."
        per_class = self.per_class or (table.cpu_per_class if self.cpu_scale else table.small_per_class)
        from lensml.datasets import split_sizes

        tr, va, te = split_sizes(per_class)
        if self.cpu_scale:
            return (f"Scale cpu: {_cpu_data(table)}; each model with its "
                    f"recipe at its CPU scale, trained on fresh lenses (batch {self.batch_size}), best checkpoint by "
                    f"the validation metric its config monitors (`training.monitor`: {_monitors(table)}), tested on the stored test split of `<data>_n{per_class}` ({te} per "
                    f"class; validation {va} per class); seeds {list(self.seeds)}. " + table.cpu_note
                    + " These are not the paper's numbers: compare the ranking (Spearman below) and the gaps."
                    + (f" With one seed, an accuracy's uncertainty is its binomial standard error on the {3 * te} "
                       f"test lenses, sqrt(a (1 - a) / {3 * te}): {((0.9 * 0.1) / (3 * te)) ** 0.5:.3f} at 0.9, "
                       f"{((0.7 * 0.3) / (3 * te)) ** 0.5:.3f} at 0.7." if len(self.seeds) == 1 else ""))
        parts = [f"{per_class} images per class ({tr}/{va}/{te} train/validation/test) instead of the config's dataset",
                 f"{self.epochs} epoch(s)", f"seeds {list(self.seeds)}"]
        if self.batch_size:
            parts.append(f"batch {self.batch_size}")
        if self.learning_rate:
            parts.append(f"peak learning rate {self.learning_rate:g} with a cosine schedule (few steps need larger ones)")
        if self.tiny_models:
            parts.append("narrow models (smoke test)")
        return (f"Scale {self.name}: " + "; ".join(parts) + ". Optimiser and everything else as in each config. "
                "These numbers are not the paper's scale: compare the ranking, not the values.")


    def _describe_controlled(self, table: Table) -> str:
        from lensml.datasets import split_sizes

        tr, va, te = split_sizes(self.per_class)
        steps = controlled_steps(table, self)
        data = {"fresh": f"fresh lenses of {_cpu_data(table)} every step (the batched simulator; no augmentation)",
                "stored": f"the stored training split of {_cpu_data(table)}, {tr:,} per class as in the "
                          f"papers, for {table.controlled_epochs} epochs (the config's augmentation)",
                "noisy": f"the stored training split of the *realistic* family (noise and PSF: what the published "
                         f"data lacks), {tr:,} per class, {table.controlled_epochs} epochs"}[self.regime]
        shared = ("the realistic family's own test lenses, the same for every row (not the fresh and stored regimes' "
                  "noiseless ones)" if self.regime == "noisy" else
                  "the same lenses for every row, and for the fresh and stored regimes")
        return (f"Scale {self.name} (controlled, regime {self.regime!r}): every row at one parameter budget, "
                f"{table.budget:,} +- 15 % (each architecture's width scaled to it, depths as published; the params "
                f"column is each row's count, and a row that cannot be matched says why), and one training budget: "
                f"{steps:,} optimizer steps of {self.batch_size} images ({steps * self.batch_size:,} images seen), "
                f"each model with its family's recipe (a self-supervised row pretrains its encoder, sized to the "
                f"budget as the classifier it becomes, for as many steps of unlabelled lenses first, then fine-tunes "
                f"with its baseline's recipe). Data: {data}. Tested on the stored test split of "
                f"`<family>_n{self.per_class}` ({te} per class: {shared}); validation "
                f"{va} per class; the checkpoint kept is the best epoch by each config's `training.monitor` (the "
                f"monitor column); seeds {list(self.seeds)} (initialisation and data order / stream). Each cell is the "
                f"mean +- std over seeds; the 95 % interval resamples seeds and test lenses (lensml.evaluation.intervals)."
                + (" Super-resolution rows train on the stored low/high-resolution pairs (`<family>_sr<pixels>_n"
                   f"{self.per_class}`) in every regime, for the same steps (the stream has no pairs): the "
                   "encoder of their classification sibling (one encoder per method), the config's decoder."
                   if any(r.kind == "super_resolution" for r in table.rows) else ""))


def _cpu_data(table: Table) -> str:
    """What a table's CPU and controlled scales train on, in words."""
    own = ", ".join(f"`{small}` for `{family}`" for family, small in table.cpu_families)
    if own:
        return f"the paper's own data at CPU size ({own}: the same fields in coarser pixels)"
    return ("the published-compatible data (`<family>_published`: the DeepLense simulator as the papers used it, "
            "Models II/III stored as twice the noiseless model)")


def _monitors(table: Table) -> str:
    """The checkpoint monitors of ``table``'s supervised rows as shipped, e.g. "val_loss" or
    "val_macro_auc" (the text of a table says what its runs kept, not what most tables do)."""
    from lensml.training.config import load_config
    from lensml.training.shipped import shipped_root

    seen = {}
    for row in table.rows:
        if row.config and (shipped_root() / row.config).is_file():
            seen.setdefault(load_config(shipped_root() / row.config).training.monitor, []).append(row.label)
    if len(seen) == 1:
        return next(iter(seen))
    return "; ".join(f"{m} for {', '.join(rows)}" for m, rows in seen.items())


def controlled_steps(table: Table, scale: Scale) -> int:
    """Optimizer steps of every row of ``table`` at a controlled scale: its epochs of the stored
    training split in batches of ``scale.batch_size``."""
    from lensml.datasets import split_sizes

    per_epoch = split_sizes(scale.per_class)[0] * 3 // scale.batch_size
    return per_epoch * table.controlled_epochs


SCALES = {
    "paper": Scale("paper"),
    "cpu": Scale("cpu", seeds=(0,), batch_size=48, cpu_scale=True),
    "small": Scale("small", epochs=3, seeds=(0, 1), batch_size=32, learning_rate=1e-3),
    "tiny": Scale("tiny", per_class=8, epochs=1, seeds=(0,), batch_size=16, learning_rate=1e-3, tiny_models=True),
    # like-for-like rows (one parameter and one training budget), 3 seeds, 600 test lenses per class
    "controlled": Scale("controlled", per_class=3000, seeds=(0, 1, 2), batch_size=48, regime="fresh"),
    "controlled_stored": Scale("controlled_stored", per_class=3000, seeds=(0, 1, 2), batch_size=48, regime="stored"),
    "controlled_noisy": Scale("controlled_noisy", per_class=3000, seeds=(0, 1, 2), batch_size=48, regime="noisy"),
}


def row_metrics(table: Table, row: Row) -> tuple[str, ...]:
    """The published metrics of ``row``'s kind: the table's for classification."""
    return KIND_METRICS.get(row.kind, table.metrics)


def paper_values(table: Table, row: Row) -> dict[str, float]:
    """{metric: published value} of ``row`` for the metrics of its kind (``row_metrics``)."""
    from lensml.evaluation.published import PUBLISHED

    out = {}
    for p in PUBLISHED:
        if p.model == row.paper_model and p.dataset == row.paper_dataset and row.source in p.source \
                and p.metric in row_metrics(table, row):
            out[p.metric] = p.value
    return out


def unavailable_reason(row: Row, root: Path, scale: Scale | None = None) -> str | None:
    """Why ``row`` cannot run in this checkout at ``scale`` (None: it can)."""
    if row.config is None:
        return "not available: lensml has no config for this row in train/"
    if scale is not None and row.controlled_only and not scale.regime:
        return "lensml's ablation: run at the controlled scales only"
    for path in (row.pretrain, row.config):
        if path and not (root / path).is_file():
            return f"not available: {path} does not exist"
    if scale is not None and scale.regime:
        if row.needs and _controlled_encoder(row, root) is None:
            return "not run at controlled scales: lensml cannot size this row's encoder to the table's budget"
    return None


def _controlled_encoder(row: Row, root: Path) -> str | None:
    """The image encoder a self-supervised or from-scratch row sizes to a controlled table's budget
    (``_encoder_of`` its pretraining's config, or of its from-scratch config)."""
    from lensml.training.config import load_config

    return _encoder_of(load_config(root / (row.pretrain if row.needs == "pretrain" else row.config)))


def _encoder_of(config) -> str | None:
    """The image encoder a self-supervised pretraining config trains (its ``encoder``; ``ssl_vit``
    for the token trainers MAE, I-JEPA and Lens-JEPA, whose encoder is that ViT) or a from-scratch
    baseline builds (its model); None where there is none to size (a fine-tuning of a pretrained
    encoder)."""
    from lensml.ssl import TRAINERS
    from lensml.ssl.factory import IMAGE_ENCODER_METHODS, TOKEN_METHODS

    name = config.model.name
    if name in IMAGE_ENCODER_METHODS:
        return config.model.options.get("encoder", "resnet50")
    if name in TOKEN_METHODS:
        return "ssl_vit"
    return None if name in TRAINERS or name == "pretrained" else name


def _token_patch(patch_size, config_pixels: int, pixels: int):
    """A token encoder's patch at ``pixels`` a side for a config made for ``config_pixels``: the
    divisor of ``pixels`` nearest (in ratio) to the config's patch scaled with the image, so the
    token grid stays about the config's (a 150x150 config's 10-pixel patches, 15 a side, become
    5-pixel patches, 10 a side, on the same field in 50x50). None (the encoder's default) stays."""
    if patch_size is None:
        return None
    target = patch_size * pixels / config_pixels
    return min((d for d in range(1, pixels + 1) if pixels % d == 0), key=lambda d: abs(math.log(d / target)))


def _token_encoder_for_budget(config, table: Table, family: str, head_hidden) -> dict:
    """The options of a token trainer (MAE, I-JEPA, Lens-JEPA) or of its from-scratch ``ssl_vit``
    baseline with the encoder's token width (``widths.token_vit`` at the config's heads) sized to
    ``table``'s budget as the classifier it becomes: the trainer's own encoder (Lens-JEPA's with its
    physics tokenizer) or the registry's ``ssl_vit``, at the config's depth, heads, class token and
    token grid on ``family``'s images, with the fine-tuning's ``head_hidden``. A trainer's decoder
    or predictor is scaled by the encoder's factor, its depth and heads kept."""
    from functools import partial

    from lensml.datasets import Deeplense
    from lensml.models import widths
    from lensml.models.budget import build_without_weights, options_for_budget
    from lensml.models.registry import budget_of
    from lensml.simulation import get_family
    from lensml.ssl.factory import TOKEN_METHODS, build_trainer, pretrained_encoder
    from lensml.ssl.finetune import build_classifier

    options = dict(config.model.options)
    trainer = config.model.name in TOKEN_METHODS
    arch = options if trainer else dict(options.get("encoder_options", {}))
    spec = get_family(family)
    pixels = spec.instrument.num_pix
    config_family = Deeplense.get_builder_config(config.data.dataset.split("/")[-1]).family
    patch = _token_patch(arch.get("patch_size"), get_num_pix(config_family), pixels)
    heads = int(arch.get("num_heads", 4))
    grid = {"patch_size": patch} if patch else {}
    base = {"depth": int(arch.get("depth", 2)), "num_heads": heads, "cls_token": bool(arch.get("cls_token", False)),
            "head_hidden": list(head_hidden), **grid}
    shape, classes = (pixels, pixels, 1), len(spec.class_names)

    def classifier_params(sized: dict) -> int:  # the trainer's encoder, fine-tuned with its row's head
        def make():
            model = build_trainer(config.model.name, shape, **{**options, **grid, "embed_dim": sized["dim"]})
            return build_classifier(pretrained_encoder(model), classes, hidden=tuple(head_hidden), input_shape=shape)
        return int(build_without_weights(make).count_params())

    sized = options_for_budget("ssl_vit", budget_of(table.size), base_options=base, input_shape=shape,
                               num_classes=classes, rule=partial(widths.token_vit, num_heads=heads),
                               count=classifier_params if trainer else None)
    dim = sized["options"]["dim"]
    if not trainer:
        return {**options, "encoder_options": {**arch, **grid, "dim": dim}}
    factor = dim / int(arch.get("embed_dim", 64))
    sized_trainer = {**options, **grid, "embed_dim": dim}
    for part in ("decoder", "predictor"):  # MAE's decoder, a JEPA's predictor: the encoder's factor
        if f"{part}_dim" in options:
            multiple = math.lcm(4, int(options.get(f"{part}_heads", 4)))
            sized_trainer[f"{part}_dim"] = widths.channels(options[f"{part}_dim"], factor, multiple=multiple,
                                                           minimum=2 * multiple)
    return family_pixel_scale(config.model.name, sized_trainer, family)


def published_family(family: str) -> str:
    """The published-compatible variant of ``family`` (itself if it is one or has none)."""
    from lensml.simulation.families import FAMILIES

    variant = f"{family}_published"
    return family if family.endswith("_published") or variant not in FAMILIES else variant


def _cpu_overrides(config, plan: dict, per_class: int, *, tiny: bool, registry: bool, table: Table) -> dict:
    """Overrides that put ``config`` at the CPU scale ``plan`` (see ``Row.cpu``): the
    published-compatible family, fresh lenses (stored pairs for super-resolution), the recipe
    (its batch size aside: the scale's), and for registry models (``registry``) their own CPU scale."""
    from lensml.datasets import Deeplense, sized_config
    from lensml.models import available, cpu_scale
    from lensml.training.recipes import recipe

    cfg = Deeplense.get_builder_config(config.data.dataset.split("/")[-1])
    plan = dict(plan)
    name = plan.pop("model", config.model.name)  # an added row may train another architecture
    base = config.model.options if name == config.model.name else {}
    recipe_of = plan.pop("recipe", name)
    over: dict = {"model.name": name}
    if recipe_of in available():
        over.update({k: v for k, v in recipe(recipe_of).items() if k != "data.batch_size"})
    if registry and name in available():
        registry = cpu_scale(name)
        plan = {**registry, **plan, "options": {**registry["options"], **plan.get("options", {})}}
    epochs = plan.pop("epochs", 4)
    steps = plan.pop("steps_per_epoch", 150)
    options = plan.pop("options", {})
    lr_pixels = cfg.sr_factor and get_num_pix(cfg.family) // cfg.sr_factor
    over["data.dataset"] = sized_config(table.cpu_family(cfg.family), per_class, lr_pixels=lr_pixels or None)
    stream = not lr_pixels and not tiny  # a stream has no super-resolution pairs
    over["data.source"] = "stream" if stream else "stored"
    over["data.steps_per_epoch"] = steps if stream else None
    if stream:
        over["data.augment"] = ""
        over["data.label_fraction"] = 1.0
    over["training.epochs"] = 1 if tiny else epochs
    over["model.options"] = family_pixel_scale(name, {**base, **options}, table.cpu_family(cfg.family))
    over.update(plan)  # dotted config keys of the row (learning rate, batch size, ...)
    if config.training.physics_phase2_epoch:
        ratio = over["training.epochs"] / config.training.epochs
        over["training.physics_phase2_epoch"] = min(over["training.epochs"] - 1,
                                                    max(1, round(config.training.physics_phase2_epoch * ratio)))
    return over


def _controlled_overrides(config, row: Row, table: Table, scale: Scale, root: Path | None = None) -> dict:
    """Overrides that put a supervised ``row`` at a controlled scale: the table's parameter
    budget (``lensml.models.budget``), its recipe, ``controlled_steps`` steps of ``scale.batch_size``
    in the scale's data regime, tested on the stored test split of the regime's family."""
    from lensml.models.registry import size
    from lensml.simulation import get_family
    from lensml.training.recipes import recipe

    if row.needs:
        return _controlled_ssl_overrides(config, row, table, scale, root)
    if row.kind not in ("classification", "regression"):
        raise ValueError(f"row {row.label!r}: a {row.kind} row is not run at controlled scales yet")
    name = row.cpu.get("model", config.model.name)  # an added row may train another architecture
    family, data = _controlled_data(config, table, scale)
    spec = get_family(family)
    pixels = spec.instrument.num_pix
    base = family_pixel_scale(name, {**(config.model.options if name == config.model.name else {}),
                                     **row.cpu.get("options", {})}, family)
    if base.get("theta_E_fixed") == "family":  # the oracle row: the family's own Einstein radius
        if not isinstance(spec.theta_E, (int, float)):
            raise ValueError(f"row {row.label!r}: family {family!r} has no single Einstein radius ({spec.theta_E!r})")
        base["theta_E_fixed"] = float(spec.theta_E)
    task = base.pop("task", "classification")  # a regression row: the head it is sized with
    options = size(name, table.size, base_options=base, input_shape=(pixels, pixels, 1),
                   num_classes=len(spec.class_names), task=task)
    if task != "classification":
        options = {**options, "task": task}
    # its model family's recipe, or the one the row names (an ablation trains with its full model's)
    # (its phases measured in epochs shrunk to the table's; a recipe's own warmup wins)
    over = {**epoch_phases(config, table.controlled_epochs),
            **{k: v for k, v in recipe(row.cpu.get("recipe", name)).items() if k != "data.batch_size"}}
    over.update({"model.name": name, "model.options": options, **data})
    return over


def epoch_phases(config, epochs: int) -> dict:
    """Overrides that shrink ``config``'s schedule and phases measured in epochs (the warmup, the
    physics losses' second phase) in proportion to a run cut to ``epochs``: a 300-epoch
    pretraining's 40 warmup epochs become 0.93 of 7, not 40 that the run never leaves."""
    ratio = epochs / config.training.epochs
    over = {}
    if config.training.warmup_epochs:
        over["training.warmup_epochs"] = config.training.warmup_epochs * ratio
    phase2 = config.training.physics_phase2_epoch
    if phase2 is not None:
        over["training.physics_phase2_epoch"] = min(epochs - 1, max(1, round(phase2 * ratio))) if phase2 else 0
    return over


def family_pixel_scale(name: str, options: dict, family: str) -> dict:
    """``options`` with ``pixel_scale`` set to ``family``'s where model ``name`` takes one (the
    physics models read their grid in arcsec): a row run on another family than its config's
    keeps its physics right."""
    from lensml.models import available
    from lensml.models.registry import option_defaults
    from lensml.simulation import get_family

    scale = round(float(get_family(family).instrument.pixel_scale), 6)
    default = option_defaults(name).get("pixel_scale") if name in available() else None
    # set where the config gives one, or where the model's default differs (left out where it is
    # the default: the config, and the budget a controlled table resumes by, stay as they were)
    if "pixel_scale" in options or (default is not None and default != scale):
        return {**options, "pixel_scale": scale}
    return dict(options)


def _controlled_data(config, table: Table, scale: Scale) -> tuple[str, dict]:
    """(family, overrides) every controlled row shares: the regime's data, batch, epochs, steps, seeds."""
    from lensml.datasets import Deeplense, sized_config

    cfg = Deeplense.get_builder_config(config.data.dataset.split("/")[-1])
    family = table.cpu_family(cfg.family)
    if scale.regime == "noisy":
        family = family.removesuffix("_published")
    # a super-resolution row: the stored pairs at the config's factor, in every regime (a stream has no pairs)
    lr_pixels = get_num_pix(family) // cfg.sr_factor if cfg.sr_factor else None
    over = {"data.dataset": sized_config(family, scale.per_class, lr_pixels=lr_pixels),
            "data.batch_size": scale.batch_size, "data.label_fraction": 1.0, "training.epochs": table.controlled_epochs,
            "training.early_stopping_patience": None, "seeds": list(scale.seeds)}
    if scale.regime == "fresh" and not lr_pixels:  # as many steps of as many fresh lenses as the stored split's epochs
        over.update({"data.source": "stream", "data.augment": "",
                     "data.steps_per_epoch": controlled_steps(table, scale) // table.controlled_epochs})
    else:
        over.update({"data.source": "stored", "data.steps_per_epoch": None})
    return family, over


def _controlled_ssl_overrides(config, row: Row, table: Table, scale: Scale, root: Path | None) -> dict:
    """A self-supervised row (its pretraining and its fine-tuning config) or its from-scratch
    baseline at a controlled scale: the image encoder sized to the table's budget (as the
    classifier it becomes: encoder + head), the supervised rows' data, steps and seeds for each
    stage; each stage keeps its config's recipe (the paper's, the same for the self-supervised
    rows and their baselines)."""
    from lensml.models.registry import size
    from lensml.simulation import get_family
    from lensml.ssl import TRAINERS

    from lensml.training.config import load_config
    from lensml.training.shipped import shipped_root

    family, over = _controlled_data(config, table, scale)
    over.update(epoch_phases(config, table.controlled_epochs))  # each stage keeps its recipe's proportions
    encoder = _encoder_of(config)
    if encoder is not None:  # pretraining, or the from-scratch baseline: a fresh encoder of the budget
        # sized as the classifier it becomes, with its classification fine-tuning's head (a pretraining
        # a regression row shares is sized as for its classification sibling: one encoder per method)
        sibling = next((r for r in table.rows if r.kind == "classification" and r.pretrain == row.pretrain), row)
        head = load_config(Path(root or shipped_root()) / sibling.config).model.options.get("hidden", [])
        if encoder == "ssl_vit":  # a token trainer or its baseline: the ViT's token width
            over["model.options"] = _token_encoder_for_budget(config, table, family, head)
        else:
            pixels = get_family(family).instrument.num_pix
            sized = size(encoder, table.size, base_options={"head_hidden": list(head)},
                         input_shape=(pixels, pixels, 1), num_classes=len(get_family(family).class_names))
            over["model.options"] = {**config.model.options, "encoder_options": {
                k: v for k, v in sized.items() if k != "head_hidden"}}
    if config.model.name in TRAINERS:  # pretraining has no labels to validate or test on
        over.update({"data.val_split": "", "data.test_split": ""})
    return over


def get_num_pix(family: str) -> int:
    from lensml.simulation import get_family

    return get_family(family).instrument.num_pix


def scaled_config(row: Row, scale: Scale, out: Path, root: Path, table: Table, data_dir: str | None = None,
                  path: str | None = None):
    """The row's config (or ``path``, e.g. its pretraining config) with the scale's overrides;
    output under ``out/runs/<config stem>/seed_<k>``."""
    from lensml.training.config import apply_overrides, load_config

    path = path or row.config
    config = load_config(root / path)
    # an added row trains the config of a paper row with other options: a folder of its own
    folder = row.paper_model if row.controlled_only and path == row.config else Path(path).stem
    over: dict = {"output.dir": str(out / "runs" / folder / "seed_{seed}"),
                  "output.overwrite": True,  # the table reruns its rows; it keeps its results in its JSON
                  "training.verbose": 2}
    if data_dir:
        over["data.data_dir"] = str(data_dir)
    if scale.name == "paper":
        return apply_overrides(config, over)
    if scale.regime:
        return apply_overrides(config, {**over, **_controlled_overrides(config, row, table, scale, root)})
    from lensml.datasets import Deeplense, sized_config
    from lensml.models import available, size

    per_class = scale.per_class or (table.cpu_per_class if scale.cpu_scale else table.small_per_class)
    over["seeds"] = list(scale.seeds)
    if scale.batch_size:
        over["data.batch_size"] = scale.batch_size
    plan = row.cpu_pretrain if path == row.pretrain else row.cpu
    if scale.cpu_scale or (scale.tiny_models and plan):
        over.update(_cpu_overrides(config, plan, per_class, tiny=not scale.cpu_scale, registry=row.needs is None,
                                   table=table))
        if scale.tiny_models:
            over["data.batch_size"] = scale.batch_size
        return apply_overrides(config, over)
    cfg = Deeplense.get_builder_config(config.data.dataset.split("/")[-1])
    lr_pixels = cfg.sr_factor and get_num_pix(cfg.family) // cfg.sr_factor
    # the smoke test takes the table's small CPU family where it has one (150x150 families cost minutes)
    family = dict(table.cpu_families).get(cfg.family, cfg.family) if scale.tiny_models else cfg.family
    over["data.dataset"] = sized_config(family, per_class, lr_pixels=lr_pixels or None)
    over["training.epochs"] = scale.epochs
    over.update(epoch_phases(config, scale.epochs))
    if scale.learning_rate:
        over["training.learning_rate"] = scale.learning_rate
        if config.training.schedule == "constant":
            over["training.schedule"] = "cosine"
    if config.data.steps_per_epoch and config.data.source != "stream":
        over["data.steps_per_epoch"] = None  # a stream keeps its epoch length
    if scale.tiny_models:
        opts = dict(config.model.options)
        if config.model.name in available():
            opts = size(config.model.name, "tiny", base_options=opts)
        over["model.options"] = family_pixel_scale(config.model.name, opts, family)
    return apply_overrides(config, over)


def _mean_std(values: list[float]) -> tuple[float, float, int] | None:
    """(mean, sample std, count) of the numbers in ``values``; None if there are none."""
    from lensml.evaluation.aggregation import mean_std

    return mean_std(values)


def _cell(stats, digits: int = 3) -> str:
    if stats is None:
        return "n/a"
    mean, std, n = stats
    return f"{mean:.{digits}f} +- {std:.{digits}f}" if n > 1 else f"{mean:.{digits}f} (1 seed)"


def _paper_cell(value: float) -> str:
    """A published number with the digits the paper gives: fractions with at least two decimals
    (0.818, 0.9017, 1.00), larger figures as printed (33 dB)."""
    text = f"{value:.4f}".rstrip("0")
    if abs(value) >= 10:
        return text.rstrip(".")
    return text if len(text.split(".")[1]) >= 2 else f"{value:.2f}"


def _metric_header(metric: str) -> str:
    names = {"macro_auc": "macro AUC", "micro_f1": "micro F1", "psnr": "PSNR (dB)", "ssim": "SSIM", "mae": "MAE (dex)",
             "r2": "R^2"}
    return names.get(metric, metric.replace("auc_per_class/", "AUC "))


def lensml_value(results: dict, row: Row, metric: str):
    """(mean, std, n) over seeds of lensml's test ``metric`` for ``row`` (None: no runs)."""
    return _mean_std([m.get(f"test_{metric}") for m in results.get(row.label, {}).get("runs", [])])


def render_table(table: Table, scale: Scale, results: dict, header_extra: str = "", statistics_: dict | None = None) -> str:
    """The Markdown table of ``results`` = {row label: {"status", "runs": [metrics dicts], ...}}
    (``statistics_``: a controlled scale's ``controlled_statistics``)."""
    lines = [f"# Reproduction: {table.title}", "", scale.describe(table), ""]
    if table.note:
        lines += [table.note, ""]
    if table.coverage:
        lines += ["What of the paper this table reproduces:", ""]
        lines += [f"- **{experiment}**: {status}" for experiment, status in table.coverage] + [""]
    if header_extra:
        lines += [header_extra, ""]
    if scale.regime:
        lines += ["## Controlled rows", ""] + _render_controlled(table, scale, results, statistics_ or {})
        lines += _render_physics(table, results)
        lines += ["## Every metric", ""]
    lines += ["Paper numbers from lensml.evaluation.published (the papers' own tables); lensml "
              "numbers: mean +- std over seeds on the test split of the stored splits (lensml.evaluation protocol); "
              "gap = lensml - paper in the first paper column.", ""]
    for kind in COLUMNS:
        rows = [r for r in table.rows if r.kind == kind and (scale.regime or not r.controlled_only)]
        if not rows:
            continue
        if kind != "classification":
            lines += [f"## {kind.replace('_', '-').capitalize()} rows", ""]
        paper_metrics = row_metrics(table, rows[0])
        shown = list(COLUMNS[kind]) + [(f"test_{m}", _metric_header(m)) for m in paper_metrics
                                       if f"test_{m}" not in {k for k, _ in COLUMNS[kind]}]
        head = ["row", "config", "seeds"] + [f"paper {_metric_header(m)}" for m in paper_metrics] \
            + [f"lensml {h}" for _, h in shown] + (["gap"] if paper_metrics else []) \
            + ["params", "train min", "status"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in rows:
            r = results.get(row.label, {})
            runs = r.get("runs", [])
            paper = paper_values(table, row)
            cells = [row.label + (f" ({row.note})" if row.note else ""), f"`{row.config}`" if row.config else "-",
                     str(len(runs))]
            cells += [_paper_cell(paper[m]) if m in paper else "-" for m in paper_metrics]
            cells += [_cell(_mean_std([m.get(key) for m in runs])) if runs else "-" for key, _ in shown]
            if paper_metrics:
                ours = lensml_value(results, row, paper_metrics[0])
                cells.append(f"{ours[0] - paper[paper_metrics[0]]:+.3f}" if ours and paper_metrics[0] in paper else "-")
            cells.append(f"{r['num_params']:,}" if r.get("num_params") else "-")
            minutes = [m.get("train_minutes") for m in runs if m.get("train_minutes") is not None]
            cells.append(f"{statistics.fmean(minutes):.1f}" if minutes else "-")
            cells.append(r.get("status", "not run"))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    ranking = rank(table, results)
    if ranking:
        lines += [f"Ranking by {ranking['metric']} ({ranking['n']} rows with both numbers):", "",
                  f"- paper:  {format_ranking(ranking['paper'])}", f"- lensml: {format_ranking(ranking['lensml'])}",
                  f"- Spearman rank correlation: {_format_rho(ranking['spearman'])}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def interval_metric(table: Table) -> str:
    """The metric a controlled table's intervals and orderings use: its first, if an interval
    can be drawn for it (accuracy, macro AUC), else accuracy."""
    from lensml.evaluation.intervals import METRICS

    return table.metrics[0] if table.metrics[0] in METRICS else "accuracy"


def predictions_archive(json_path) -> Path:
    """The folder ``reproduce_<table>_<scale>_predictions/`` beside a table's JSON: every
    classification run's test predictions, one small file per run (written once, so a resumed
    table only adds files), so that a table resumed on another machine, or re-rendered from a
    clone, computes its intervals and paired orderings over all its seeds."""
    json_path = Path(json_path)
    return json_path.with_name(json_path.stem + "_predictions")


def _archived_file(archive: Path, label: str, seed: int) -> Path:
    return Path(archive) / f"{re.sub(r'[^a-z0-9]+', '_', label.lower()).strip('_')}_seed{int(seed)}.npz"


def read_archived_predictions(archive, label: str, seed: int, run_dir: str) -> tuple | None:
    """(labels (N,) int, probabilities (N, C) float) of row ``label``'s run of ``seed`` made in
    ``run_dir``, from ``archive`` (``predictions_archive``); None if it holds none of that run (a
    row-seed run again in another folder is another run). Loaded without pickle: plain arrays."""
    path = _archived_file(archive, label, seed)
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        if str(data["label"]) != label or str(data["run_dir"]) != str(run_dir):
            return None
        return np.asarray(data["labels"]).astype(int), np.asarray(data["probs"], dtype=np.float64)


def _runs_of(table: Table, results: dict):
    """(row label, seed, run folder) of every classification run in ``results``."""
    for row in table.rows:
        if row.kind == "classification":
            r = results.get(row.label, {})
            for i, (m, d) in enumerate(zip(r.get("runs", []), r.get("dirs", []))):
                yield row.label, m.get("seed", i), d


def archive_predictions(table: Table, results: dict, archive) -> None:
    """Copy the test predictions of every classification run whose folder is on this machine into
    ``archive`` (labels as integers, probabilities as float32, what the evaluation computed: exact
    argmax and ranks), each file written atomically and only once per run."""
    from lensml._io import atomic_target
    from lensml.evaluation.intervals import load_predictions

    for label, seed, run_dir in _runs_of(table, results):
        file = Path(run_dir) / "evaluation" / "predictions.npz"
        if not file.is_file() or read_archived_predictions(archive, label, seed, run_dir) is not None:
            continue
        labels, probs = load_predictions(file)
        target = _archived_file(archive, label, seed)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(target) as tmp:
            np.savez_compressed(tmp, label=np.array(label), run_dir=np.array(str(run_dir)),
                                labels=labels.astype(np.int32), probs=probs.astype(np.float32))


def run_predictions(table: Table, results: dict, archive=None) -> dict[str, dict[int, tuple]]:
    """{row label: {seed: (labels, probs)}} of every classification run: from its folder's
    ``evaluation/predictions.npz`` where that is on this machine, else from ``archive``
    (``predictions_archive``); a run found in neither is left out."""
    from lensml.evaluation.intervals import load_predictions

    runs: dict[str, dict[int, tuple]] = {}
    for label, seed, run_dir in _runs_of(table, results):
        file = Path(run_dir) / "evaluation" / "predictions.npz"
        found = (load_predictions(file) if file.is_file()
                 else read_archived_predictions(archive, label, seed, run_dir) if archive is not None else None)
        if found is not None:
            runs.setdefault(label, {})[seed] = found
    return runs


def controlled_statistics(table: Table, results: dict, *, n: int = 1000, archive=None) -> dict:
    """95 % intervals of each classification row (seeds and test lenses resampled) and, for
    every pair of rows the paper orders, the paired difference and lensml's verdict: "confirms",
    "contradicts" (significantly the other way) or "unresolved". Computed over the seeds whose
    predictions can be read (``run_predictions``: the runs' folders on this machine, else the
    ``archive`` beside the table; ``interval_seeds`` per row, ``seeds`` per pair: a table resumed on
    another machine without its archive may hold some of a row's seeds only); rows with none are
    left out."""
    from lensml.evaluation.intervals import bootstrap_interval, paired_difference, verdict

    metric = interval_metric(table)
    runs = run_predictions(table, results, archive)
    intervals = {label: bootstrap_interval(list(r.values()), metric, n=n) for label, r in runs.items()}
    orderings = []
    for a, b, pa, pb in _paper_pairs(table, [r for r in table.rows if r.label in runs], metric):
        common = sorted(set(runs[a.label]) & set(runs[b.label]))
        if not common:
            continue
        # a row testing another's models again (D4-TTA) pairs with it seed for seed
        same_models = a.label == b.tta_of or b.label == a.tta_of
        d = paired_difference([runs[a.label][s] for s in common], [runs[b.label][s] for s in common], metric, n=n,
                              same_models=same_models)
        orderings.append({"a": a.label, "b": b.label, "paper_a": pa, "paper_b": pb, **d, "seeds": common,
                          "verdict": verdict(d, paper_says_a_better=pa > pb)})
    # lensml's own contrasts: each row against its variant (the physics branch removed, the true
    # Einstein radius, the raw image), the same paired bootstrap
    variants = []
    for row in table.rows:
        base = row.variant_of
        common = sorted(set(runs.get(row.label, {})) & set(runs.get(base, {}))) if base else []
        if common:
            d = paired_difference([runs[base][s] for s in common], [runs[row.label][s] for s in common], metric, n=n)
            # the interval's side of 0, in the words of a contrast (not of a paper's ordering)
            reading = {"confirms": "row higher", "contradicts": "variant higher",
                       "unresolved": "no significant difference"}[verdict(d, paper_says_a_better=True)]
            variants.append({"a": base, "b": row.label, **d, "seeds": common, "reading": reading})
    return {"metric": metric, "intervals": intervals, "interval_seeds": {k: sorted(v) for k, v in runs.items()},
            "orderings": orderings, "variants": variants}


def merge_statistics(fresh: dict, earlier: dict | None) -> dict:
    """``fresh`` statistics (over the seeds whose predictions are on this machine) with
    ``earlier`` ones kept where they cover more seeds, or rows and pairs ``fresh`` lacks (a table
    resumed on another machine, its earlier runs' predictions left behind)."""
    if not earlier:
        return fresh
    old_seeds, new_seeds = earlier.get("interval_seeds", {}), fresh.get("interval_seeds", {})
    intervals, seeds = dict(fresh["intervals"]), dict(new_seeds)
    for label, interval in earlier.get("intervals", {}).items():
        if label not in intervals or len(old_seeds.get(label, [])) > len(new_seeds.get(label, [])):
            intervals[label], seeds[label] = interval, old_seeds.get(label, [])
    def pairs(key: str) -> list[dict]:
        kept = {(o["a"], o["b"]): o for o in fresh.get(key, [])}
        for o in earlier.get(key, []):
            now = kept.get((o["a"], o["b"]))
            if now is None or len(o.get("seeds", [])) > len(now.get("seeds", [])):
                kept[(o["a"], o["b"])] = o
        return list(kept.values())

    return {**fresh, "intervals": intervals, "interval_seeds": seeds, "orderings": pairs("orderings"),
            "variants": pairs("variants")}


def _uncomputed_orderings(table: Table, results: dict, orderings: list[dict], metric: str) -> list[tuple[str, str]]:
    """(better, worse) by the paper, for each pair of rows with runs that the paper ranks by
    ``metric`` but ``orderings`` has no verdict for (no seed with both rows' predictions)."""
    done = {frozenset((o["a"], o["b"])) for o in orderings}
    ran = [r for r in table.rows if r.kind == "classification" and results.get(r.label, {}).get("runs")]
    return [(a.label, b.label) if pa > pb else (b.label, a.label) for a, b, pa, pb in _paper_pairs(table, ran, metric)
            if frozenset((a.label, b.label)) not in done]


def _paper_pairs(table: Table, rows: list[Row], metric: str):
    """(a, b, paper value of a, of b) for each pair of ``rows`` the paper ranks by ``metric`` (both
    have a published value, and they differ), in table order."""
    ranked = [r for r in rows if metric in paper_values(table, r)]
    for i, a in enumerate(ranked):
        for b in ranked[i + 1:]:
            pa, pb = paper_values(table, a)[metric], paper_values(table, b)[metric]
            if pa != pb:
                yield a, b, pa, pb


def _render_controlled(table: Table, scale: Scale, results: dict, statistics_: dict) -> list[str]:
    """The controlled table: each row's budget, mean +- std, interval; then the paper's orderings."""
    metric = statistics_.get("metric", interval_metric(table))
    key = f"test_{metric}"
    lines = [f"| row | paper {_metric_header(metric)} | lensml {_metric_header(metric)} (mean +- std) | 95 % interval | "
             "seeds | params | steps x batch | images seen | data | monitor | status |", "|" + "---|" * 11]
    for row in table.rows:
        if row.kind != "classification":
            continue
        r = results.get(row.label, {})
        runs, budget = r.get("runs", []), r.get("budget", {})
        paper = paper_values(table, row).get(metric)
        interval = statistics_.get("intervals", {}).get(row.label)
        covered = statistics_.get("interval_seeds", {}).get(row.label)
        # an interval kept from a run that did not record its seeds (covered == []) says nothing more
        partial = (f" (seeds {', '.join(map(str, covered))})"
                   if interval and covered and covered != [m.get("seed") for m in runs] else "")
        params = r.get("num_params")
        status = r.get("status", "not run")
        if params and abs(params / table.budget - 1) > 0.15:
            status += f"; {params / table.budget - 1:+.0%} from the budget (closest width)"
        lines.append("| " + " | ".join([
            row.label, _paper_cell(paper) if paper is not None else "-",
            _cell(_mean_std([m.get(key) for m in runs])) if runs else "-",
            f"[{interval[0]:.3f}, {interval[1]:.3f}]{partial}" if interval else "-", str(len(runs)),
            f"{params:,}" if params else "-",
            (f"{budget['steps']:,} x {budget['batch_size']}" + _pretrain_note(budget, "steps")) if budget else "-",
            (f"{budget['images']:,}" + _pretrain_note(budget, "images")) if budget else "-",
            f"{budget['source']} `{budget['dataset']}`" if budget else "-",
            budget.get("monitor", "-") if budget else "-", status]) + " |")
    lines.append("")
    orderings = statistics_.get("orderings", [])
    missing = _uncomputed_orderings(table, results, orderings, metric)
    if orderings or missing:
        counts = {v: sum(o["verdict"] == v for o in orderings) for v in ("confirms", "contradicts", "unresolved")}
        # a pair of rows with no seed whose test predictions are both readable has no paired verdict: say
        # which, so that the counts are not read as covering every ordering of the paper
        gap = (f"; {len(missing)} of the paper's {len(orderings) + len(missing)} orderings among the rows run are "
               f"not computed, no seed having both rows' test predictions on the machine that rendered the table "
               f"or in its archive: {', '.join(f'{a} > {b}' for a, b in missing)}" if missing else "")
        lines += [f"Orderings of the paper (pairs of rows it ranks by {_metric_header(metric)}): lensml confirms "
                  f"{counts['confirms']}, contradicts {counts['contradicts']} significantly, cannot resolve "
                  f"{counts['unresolved']} (95 % paired bootstrap over seeds and the shared test lenses; over "
                  "the seeds both rows have predictions of, the seeds column; \"paired\": a row that tests "
                  f"another's models again, resampled seed for seed with it){gap}.", "",
                  "| paper says | lensml difference (95 % interval) | verdict | seeds |", "|---|---|---|---|"]
        for o in orderings:
            first, second = (o["a"], o["b"]) if o["paper_a"] > o["paper_b"] else (o["b"], o["a"])
            sign = 1 if first == o["a"] else -1
            low, high = sorted((sign * o["low"], sign * o["high"]))
            seeds = ", ".join(map(str, o["seeds"])) if "seeds" in o else "-"
            seeds += " (paired)" if o.get("paired_seeds") else ""
            lines.append(f"| {first} > {second} | {sign * o['difference']:+.3f} [{low:+.3f}, {high:+.3f}] | "
                         f"{o['verdict']} | {seeds} |")
        lines.append("")
    variants = statistics_.get("variants", [])
    if variants:
        lines += [f"lensml's contrasts: each row against its variant at the same budget (the physics branch removed, "
                  f"the true Einstein radius, the raw image), the row's {_metric_header(metric)} minus the "
                  "variant's, paired over the seeds both have and the shared test lenses (95 % bootstrap).", "",
                  "| row | variant | row - variant (95 % interval) | reading | seeds |", "|---|---|---|---|---|"]
        for o in variants:
            lines.append(f"| {o['a']} | {o['b']} | {o['difference']:+.3f} [{o['low']:+.3f}, {o['high']:+.3f}] | "
                         f"{o['reading']} | {', '.join(map(str, o['seeds']))} |")
        lines.append("")
    return lines


def _pretrain_note(budget: dict, key: str) -> str:
    """`` (+ N pretraining)`` for a self-supervised row's budget cell, else nothing."""
    pre = budget.get("pretrain")
    return f" (+ {pre[key]:,} pretraining)" if pre else ""


def _format_rho(rho) -> str:
    return "undefined (a ranking is all ties)" if rho is None else f"{rho:+.2f}"


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation of ``a`` and ``b`` (ties get average ranks; scipy's
    definition); None when either has no spread."""
    from scipy.stats import spearmanr

    if len(a) < 2 or len(set(a)) < 2 or len(set(b)) < 2:
        return None
    return float(spearmanr(a, b).statistic)


def rank(table: Table, results: dict, digits: int = 3) -> dict | None:
    """Rows with both a paper number and lensml runs of the table's first metric, ranked both
    ways, and the Spearman correlation of the two columns.

    Each ranking is a list of tiers, best first; a tier holds the rows whose values are equal at
    the table's ``digits`` (e.g. every row at chance, 0.333), so ties are shown as ties and not
    in an arbitrary order; Spearman is computed on the same rounded values."""
    metric = table.metrics[0]
    sign = -1 if metric in LOWER_IS_BETTER else 1
    both = []
    for row in table.rows:
        if row.kind != "classification":
            continue
        paper = paper_values(table, row).get(metric)
        stats = lensml_value(results, row, metric)
        if paper is not None and stats is not None:
            both.append((row.label, round(paper, digits), round(stats[0], digits)))
    if len(both) < 2:
        return None

    def tiers(column: int) -> list[list[str]]:
        groups: dict[float, list[str]] = {}
        for b in both:
            groups.setdefault(b[column], []).append(b[0])
        return [groups[v] for v in sorted(groups, key=lambda v: -sign * v)]

    rho = spearman([b[1] for b in both], [b[2] for b in both])
    return {"metric": metric, "n": len(both), "paper": tiers(1), "lensml": tiers(2), "spearman": rho}


def format_ranking(tiers: list[list[str]]) -> str:
    """``[["A"], ["B", "C"]]`` -> ``"A > B = C"``."""
    return " > ".join(" = ".join(tier) for tier in tiers)


def _planned_steps(scale: Scale, config, pretrain_config=None) -> float:
    """The most optimizer steps one training of a row runs (its pretraining's, if longer): known
    at the controlled scales (``_training_budget``); a handful at ``--scale tiny``; else unbounded."""
    if scale.regime:
        return max(_training_budget(c)["steps"] for c in (config, pretrain_config) if c is not None)
    return 1 if scale.tiny_models else float("inf")


def _training_budget(config) -> dict:
    """What a controlled row trains with: its architecture options, steps, batch, images seen,
    data and checkpoint monitor (the table's budget columns; a rerun resumes a row only if equal)."""
    from lensml.datasets import split_sizes

    from lensml.data.pipeline import dataset_family
    from lensml.simulation import get_family

    d = config.data
    classes = len(get_family(dataset_family(d.dataset)).class_names)
    per_epoch = d.steps_per_epoch or split_sizes(int(d.dataset.rsplit("_n", 1)[1]))[0] * classes // d.batch_size
    steps = per_epoch * config.training.epochs
    return {"model": config.model.name, "options": json.loads(json.dumps(config.model.options, default=str)),
            "steps": steps, "batch_size": d.batch_size, "images": steps * d.batch_size, "dataset": d.dataset,
            "source": d.source, "monitor": config.training.monitor}


def physics_metrics(result: dict, config) -> dict:
    """``physics/<layer>/<statistic>`` of a run's physics branch on its test lenses
    (``lensml.evaluation.physics_branch``; the best checkpoint, else the final model; the true
    Einstein radii from the stored test split); {} for a model without one."""
    import keras

    from lensml.data.pipeline import load_split
    from lensml.evaluation.aggregation import flatten_metrics
    from lensml.evaluation.physics_branch import branch_layers, physics_branch_summary

    paths = result["paths"]
    path = Path(paths["checkpoint"]) if Path(paths["checkpoint"]).is_file() else Path(paths["model"])
    if not path.is_file():
        return {}
    model = keras.saving.load_model(path)
    if not branch_layers(model):
        return {}
    ds, _ = load_split(config.data.dataset, config.data.test_split or "test", data_dir=config.data.data_dir)
    images, theta = [], []
    for example in ds.as_numpy_iterator():
        images.append(example["image"])
        theta.append(example["theta_E"])
    images = np.stack(images).astype(np.float32)
    if images.ndim == 3:
        images = images[..., None]
    summary = physics_branch_summary(model, images, theta_E=np.asarray(theta))
    return flatten_metrics(summary, "physics/")


def _render_physics(table: Table, results: dict) -> list[str]:
    """Per row with a physics branch: its intermediate's statistics on the test lenses, mean over seeds."""
    lines = []
    for row in table.rows:
        runs = results.get(row.label, {}).get("runs", [])
        keys = sorted({k for m in runs for k in m if k.startswith("physics/")})
        if not keys:
            continue
        cells = []
        for key in keys:
            values = [m.get(key) for m in runs]
            if key.endswith(("at_lower_bound", "at_upper_bound")) and len(runs) > 1:
                # per seed: a branch at one bound in one seed and at the other in the next is not "half at a bound"
                cells.append(f"{key.removeprefix('physics/')} " + " / ".join("-" if v is None else f"{v:.3g}" for v in values)
                             + " (seeds " + " / ".join(str(m.get("seed", i)) for i, m in enumerate(runs)) + ")")
                continue
            stats = _mean_std(values)
            if stats:
                cells.append(f"{key.removeprefix('physics/')} {stats[0]:.3g}" + (f" +- {stats[1]:.2g}" if stats[2] > 1 else ""))
        lines.append(f"- **{row.label}**: " + "; ".join(cells))
    if not lines:
        return []
    return (["## Physics branches", "",
             "Each physics intermediate on the test lenses (lensml.evaluation.physics_branch), mean +- std over seeds: "
             "its mean, spread and extremes, the fraction of lenses (or pixels) within 1 % of a bound of its range "
             "(per seed), "
             "and for the Einstein radius its Pearson correlation with the true one and the median absolute error "
             "(arcsec). A branch at a bound for every lens does no physics; compare the row without it above.", ""]
            + lines + [""])


def _run_row(row: Row, config, pretrain_config, seed: int, callbacks: list, pretrained: dict) -> dict:
    """One seed of one row: a supervised run, a from-scratch baseline through the fine-tuning
    protocol, or pretrain -> fine-tune (one pretraining per config and seed, shared by the
    rows that fine-tune it, e.g. classification and regression from one BYOL encoder)."""
    from lensml.protocols import pretraining
    from lensml.training.runner import run_seed

    if row.needs == "pretrain":
        key = (str(pretrain_config.output.dir), seed)
        if key not in pretrained:
            pretrained[key] = pretraining.pretrain_seed(pretrain_config, seed, callbacks=callbacks)
        return pretraining.finetune_from(pretrained[key], config, seed, callbacks=callbacks)
    if row.needs == "finetune":
        return pretraining.finetune_seed(config, seed, callbacks=callbacks)
    return run_seed(config, seed, callbacks=callbacks)


def _source_run(results: dict, row: Row, seed: int) -> str | None:
    """The run folder of seed ``seed`` of the row a ``Row.tta_of`` row tests again (None: not run)."""
    if not row.tta_of:
        return None
    source = results.get(row.tta_of) or {}
    return next((d for m, d in zip(source.get("runs", []), source.get("dirs", [])) if m.get("seed") == seed), None)


def tta_evaluation(config, run_dir) -> dict:
    """A trained run tested again with D4 test-time augmentation: the best checkpoint of
    ``run_dir`` (else its final model) on ``config``'s test split with ``data.test_tta = "d4"``,
    reported into ``<run_dir>/tta_d4/evaluation`` (predictions included, for the intervals).
    Returns what a run returns (``metrics``, ``num_params``, ``train_time_s`` 0, ``paths``)."""
    import keras

    from lensml.training.runner import default_data_factory, test_metrics

    run_dir = Path(run_dir)
    best = run_dir / "checkpoints" / "best.keras"
    model = keras.saving.load_model(best if best.is_file() else run_dir / "model.keras")
    data = dataclasses.replace(config.data, test_tta="d4")
    test = default_data_factory(data, data.test_split, training=False, seed=data.seed,
                                num_classes=int(model.output_shape[-1]))
    out = run_dir / "tta_d4"
    metrics = test_metrics(model, test, data, out / "evaluation", model_name=f"{config.model.name} + D4-TTA")
    return {"metrics": metrics, "num_params": int(model.count_params()), "train_time_s": 0.0,
            "paths": {"dir": str(out)}}


def provenance(command: str) -> dict:
    """Where a results file comes from: the lensml commit, the command, the machine (CPU model,
    cores, memory), the Keras backend and the package versions."""
    import keras

    import lensml
    from lensml._io import source_commit
    from lensml.protocols.speed import machine_description

    machine = machine_description()
    return {"commit": source_commit() or f"lensml {lensml.__version__} (not a git checkout)", "command": command,
            "backend": keras.backend.backend(), "lensml": lensml.__version__,
            "machine": {k: machine.get(k) for k in ("cpu", "logical_cores", "usable_cores", "memory_gib", "gpus",
                                                    "platform", "python", "versions")}}


def _provenance_line(prov: dict | None, minutes: float, table: str, scale: str) -> str:
    if not prov:  # a table made before results files recorded their provenance
        return f"Made with `lensml benchmark reproduce --table {table} --scale {scale}`; wall time {minutes:.1f} min."
    m, v = prov["machine"], prov["machine"].get("versions", {})
    return (f"Made with `{prov['command']}` at commit {prov['commit']}, backend {prov['backend']} (lensml "
            f"{prov['lensml']}, Keras {v.get('keras')}, TensorFlow {v.get('tensorflow')}, JAX {v.get('jax')}) on "
            f"{m.get('cpu')} ({m.get('usable_cores') or m.get('logical_cores')} cores, {m.get('memory_gib')} GiB, "
            f"GPUs: {m.get('gpus')}); wall time {minutes:.1f} min (resumed runs add up)." + _earlier_line(prov))


def _earlier_line(prov: dict) -> str:
    """What earlier runs a resumed table kept, and where they were made (``provenance_earlier``)."""
    earlier = prov.get("earlier") or []
    if not earlier:
        return ""
    made = "; ".join(f"{e.get('runs') or '`' + str(e.get('command')) + '`'} at commit {str(e.get('commit'))[:7]}"
                     f" ({e.get('backend')})" for e in earlier)
    return (f" Earlier runs kept by the resume (the JSON's `provenance_earlier`): {made}. Intervals marked "
            "(seeds ...) cover the seeds whose predictions were on the machine that rendered the table or in the "
            "predictions archive beside its JSON (`<json stem>_predictions/`).")


def _write(md_path: Path, json_path: Path, table: str, scale: str, results: dict, minutes: float,
           statistics_: dict | None = None, prov: dict | None = None) -> None:
    """The table's Markdown (``render_table``) and JSON, written atomically. A controlled scale's
    intervals and orderings are computed from the runs' predictions, read from their folders on
    this machine or from the predictions archive beside the JSON (``predictions_archive``, which
    this write extends with the runs found here), else kept from ``statistics_`` (an earlier write
    that could read more seeds)."""
    from lensml._io import write_text_atomic

    if SCALES[scale].regime:
        # the predictions travel with the table: this machine's runs archived beside the JSON, and
        # read from there where their folders are elsewhere
        archive = predictions_archive(json_path)
        archive_predictions(TABLES[table], results, archive)
        statistics_ = merge_statistics(controlled_statistics(TABLES[table], results, archive=archive), statistics_)
    write_text_atomic(md_path, render_table(TABLES[table], SCALES[scale], results, _provenance_line(prov, minutes, table, scale),
                                            statistics_))
    prov = dict(prov or {})
    earlier = prov.pop("earlier", None)
    write_text_atomic(json_path, json.dumps({"table": table, "scale": scale, "minutes": minutes, "results": results,
                                             **({"statistics": statistics_} if statistics_ else {}),
                                             **({"provenance": prov} if prov else {}),
                                             **({"provenance_earlier": earlier} if earlier else {})},
                                            indent=2, default=str) + "\n")


def rerender(json_path) -> str:
    """Rewrite the Markdown table next to a finished run's ``reproduce_<table>_<scale>.json``
    from its results (no training), e.g. after the published numbers or the renderer changed.
    Returns the Markdown path."""
    json_path = Path(json_path)
    saved = json.loads(json_path.read_text())
    md_path = json_path.with_suffix(".md")
    prov = saved.get("provenance")
    if prov and saved.get("provenance_earlier"):
        prov = {**prov, "earlier": saved["provenance_earlier"]}
    _write(md_path, json_path, saved["table"], saved["scale"], saved["results"], saved["minutes"], saved.get("statistics"),
           prov)
    return str(md_path)


def reproduce(table: str, scale: str = "cpu", out="reproduce", *, rows=None, root=None, data_dir=None,
              max_minutes: float | None = None, log: Callable[[str], None] | None = None,
              command: str | None = None) -> dict:
    """Run every available row of ``table`` at ``scale``; write ``out/reproduce_<table>_<scale>.md`` / ``.json``.

    Args:
      table: a key of ``TABLES`` ("lenspinn", "lens_jepa", "d4lenspinn", "ssl", "mae").
      scale: "cpu", "small", "paper" or "tiny" (see the module docstring).
      rows: row labels, model names or config stems to run, in the order to run them (others are
        listed as "skipped"); None = all, in the table's order.
      root: a folder holding ``train/`` (default: the configs lensml ships, ``lensml.training.shipped``).
      max_minutes: start no new run after this many minutes (rows left get "not run").
      command: the command line to record in the results' provenance (default: the
        ``lensml benchmark reproduce`` call these arguments make).

    Returns:
      {"markdown": path, "json": path, "results": {row label: {...}}}.
    """
    from lensml.protocols.quickstart import eager_callback, eager_is_faster

    log = log or (lambda msg: print(f"[reproduce] {msg}", flush=True))
    if table not in TABLES:
        raise ValueError(f"table: unknown table {table!r}; expected one of {sorted(TABLES)}")
    if scale not in SCALES:
        raise ValueError(f"scale: unknown scale {scale!r}; expected one of {sorted(SCALES)}")
    from lensml.training.shipped import shipped_root

    spec, sc, out = TABLES[table], SCALES[scale], Path(out)
    root = Path(root) if root is not None else shipped_root()
    out.mkdir(parents=True, exist_ok=True)
    md_path, json_path = out / f"reproduce_{table}_{scale}.md", out / f"reproduce_{table}_{scale}.json"
    start = time.time()
    wanted = None if rows is None else set(rows)
    results: dict[str, dict] = {}
    # controlled scales run for hours: a rerun keeps the seeds an earlier run finished (same row budget)
    earlier = json.loads(json_path.read_text())["results"] if sc.regime and json_path.is_file() else {}
    plan = []
    order = list(spec.rows)
    if rows is not None:  # --rows also gives the order to run in (the table keeps the paper's order)
        pos = {name: i for i, name in enumerate(rows)}
        order.sort(key=lambda r: min(pos.get(r.label, 1e9), pos.get(r.paper_model, 1e9),
                                     pos.get(Path(r.config).stem if r.config else "", 1e9)))
    for row in order:
        stem = Path(row.config).stem if row.config else None
        if wanted is not None and row.label not in wanted and stem not in wanted and row.paper_model not in wanted:
            # a controlled table run row by row keeps what earlier runs of it finished
            results[row.label] = earlier.get(row.label) if earlier.get(row.label, {}).get("runs") else {
                "status": "skipped (not in --rows)"}
            continue
        reason = unavailable_reason(row, root, sc)
        if reason:
            results[row.label] = {"status": reason}
            continue
        config = scaled_config(row, sc, out, root, spec, data_dir)
        pre = scaled_config(row, sc, out, root, spec, data_dir, path=row.pretrain) if row.pretrain else None
        results[row.label] = {"status": "pending", "runs": [], "config": row.config}  # as shipped (train/...), not this machine's path
        if sc.regime:
            results[row.label]["budget"] = _training_budget(config)
            if pre is not None:  # a self-supervised row's pretraining: its own steps of unlabelled lenses
                results[row.label]["budget"]["pretrain"] = _training_budget(pre)
            done = earlier.get(row.label, {})
            if done.get("budget") == results[row.label]["budget"]:  # same sizes and steps: keep its finished seeds
                for key in ("runs", "dirs", "num_params"):
                    if key in done:
                        results[row.label][key] = done[key]
                for run, run_dir in zip(results[row.label].get("runs", []), results[row.label].get("dirs", [])):
                    if not any(k.startswith("physics/") for k in run):  # a run made before its branch was read
                        run.update(physics_metrics({"paths": {"checkpoint": f"{run_dir}/checkpoints/best.keras",
                                                              "model": f"{run_dir}/model.keras"}}, config))
        plan.append((row, config, pre))

    command = command or (f"lensml benchmark reproduce --table {table} --scale {scale} --out {out}"
                          + (f" --rows '{','.join(rows)}'" if rows is not None else "")
                          + (f" --max-minutes {max_minutes:g}" if max_minutes is not None else ""))
    prov = provenance(command)
    saved = json.loads(json_path.read_text()) if earlier else {}
    # a resumed table keeps where its earlier runs were made: the runs it resumes from, and theirs
    kept = list(saved.get("provenance_earlier") or [])
    if saved.get("provenance") and saved["provenance"] != {k: v for k, v in prov.items() if k != "earlier"}:
        kept.append(saved["provenance"])
    if kept:
        prov["earlier"] = kept
    # a table resumed on another machine keeps the intervals and orderings of the runs it left behind
    previous, earlier_statistics = saved.get("minutes", 0.0), saved.get("statistics")

    def write():
        _write(md_path, json_path, table, scale, results, previous + (time.time() - start) / 60,
               earlier_statistics, prov=prov)

    pretrained: dict = {}
    seeds = sorted({s for _, c, _ in plan for s in c.seeds})
    plan.sort(key=lambda item: item[0].tta_of is not None)  # a TTA row after the row it tests again
    for seed in seeds:  # seeds outermost: a budget that runs out leaves every row its first seeds
        for row, config, pre in plan:
            r = results[row.label]
            if seed not in config.seeds or any(m.get("seed") == seed for m in r["runs"]):
                continue
            if max_minutes is not None and (time.time() - start) / 60 > max_minutes:
                r["status"] = f"{len(r['runs'])} of {len(config.seeds)} seeds (time budget {max_minutes:g} min)"
                continue
            source_dir = _source_run(results, row, seed)
            if row.tta_of and source_dir is None:
                r["status"] = f"needs {row.tta_of!r} seed {seed} first (run that row too)"
                continue
            log(f"{row.label} seed {seed}: " + (f"testing {row.tta_of!r} again with D4 test-time augmentation ..."
                if row.tta_of else f"{'pretraining + ' if pre else ''}training {config.model.name} on "
                f"{config.data.dataset} ({config.training.epochs} epochs) ..."))
            try:
                callbacks = [eager_callback()] if eager_is_faster(_planned_steps(sc, config, pre)) else []
                res = tta_evaluation(config, source_dir) if row.tta_of else _run_row(row, config, pre, seed, callbacks,
                                                                                     pretrained)
            except Exception as e:  # one failing row must not lose the table
                r["status"] = f"failed: {type(e).__name__}: {e}"[:300]
                log(f"{row.label} seed {seed} failed: {e}")
                write()
                continue
            metrics = {k: v for k, v in res["metrics"].items() if isinstance(v, (int, float))}
            metrics["seed"] = seed
            if sc.regime and not row.tta_of:  # a TTA row's model is its source row's: its branch was read there
                metrics.update(physics_metrics(res, config))
            metrics["train_minutes"] = (res["train_time_s"] + res.get("pretrain", {}).get("train_time_s", 0)) / 60
            r["runs"].append(metrics)
            r["num_params"] = res["num_params"]
            r.setdefault("dirs", []).append(res["paths"]["dir"])
            r["status"] = "ok" if len(r["runs"]) == len(config.seeds) else f"{len(r['runs'])} of {len(config.seeds)} seeds"
            primary = {"classification": "test_accuracy", "regression": "test_mae", "super_resolution": "test_psnr"}
            log(f"{row.label} seed {seed}: {primary[row.kind]} {metrics.get(primary[row.kind], float('nan')):.3f} "
                f"({metrics['train_minutes']:.1f} min)")
            write()
    for row, config, _ in plan:  # rows resumed whole
        r = results[row.label]
        if r["status"] == "pending" and len(r["runs"]) == len(config.seeds):
            r["status"] = "ok"
    write()
    log(f"table written to {md_path.resolve()}")
    return {"markdown": str(md_path), "json": str(json_path), "results": results}
