"""``lensml pretrain --config train/ssl/<run>.toml [--set key=value ...]``: self-supervised
pretraining, ``lensml.experiments.pretraining.pretrain`` (``run_seed`` with an SSL trainer as the model).

The config is an ordinary experiment config (TOML) whose ``[model]`` names the method
(``name = "simclr" | "byol" | "simsiam" | "dino" | "mae" | "ijepa" | "lens_jepa"``) and
whose ``[model.options]`` are the trainer's arguments plus ``encoder`` /
``encoder_options`` for the image-encoder methods. Labels in the data are ignored. Each
seed writes, next to the runner's files, ``encoder.keras`` (images -> features, loads with
safe_mode) for ``lensml finetune``, and for MAE / JEPA also ``token_encoder.keras``
(images -> patch tokens, for super-resolution). The EMA trainers' ``total_steps`` (BYOL, DINO,
I-JEPA, Lens-JEPA: the momentum schedule's length) is the run's number of optimiser steps,
epochs x batches per epoch (``lensml.experiments.runner.training_steps``, so ``--set``
overrides of epochs, batch size or dataset follow), unless the config sets it.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="pretraining config (TOML), e.g. train/ssl/simclr_rotation_resnet50_model_ii.toml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, value read as TOML (repeatable)")
    parser.add_argument("--out", default=None, help="output folder (overrides [output] dir)")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config, do not train")


def load(args, command):
    """The validated experiment config from --config / --set / --out, or (None, message)."""
    from lensml.experiments.config import load_config, parse_set_option

    try:
        overrides = dict(parse_set_option(s) for s in args.overrides)
        if args.out:
            overrides["output.dir"] = args.out
        return load_config(args.config, overrides), None
    except (ValueError, TypeError, FileNotFoundError) as e:
        return None, f"lensml {command}: {e}"


def print_config(config):
    from lensml.experiments.config import config_to_dict
    from lensml.experiments.toml_writer import dumps

    print(dumps(config_to_dict(config)))


def run_command(args, command: str, protocol, check=None) -> int:
    """What ``lensml pretrain`` / ``lensml finetune`` do: load the config (``load``), ``check``
    it (a callable returning an error message or None), print it for ``--dry-run``, else run
    ``protocol(config)`` and print its JSON; 2 with the error on stderr when anything is bad
    (nothing was written then)."""
    import json
    import sys

    config, error = load(args, command)
    if not error and check is not None:
        error = check(config)
    if error:
        print(error, file=sys.stderr)
        return 2
    if args.dry_run:
        print_config(config)
        return 0
    try:
        results = protocol(config)
    except (ValueError, TypeError, FileNotFoundError) as e:  # bad data, encoder or option: nothing was written
        print(f"lensml {command}: {e}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2, default=str))
    return 0


def _pretraining_method(config):
    from lensml.ssl.factory import METHODS

    if config.model.name not in METHODS:
        return f"lensml pretrain: model.name={config.model.name!r}: expected one of {list(METHODS)}"
    return None


def main(args) -> int:
    from lensml.experiments.pretraining import pretrain

    return run_command(args, "pretrain", pretrain, check=_pretraining_method)
