"""``lensml finetune --config train/ssl/<run>.toml``: fine-tune or linear-probe a pretrained
encoder (or train the same head on a fresh encoder, the baseline) through
``lensml.experiments.pretraining.finetune`` (``run_seed`` on a downstream model).

``[model] name = "pretrained"`` with ``options = {encoder_path = "runs/.../encoder.keras",
task = "classification" | "regression" | "super_resolution", mode = "finetune" |
"linear_probe", hidden = [...]}``; or an encoder name (``"resnet50"``, ``"ssl_vit"``) for the
from-scratch baseline. ``data.label_fraction`` gives label-efficiency runs;
``data.dataset`` may be another family than the pretraining one (Model I -> Model II;
images are resized to the encoder's input size). ``{seed}`` in ``encoder_path`` is
replaced by each run's seed.
For super-resolution (``data.target = "hr"``) the test split is scored with PSNR / SSIM
(``lensml.evaluation.super_resolution_metrics``) into ``sr_metrics.json``.
"""

from __future__ import annotations

import argparse

from lensml.experiments.commands.pretrain import add_arguments as _shared_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _shared_arguments(parser)


def main(args) -> int:
    import json
    import sys

    from lensml.experiments.commands.pretrain import load, print_config

    config, error = load(args, "finetune")
    if error:
        print(error, file=sys.stderr)
        return 2
    if args.dry_run:
        print_config(config)
        return 0
    from lensml.experiments.pretraining import finetune

    try:
        results = finetune(config)
    except (ValueError, TypeError, FileNotFoundError) as e:  # bad data, encoder or option: nothing was written
        print(f"lensml finetune: {e}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2, default=str))
    return 0
