"""``lensml benchmark reproduce --table lenspinn --scale cpu`` and ``lensml benchmark speed``.

- ``reproduce``: every row of a paper table trained and tested under the one protocol;
  a Markdown table with the paper's number beside lensml's (mean +- std over seeds), the gap,
  both rankings and their Spearman correlation; SSL rows chained pretrain -> fine-tune.
  See :mod:`lensml.protocols.reproduce`.
- ``speed``: the scripts in ``benchmarks/`` collected into one table with the machine's
  description. See :mod:`lensml.protocols.speed`.
"""

from __future__ import annotations

import argparse

TABLE_NAMES = ("lenspinn", "lens_jepa", "ssl", "mae", "d4lenspinn")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    rep = sub.add_parser("reproduce", help="re-run a paper table under the protocol",
                         description="Re-run every row of a paper table; write paper vs lensml as Markdown.")
    rep.add_argument("--table", required=True, choices=TABLE_NAMES)
    rep.add_argument("--scale", default="cpu",
                     choices=["cpu", "small", "paper", "tiny", "controlled", "controlled_stored", "controlled_noisy"],
                     help="cpu (default): a 2-core CPU within an hour per table, every model at its CPU scale on "
                          "fresh lenses of the published-compatible data; paper: the published scale (GPU); "
                          "small: the older stored-data laptop scale; tiny: smoke test; controlled: every row at the "
                          "table's parameter and step budget, 3 seeds, 600 test lenses per class, intervals, on fresh "
                          "lenses (controlled_stored: the papers' stored training split; controlled_noisy: the "
                          "realistic family's); hours on a CPU, and a rerun resumes the seeds already done")
    rep.add_argument("--out", default="reproduce", help="output folder (default: reproduce)")
    rep.add_argument("--rows", default=None, help="comma-separated row labels or config stems to run (default: all)")
    rep.add_argument("--data-dir", default=None, help="TFDS data dir (default: ~/tensorflow_datasets)")
    rep.add_argument("--max-minutes", type=float, default=None,
                     help="start no new training run after this many minutes; unfinished rows say so")
    rep.add_argument("--root", default=None, help="a folder holding train/ (default: the configs lensml ships)")
    rep.add_argument("--render-only", action="store_true",
                     help="train nothing: rewrite OUT/reproduce_<table>_<scale>.md from its .json")
    spd = sub.add_parser("speed", help="collect the benchmarks/ scripts into one table",
                         description="Run benchmarks/bench_*.py and collect their tables with the machine's description.")
    spd.add_argument("--out", default="benchmarks-speed.md", help="Markdown file (default: benchmarks-speed.md)")
    spd.add_argument("--bench-dir", default=None,
                     help="folder of bench_*.py scripts (default: the benchmarks lensml ships)")
    spd.add_argument("--only", default=None, help="comma-separated scripts, e.g. physics,models (default: all present)")
    spd.add_argument("--full", action="store_true", help="each script's default (long) settings instead of short ones")
    spd.add_argument("--timeout", type=float, default=3600, help="seconds per script (default: 3600)")


def main(args) -> int:
    import sys

    if args.action == "reproduce":
        from lensml.protocols.reproduce import reproduce

        rows = [r.strip() for r in args.rows.split(",") if r.strip()] if args.rows else None
        if args.render_only:
            from pathlib import Path

            from lensml.protocols.reproduce import rerender

            path = Path(args.out) / f"reproduce_{args.table}_{args.scale}.json"
            if not path.is_file():
                print(f"lensml benchmark reproduce: --render-only needs {path} (a finished run)", file=sys.stderr)
                return 2
            print(open(rerender(path)).read())
            return 0
        try:
            result = reproduce(args.table, args.scale, args.out, rows=rows, root=args.root, data_dir=args.data_dir,
                               max_minutes=args.max_minutes)
        except (ValueError, TypeError, FileNotFoundError) as e:
            print(f"lensml benchmark reproduce: {e}", file=sys.stderr)
            return 2
        print(open(result["markdown"]).read())
        return 0
    if args.action == "speed":
        from lensml.protocols.speed import speed

        only = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else None
        result = speed(args.out, bench_dir=args.bench_dir, only=only, full=args.full, timeout=args.timeout)
        print(open(result["path"]).read())
        return 0 if all(r["returncode"] == 0 for r in result["runs"]) else 1
    print("lensml benchmark: choose an action: reproduce or speed (see lensml benchmark --help)", file=sys.stderr)
    return 2
