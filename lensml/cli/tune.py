"""``lensml tune --config X [--study NAME] [--storage URL] [--n-trials N]``: run, resume or
join an Optuna study over the config's ``[tune]`` search space.

Run the same command again to resume a killed study (the default SQLite storage sits next
to the results); start it on several machines with one ``--storage`` URL to share a study.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="experiment config with a [tune] table")
    parser.add_argument("--study", default=None, help="study name (default: tune.study_name, else the config name)")
    parser.add_argument(
        "--storage",
        default=None,
        help="sqlite:///file.db, postgresql://user:pass@host/db or journal:/shared/study.log "
        "(default: <output.dir>/tune/<study>/study.db)",
    )
    parser.add_argument("--n-trials", type=int, default=None, help="total finished trials wanted in the study")
    parser.add_argument("--timeout", type=float, default=None, help="stop starting new trials after this many seconds")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config key (repeatable), e.g. --set training.epochs=5 --set tune.pruner=hyperband",
    )
    parser.add_argument("--out", default=None, help="output folder (overrides [output] dir)")
    parser.add_argument("--no-report", action="store_true", help="skip the report and best-config export")


def main(args) -> int:
    import json
    import sys

    from lensml.cli.train import load_from_args

    try:
        config = load_from_args(args)
        from lensml.protocols.tuning import prepare

        prepare(config)
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"lensml tune: {e}", file=sys.stderr)
        return 2
    from lensml.protocols.tuning import tune_experiment

    try:
        result = tune_experiment(
            config, study_name=args.study, storage=args.storage, n_trials=args.n_trials,
            timeout=args.timeout, report=not args.no_report,
        )
    except ValueError as e:
        from lensml.tuning import redact

        print(f"lensml tune: {redact(e)}", file=sys.stderr)  # a driver's error may quote the URL
        return 2
    print(json.dumps(result, indent=2, default=str))
    if "best_config" in result["paths"]:
        print(f"\nbest config: {result['paths']['best_config']}\n"
              f"train it:    lensml train --config {result['paths']['best_config']}\n"
              f"dashboard:   optuna-dashboard {result['storage']}")
    return 0
