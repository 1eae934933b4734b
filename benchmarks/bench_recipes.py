"""Every registry model at its CPU scale on fresh lenses: does it leave chance? (run by hand)

Each model trains with its recipe (``lensml.training.recipe``) at its CPU scale
(``lensml.models.cpu_scale``: options, epochs x stream steps) on fresh lenses of the family
(``data.source = "stream"``, batch 48, seed 0), through ``lensml.training.run``, validated and
tested on the stored splits of ``deeplense/<family>_n<per-class>``, then tested again on 600
lenses of a seed no run trained on. One subprocess per model (the backend's default compile
mode); a Markdown table is printed and written to ``--out``.

    python benchmarks/bench_recipes.py --out benchmarks/results/recipes_cpu.md
    python benchmarks/bench_recipes.py --models vit,cait --family model_ii
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(args) -> None:
    import keras

    from lensml.evaluation import classification_metrics
    from lensml.training import run
    from lensml.protocols.quickstart import BATCH_SIZE, experiment_config, fresh_lenses
    from lensml.models import cpu_scale
    from lensml.simulation import get_family
    from lensml.simulation.families import CLASS_NAMES

    scale = cpu_scale(args.model)
    fam = get_family(args.family)
    from lensml.datasets import sized_config

    dataset = sized_config(args.family, args.per_class)
    config = experiment_config(args.model, dataset, epochs=scale["epochs"], batch_size=BATCH_SIZE, seed=0,
                               out_dir=os.path.join(args.workdir, args.model), data_dir=args.data_dir,
                               options=scale["options"], pixel_scale=fam.instrument.pixel_scale,
                               steps_per_epoch=scale["steps_per_epoch"])
    config.training.verbose = 0
    start = time.time()
    result = run(config)["runs"][0]
    best = keras.saving.load_model(result["paths"]["checkpoint"])
    images, labels = fresh_lenses(args.family, 600)
    fresh = classification_metrics(labels, best.predict(images, batch_size=BATCH_SIZE, verbose=0), list(CLASS_NAMES))
    m = result["metrics"]
    print("RESULT " + json.dumps({
        "model": args.model, "options": scale["options"], "params": result["num_params"],
        "lenses": scale["epochs"] * scale["steps_per_epoch"] * BATCH_SIZE, "train_s": result["train_time_s"],
        "wall_s": time.time() - start, "learning_rate": config.training.learning_rate,
        "test_accuracy": m.get("test_accuracy"), "test_macro_auc": m.get("test_macro_auc"),
        "fresh_accuracy": fresh["accuracy"], "fresh_macro_auc": fresh["macro_auc"],
        "backend": keras.backend.backend(), "jit_compile": result["jit_compile"],
    }), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=None, help="comma-separated (default: every registry model)")
    parser.add_argument("--family", default="model_ii_published")
    parser.add_argument("--per-class", type=int, default=300, help="stored validation/test: deeplense/<family>_n<N>")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None, help="Markdown file to write")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per model")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.models:
        models = [m for m in args.models.split(",") if m]
    else:
        from lensml.models import available

        models = available()
    rows, start = [], time.time()
    workdir = tempfile.mkdtemp(prefix="bench_recipes_")
    for name in models:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--model", name, "--family", args.family,
               "--per-class", str(args.per_class), "--workdir", workdir]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, cwd=ROOT)
            lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
            row = json.loads(lines[-1][7:]) if lines else {"model": name, "error": proc.stderr.strip().splitlines()[-1:]}
        except subprocess.TimeoutExpired:
            row = {"model": name, "error": f"timed out after {args.timeout:.0f} s"}
        rows.append(row)
        print(json.dumps(row), flush=True)
    table = render(rows, args, time.time() - start)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
    return 0


def render(rows, args, seconds) -> str:
    def f(v, fmt="{:.3f}"):
        return "n/a" if v is None else fmt.format(v)

    lines = [f"# Every registry model at CPU scale on fresh `{args.family}` lenses", "",
             f"`python benchmarks/bench_recipes.py --family {args.family} --per-class {args.per_class}`: each model "
             "trained with its recipe (`lensml.training.recipe`) at its CPU scale (`lensml.models.cpu_scale`) on fresh "
             "lenses from the batched simulator (batch 48, seed 0, `data.source = \"stream\"`), best checkpoint by "
             f"validation loss, tested on the stored test split of `deeplense/{args.family}_n{args.per_class}` and on "
             f"600 lenses of an unseen seed. Chance is 1/3 accuracy, 0.5 AUC. Whole run {seconds / 60:.1f} min.", "",
             "| model | CPU-scale options | params | lenses seen | peak lr | train s | test acc | test macro AUC "
             "| fresh acc | fresh macro AUC |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | failed: {r['error']} | | | | | | | | |")
            continue
        lines.append(f"| {r['model']} | {json.dumps(r['options']) if r['options'] else 'full size'} | "
                     f"{r['params'] / 1e6:.2f}M | {r['lenses']:,} | {r['learning_rate']:g} | {r['train_s']:.0f} | "
                     f"{f(r['test_accuracy'])} | {f(r['test_macro_auc'])} | {f(r['fresh_accuracy'])} | "
                     f"{f(r['fresh_macro_auc'])} |")
    backend = next((r["backend"] for r in rows if "backend" in r), "?")
    return "\n".join(lines + ["", f"Backend: {backend}.", ""])


if __name__ == "__main__":
    raise SystemExit(main())
