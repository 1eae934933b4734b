"""``lensml train --config train/<experiment>.toml [--set key=value ...]``."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="experiment config (TOML), e.g. train/resnet18_model_ii_3k.toml")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, value read as TOML (repeatable): --set training.epochs=2 --set seeds=[0,1]",
    )
    parser.add_argument("--out", default=None, help="output folder (overrides [output] dir)")
    parser.add_argument(
        "--distribute",
        default=None,
        choices=["none", "data_parallel", "mirrored", "multi_worker", "tpu"],
        help="data-parallel training over every device (sets training.distribute): JAX "
        "keras.distribution.DataParallel, TensorFlow tf.distribute (Mirrored / MultiWorkerMirrored "
        "with TF_CONFIG / TPU); data.batch_size is the global batch",
    )
    parser.add_argument("--dry-run", action="store_true", help="load and print the resolved config, do not train")


def load_from_args(args):
    """The validated config from ``--config`` and ``--set`` (shared with ``lensml tune``)."""
    from lensml.experiments.config import load_config, parse_set_option

    overrides = dict(parse_set_option(s) for s in args.overrides)
    if getattr(args, "out", None):
        overrides["output.dir"] = args.out
    if getattr(args, "distribute", None):
        overrides["training.distribute"] = args.distribute
    return load_config(args.config, overrides)


def main(args) -> int:
    import sys

    try:
        config = load_from_args(args)
        from lensml.experiments.runner import check_config

        check_config(config)  # before --dry-run prints it and before any dataset is built
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"lensml train: {e}", file=sys.stderr)
        return 2
    if args.dry_run:
        from lensml.experiments.commands.pretrain import print_config

        print_config(config)
        return 0
    from lensml.experiments import report_training, train

    try:
        result = train(config)
    except (ValueError, TypeError, FileNotFoundError) as e:  # bad data, model or option: nothing was written
        print(f"lensml train: {e}", file=sys.stderr)
        return 2
    print(report_training(config, result))
    return 0
