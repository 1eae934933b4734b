"""``lensml pretrain --config train/ssl/<run>.toml [--set key=value ...]``: self-supervised
pretraining, ``lensml.protocols.pretraining.pretrain`` (``run_seed`` with an SSL trainer as the model).

The config is an ordinary experiment config (TOML) whose ``[model]`` names the method
(``name = "simclr" | "byol" | "simsiam" | "dino" | "mae" | "ijepa" | "lens_jepa"``) and
whose ``[model.options]`` are the trainer's arguments plus ``encoder`` /
``encoder_options`` for the image-encoder methods. Labels in the data are ignored. Each
seed writes, next to the runner's files, ``encoder.keras`` (images -> features, loads with
safe_mode) for ``lensml finetune``, and for MAE / JEPA also ``token_encoder.keras``
(images -> patch tokens, for super-resolution). The EMA trainers' ``total_steps`` (BYOL, DINO,
I-JEPA, Lens-JEPA: the momentum schedule's length) is the run's number of optimiser steps,
epochs x batches per epoch (``lensml.training.runner.training_steps``, so ``--set``
overrides of epochs, batch size or dataset follow), unless the config sets it.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="pretraining config (TOML), e.g. train/ssl/simclr_rotation_resnet50_model_ii.toml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, value read as TOML (repeatable)")
    parser.add_argument("--out", default=None, help="output folder (overrides [output] dir)")
    from lensml.cli.train import add_distribute_argument, add_run_folder_arguments

    add_distribute_argument(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config, do not train")
    add_run_folder_arguments(parser)


def _check_method(config) -> None:
    from lensml.ssl.factory import METHODS

    if config.model.name not in METHODS:
        raise ValueError(f"model.name={config.model.name!r}: expected one of {list(METHODS)}")


def main(args) -> int:
    from lensml.cli.train import run_command
    from lensml.protocols.pretraining import pretrain

    return run_command(args, "pretrain", pretrain, check=_check_method)
