"""``lensml compare RUN_DIR...``: several evaluation runs side by side in one Markdown table."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="folders written by `lensml evaluate` (each with metrics.json)")
    parser.add_argument("--out", default=None, help="also write the table to this Markdown file")
    parser.add_argument("--no-aggregate", action="store_true",
                        help="one row per run instead of mean +- std over runs of the same model, dataset and split")
    parser.add_argument("--digits", type=int, default=4, help="decimals shown (default 4)")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lensml.evaluation.compare import compare_runs

    try:
        table = compare_runs(args.runs, aggregate=not args.no_aggregate, digits=args.digits)
    except (FileNotFoundError, ValueError) as error:
        print(f"lensml compare: error: {error}", file=sys.stderr)
        return 2
    print(table, end="")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(table)
    return 0
