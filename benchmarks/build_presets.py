"""Build lensml's built-in presets (run by hand, not by CI): the quickstart's ResNet18 trained on
``model_ii_published`` (the data the papers trained on) and on the realistic ``model_ii`` (with
Euclid VIS noise), each saved as ``lensml/presets/resnet18_<family>/`` with its model card, and
their scores in ``benchmarks/results/presets.md`` / ``.json``.

    python benchmarks/build_presets.py                 # both families, ~3 min each on 2 cores
    python benchmarks/build_presets.py --families model_ii --out /tmp/presets

Each preset is ``lensml quickstart --models resnet18 --family <family>`` (seed 0, the model's CPU
scale: width 24, 8 x 200 stream batches of 48 = 76,800 fresh lenses, its recipe), its best
checkpoint by validation loss, tested on the stored test split of ``<family>_n500`` (100 per
class) and on 600 fresh lenses of seed 10,000 that no training run draws. Rerunning gives the same
data and the same initial weights; oneDNN's multi-threaded convolutions are not bitwise
reproducible, so the metrics agree within the seed spread, not to the last digit.

LensPINN small is not shipped: at 6.9 M parameters its weights take 27.6 MB in float32 (13.8 MB in
float16), beyond the 20 MB the built-in presets may take together with the two ResNet18s
(6.4 MB each, float32).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("model_ii_published", "model_ii")


def build(family: str, out: Path, data_dir: str | None) -> dict:
    import lensml.models as M
    from lensml.protocols.quickstart import FRESH_LENSES, FRESH_SEED, run_quickstart

    work = Path(tempfile.mkdtemp(prefix=f"preset_{family}_"))
    start = time.time()
    record = run_quickstart(work / "report", family=family, models=("resnet18",), data_dir=data_dir)
    minutes = (time.time() - start) / 60
    m = record["models"]["resnet18"]
    run_preset = work / "report" / "runs" / "resnet18" / "preset"
    model = M.from_preset(run_preset)
    name = f"resnet18_{family}"
    metrics = {f"test_{k}": m[k] for k in ("accuracy", "macro_f1", "macro_auc", "ece")}
    metrics.update({f"fresh_{k}": v for k, v in m["fresh"].items()})
    card = {
        **M.preset_metadata(run_preset)["card"],
        "preset_name": name,
        "metrics": metrics,
        "metrics_note": (f"test_*: the stored test split of deeplense/{family}_n500 (100 lenses per class); "
                         f"fresh_*: {FRESH_LENSES} fresh lenses of seed {FRESH_SEED} from the batched simulator. "
                         "One seed: the binomial standard error of an accuracy on 300 lenses is about 0.02."),
        "notes": (f"Built by `python benchmarks/build_presets.py --families {family}` (lensml quickstart's "
                  f"ResNet18, {m['lenses_seen']:,} fresh lenses, {m['train_time_s']:.0f} s of training on "
                  f"{platform.processor() or platform.machine()}, {minutes:.1f} min in all)."),
    }
    target = out / name
    M.save_preset(model, target, card=card, overwrite=True)
    shutil.rmtree(work, ignore_errors=True)
    size = sum(p.stat().st_size for p in target.iterdir()) / 1e6
    return {"name": name, "family": family, "metrics": metrics, "size_mb": round(size, 2),
            "lenses_seen": m["lenses_seen"], "num_params": m["num_params"], "minutes": round(minutes, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--out", default=str(ROOT / "lensml" / "presets"), help="where the preset folders go")
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "presets"),
                        help="results file stem (.md and .json)")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    rows = [build(family, Path(args.out), args.data_dir) for family in args.families]
    import keras

    lines = ["# Built-in presets", "",
             f"`python benchmarks/build_presets.py` on {platform.machine()} ({platform.processor() or 'CPU'}), "
             f"Keras {keras.__version__} ({keras.backend.backend()}); one seed (0).", "",
             "| preset | parameters | size MB | lenses seen | test acc | test macro AUC | fresh acc | fresh macro AUC |"
             " minutes |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        m = r["metrics"]
        lines.append(f"| `{r['name']}` | {r['num_params']:,} | {r['size_mb']} | {r['lenses_seen']:,} | "
                     f"{m['test_accuracy']:.3f} | {m['test_macro_auc']:.3f} | {m['fresh_accuracy']:.3f} | "
                     f"{m['fresh_macro_auc']:.3f} | {r['minutes']} |")
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results + ".md").write_text("\n".join(lines) + "\n")
    Path(args.results + ".json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
