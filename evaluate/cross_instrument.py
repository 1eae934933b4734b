"""Cross-instrument transfer: ``python evaluate/cross_instrument.py SOURCE.toml TARGET.toml OUT_DIR``.

- zero_shot: SOURCE (Model I) trained per seed, then evaluated on TARGET's test split, whose
  images are resampled onto the source grid (lensml.evaluation.match_dataset_images).
- scratch: TARGET trained from scratch at each label fraction (1%, 10%, 100%).
Writes OUT_DIR/summary.md, summary.json and cross_instrument.png (test accuracy vs label
fraction, mean +- std over seeds). Fine-tuning from the source weights needs a warm-start
option in lensml.experiments (not there yet).
"""

import sys
from pathlib import Path

from lensml.evaluation import LABEL_FRACTIONS, evaluate_model, load_data, match_dataset_images, write_protocol_report
from lensml.evaluation.inputs import load_keras_model
from lensml.experiments import load_config, run

if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    source, target, out = load_config(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    records = []
    test = load_data(load_config(target).data.dataset, split="test")
    images = match_dataset_images(test["images"], load_config(target).data.dataset, source.data.dataset)
    result = run(source)
    for seed, r in zip(result["seeds"], result["runs"]):
        report = evaluate_model(load_keras_model(r["paths"]["model"]), (images, test["targets"]), "classification",
                                out / f"zero_shot_s{seed}", dataset_name=load_config(target).data.dataset, split="test")
        records += [{"setting": "zero_shot", "fraction": f, "seed": seed, "metrics": {"test_accuracy": report["accuracy"]}}
                    for f in LABEL_FRACTIONS]
    for fraction in LABEL_FRACTIONS:
        config = load_config(target, {"data.label_fraction": fraction})
        config.name = f"{config.name}_f{fraction:g}"
        result = run(config)
        records += [{"setting": "scratch", "fraction": fraction, "seed": seed, "metrics": r["metrics"]}
                    for seed, r in zip(result["seeds"], result["runs"])]
    print(write_protocol_report(records, out, series="setting", metric="test_accuracy", title="cross instrument"))
