"""What does on-the-fly simulation buy? Wall time until a row reaches its final test macro AUC
(within 0.01) in the stored-split regime and in the fresh-lens (stream) regime, data generation
included, under a table's controlled scale.

    python benchmarks/time_to_auc.py --table lenspinn --row ResNet18
    python benchmarks/time_to_auc.py --row ResNet18 --regimes fresh,stored --every 45 --test-per-class 200
    python benchmarks/time_to_auc.py --per-class 30 --budget 100000 --every 2 --set training.epochs=1 --out /tmp/t  # smoke

For each regime the row trains once (seed 0) with the controlled budget; every ``--every`` steps
the clock stops, the model is scored on a fixed stratified subset of the stored test split
(``--test-per-class`` lenses of each class) and the clock restarts, so the times are training
(and, for the stream, simulation inside the steps) only. The stored regime starts its clock at
the training split's simulation with lenstronomy: the time to build the whole sized dataset in a
fresh folder times the training split's share of its examples. Prints and writes JSON and a
Markdown line per regime to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_to_final(times, values, tolerance: float = 0.01) -> float:
    """The first time at which ``values`` come within ``tolerance`` of their last value (the
    first crossing; a curve that dips again afterwards still counts from there)."""
    final = values[-1]
    return next(t for t, v in zip(times, values) if v >= final - tolerance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="lenspinn")
    parser.add_argument("--row", default="ResNet18", help="the row's label")
    parser.add_argument("--regimes", default="stored,fresh")
    parser.add_argument("--every", type=int, default=45, help="steps between two test scores")
    parser.add_argument("--test-per-class", type=int, default=200)
    parser.add_argument("--per-class", type=int, default=None, help="dataset size per class (default: the scale's)")
    parser.add_argument("--budget", type=int, default=None, help="parameters (default: the table's)")
    parser.add_argument("--set", action="append", default=[], help="dotted config override (e.g. training.epochs=1)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()

    import keras
    import numpy as np

    from lensml.data.pipeline import load_split
    from lensml.data.subset import stratified_subset
    from lensml.datasets import split_sizes
    from lensml.evaluation.classification import one_vs_rest_auc
    from lensml.protocols import reproduce as rep
    from lensml.training.config import apply_overrides, parse_set_option
    from lensml.training.runner import run_seed

    import dataclasses

    table = rep.TABLES[args.table]
    if args.budget:
        table = dataclasses.replace(table, size=f"budget_{args.budget}")
    row = next(r for r in table.rows if r.label == args.row)
    results = {}
    for regime in args.regimes.split(","):
        scale = {"fresh": rep.SCALES["controlled"], "stored": rep.SCALES["controlled_stored"]}[regime]
        if args.per_class:
            scale = dataclasses.replace(scale, per_class=args.per_class)
        work = Path(tempfile.mkdtemp(prefix=f"time_to_auc_{regime}_"))
        config = rep.scaled_config(row, scale, work, ROOT, table)
        over = {"output.dir": str(work / "run"), "seeds": [0], "data.data_dir": str(work / "tfds")}
        over.update(dict(parse_set_option(s) for s in args.set))
        config = apply_overrides(config, over)
        start = time.perf_counter()
        ds, builder = load_split(config.data.dataset, "test", data_dir=config.data.data_dir)  # builds every split
        build_s = time.perf_counter() - start
        sizes = split_sizes(scale.per_class)  # (train, validation, test) per class
        train_share = sizes[0] / sum(sizes)
        data_s = build_s * train_share if regime == "stored" else 0.0
        images, labels = [], []
        for example in ds.as_numpy_iterator():
            images.append(example["image"])
            labels.append(example["label"])
        images, labels = np.stack(images).astype("float32"), np.asarray(labels)
        images = images[..., None] if images.ndim == 3 else images
        per_class = np.bincount(labels).min()
        keep = stratified_subset(labels, min(1.0, args.test_per_class / per_class), seed=0)
        images, labels = images[keep], labels[keep]

        class Clock(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.step, self.elapsed, self.curve = 0, data_s, []

            def _score(self):
                probs = keras.ops.convert_to_numpy(self.model.predict(images, batch_size=128, verbose=0))
                auc = one_vs_rest_auc(labels, probs)["macro"]
                self.curve.append({"step": self.step, "seconds": self.elapsed, "macro_auc": auc})
                print(json.dumps({"regime": regime, **self.curve[-1]}), flush=True)

            def on_train_begin(self, logs=None):
                self.t0 = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                self.step += 1
                if self.step % args.every == 0:
                    self.elapsed += time.perf_counter() - self.t0
                    self._score()
                    self.t0 = time.perf_counter()

            def on_train_end(self, logs=None):
                self.elapsed += time.perf_counter() - self.t0
                if not self.curve or self.curve[-1]["step"] != self.step:
                    self._score()

        clock = Clock()
        run_seed(config, 0, callbacks=[clock], evaluate_test=False)
        times = [c["seconds"] for c in clock.curve]
        aucs = [c["macro_auc"] for c in clock.curve]
        results[regime] = {"dataset": config.data.dataset, "source": config.data.source, "steps": clock.step,
                           "batch_size": config.data.batch_size, "build_seconds": build_s,
                           "train_split_generation_seconds": data_s, "final_macro_auc": aucs[-1],
                           "seconds_to_final_within_0.01": time_to_final(times, aucs), "total_seconds": times[-1],
                           "curve": clock.curve}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"time_to_auc_{args.table}_{row.paper_model}"
    (out / f"{stem}.json").write_text(json.dumps({"table": args.table, "row": row.label, "results": results},
                                                 indent=2) + "\n")
    lines = [f"# Time to the final test macro AUC (within 0.01): {row.label}, {args.table} table, controlled budget",
             "", f"`python benchmarks/time_to_auc.py {' '.join(shlex.quote(a) for a in sys.argv[1:])}`; seed 0; test "
             f"AUC on {args.test_per_class} stored test lenses per class; seconds of data generation and training only "
             "(the first step's compilation included in both regimes).", "",
             "| regime | data | steps x batch | training split generated (s) | final macro AUC | to within 0.01 (s) | total (s) |",
             "|---|---|---|---|---|---|---|"]
    for regime, r in results.items():
        lines.append(f"| {regime} | {r['source']} `{r['dataset']}` | {r['steps']} x {r['batch_size']} | "
                     f"{r['train_split_generation_seconds']:.0f} | {r['final_macro_auc']:.3f} | "
                     f"{r['seconds_to_final_within_0.01']:.0f} | {r['total_seconds']:.0f} |")
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
