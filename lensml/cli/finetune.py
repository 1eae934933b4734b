"""``lensml finetune --config train/ssl/<run>.toml``: fine-tune or linear-probe a pretrained
encoder (or train the same head on a fresh encoder, the baseline) through
``lensml.protocols.pretraining.finetune`` (``run_seed`` on a downstream model).

``[model] name = "pretrained"`` with ``options = {encoder_path = "runs/.../encoder.keras",
task = "classification" | "regression" | "super_resolution", mode = "finetune" |
"linear_probe", hidden = [...]}``; or an encoder name (``"resnet50"``, ``"ssl_vit"``) for the
from-scratch baseline. ``data.label_fraction`` gives label-efficiency runs;
``data.dataset`` may be another family than the pretraining one (Model I -> Model II;
images are resized to the encoder's input size). ``{seed}`` in ``encoder_path`` is
replaced by each run's seed.
Every run is tested by the one test evaluation of the runner (``<run>/evaluation/metrics.json``);
for super-resolution (``data.target = "hr"``) that is PSNR / SSIM beside bicubic upsampling
(``lensml.evaluation.super_resolution_metrics``).
"""

from __future__ import annotations

import argparse

from lensml.cli.pretrain import add_arguments as _shared_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _shared_arguments(parser)


def main(args) -> int:
    from lensml.cli.train import run_command
    from lensml.protocols.pretraining import finetune

    return run_command(args, "finetune", finetune)
