"""Cross-instrument transfer:
``python evaluate/cross_instrument.py SOURCE.toml TARGET.toml OUT_DIR [key=value ...]``.

SOURCE (Model I) is trained once per seed; then, on TARGET's (Model II) test split:

- zero_shot: the source model, TARGET's images resampled onto the source grid
  (lensml.evaluation.match_dataset_images);
- scratch: TARGET trained from scratch at each label fraction (1%, 10%, 100%);
- fine_tune: TARGET initialised from the same seed's source model (``model.init_from``), all
  layers trained, at each label fraction;
- linear_probe: the same, with only the classifier head trained (``model.trainable = "head"``).

``key=value`` overrides apply to both configs (e.g. ``training.epochs=3 seeds=[0,1]``); keys
starting with ``source.`` / ``target.`` apply to one side only (``source.data.dataset=...``).
Writes OUT_DIR/summary.md, summary.json and cross_instrument.png (test accuracy vs label
fraction per setting, mean +- std over seeds).
"""

import sys
from pathlib import Path

from lensml.evaluation import LABEL_FRACTIONS, evaluate_model, load_data, match_dataset_images, write_protocol_report
from lensml.evaluation.inputs import load_keras_model
from lensml.experiments import load_config, parse_set_option, run

# The trained settings of lensml.evaluation.TRANSFER_SETTINGS and their config overrides.
SETTINGS = {"scratch": {}, "fine_tune": {"model.trainable": "all"}, "linear_probe": {"model.trainable": "head"}}


def _split_overrides(args):
    both, side = {}, {"source": {}, "target": {}}
    for key, value in (parse_set_option(a) for a in args):
        prefix, _, rest = key.partition(".")
        (side[prefix] if prefix in side else both)[rest if prefix in side else key] = value
    return {k: {**both, **v} for k, v in side.items()}


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    overrides = _split_overrides(sys.argv[4:])
    source = load_config(sys.argv[1], overrides["source"])
    target_path, out = sys.argv[2], Path(sys.argv[3])
    target = load_config(target_path, overrides["target"])
    source.output.dir = str(out / "runs" / source.name / "seed_{seed}")
    records = []
    test = load_data(target.data.dataset, split="test", data_dir=target.data.data_dir)
    images = match_dataset_images(test["images"], target.data.dataset, source.data.dataset)
    result = run(source)
    for seed, r in zip(result["seeds"], result["runs"]):
        report = evaluate_model(load_keras_model(r["paths"]["model"]), (images, test["targets"]), "classification",
                                out / f"zero_shot_s{seed}", dataset_name=target.data.dataset, split="test")
        records += [{"setting": "zero_shot", "fraction": f, "seed": seed, "metrics": {"test_accuracy": report["accuracy"]}}
                    for f in LABEL_FRACTIONS]
    source_model = str(Path(source.output.dir) / "model.keras")  # "{seed}" is filled in per run
    for setting, extra in SETTINGS.items():
        for fraction in LABEL_FRACTIONS:
            init = {"model.init_from": source_model} if extra else {}
            config = load_config(target_path, {**overrides["target"], **extra, **init, "data.label_fraction": fraction})
            config.name = f"{config.name}_{setting}_f{fraction:g}"
            config.output.dir = str(out / "runs" / config.name / "seed_{seed}")
            result = run(config)
            records += [{"setting": setting, "fraction": fraction, "seed": seed, "metrics": r["metrics"]}
                        for seed, r in zip(result["seeds"], result["runs"])]
    print(write_protocol_report(records, out, series="setting", metric="test_accuracy", title="cross instrument"))
