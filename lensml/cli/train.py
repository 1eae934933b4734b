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
    add_distribute_argument(parser)
    parser.add_argument("--dry-run", action="store_true", help="load and print the resolved config, do not train")
    add_run_folder_arguments(parser)


def add_distribute_argument(parser: argparse.ArgumentParser) -> None:
    """``--distribute`` (``training.distribute``), for the commands that train."""
    parser.add_argument(
        "--distribute",
        default=None,
        choices=["none", "data_parallel", "mirrored", "multi_worker", "tpu"],
        help="data-parallel training over every device (sets training.distribute): JAX "
        "keras.distribution.DataParallel, TensorFlow tf.distribute (Mirrored / MultiWorkerMirrored "
        "with TF_CONFIG / TPU); data.batch_size is the global batch",
    )


def add_run_folder_arguments(parser: argparse.ArgumentParser) -> None:
    """``--overwrite`` / ``--resume-with-changes`` (``output.overwrite`` / ``output.resume_with_changes``)."""
    parser.add_argument("--overwrite", action="store_true",
                        help="start afresh in a run folder that holds a finished or interrupted run (its run files "
                             "are removed)")
    parser.add_argument("--resume-with-changes", action="store_true",
                        help="resume an interrupted run although keys that leave its arithmetic unchanged "
                             "(description, data.data_dir, training.tensorboard, ...) differ from its config.toml")


def load_from_args(args):
    """The validated config from ``--config`` and ``--set`` (shared with ``lensml tune``)."""
    from lensml.training.config import load_config, parse_set_option

    overrides = dict(parse_set_option(s) for s in args.overrides)
    if getattr(args, "out", None):
        overrides["output.dir"] = args.out
    if getattr(args, "distribute", None):
        overrides["training.distribute"] = args.distribute
    if getattr(args, "overwrite", False):
        overrides["output.overwrite"] = True
    if getattr(args, "resume_with_changes", False):
        overrides["output.resume_with_changes"] = True
    return load_config(args.config, overrides)


def print_config(config) -> None:
    """The resolved config as TOML (what ``--dry-run`` prints)."""
    from lensml.training.config import config_to_dict
    from lensml.training.toml_writer import dumps

    print(dumps(config_to_dict(config)))


def run_command(args, command: str, protocol, *, check=None, report=None) -> int:
    """What ``lensml train`` / ``pretrain`` / ``finetune`` do: the config from ``--config``,
    ``--set`` and ``--out`` (``load_from_args``), ``check(config)`` (raises ValueError), printed
    for ``--dry-run``, else ``protocol(config)`` run and its result printed (``report(config,
    result)``, default JSON). 2, with the error on stderr, for a bad config, dataset, model or
    option: nothing was written then."""
    import json
    import sys

    try:
        config = load_from_args(args)
        from lensml.training.distribute import start_processes

        start_processes(config.training.distribute)  # before anything runs on TF or JAX
        if check is not None:
            check(config)  # before --dry-run prints it and before any dataset is built
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"lensml {command}: {e}", file=sys.stderr)
        return 2
    if args.dry_run:
        print_config(config)
        return 0
    from lensml.training.runner import TrainingDiverged

    try:
        result = protocol(config)
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"lensml {command}: {e}", file=sys.stderr)
        return 2
    except (TrainingDiverged, OSError) as e:  # diverged, or a full disk: a one-line error, exit 1
        print(f"lensml {command}: error: {e}", file=sys.stderr)
        return 1
    from lensml.training.distribute import is_chief

    if not is_chief():  # another worker of a multi-process job: its copies of the results are gone
        print(f"lensml {command}: worker done; the chief wrote the results to {config.output.dir}")
        return 0
    print(report(config, result) if report else json.dumps(result, indent=2, default=str))
    return 0


def main(args) -> int:
    from lensml.protocols.single_run import report_training, train
    from lensml.training.runner import check_config

    return run_command(args, "train", train, check=check_config, report=report_training)
