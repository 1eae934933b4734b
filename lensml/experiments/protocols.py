"""Evaluation protocols built from many runs (DESIGN section 5), as library functions that the
scripts in ``evaluate/`` and the CLI wrap.

- ``run_label_efficiency(config)`` trains ``config`` on stratified fractions of the training
  labels (``data.label_fraction``; the pipeline keeps the first ceil(f * n_c) examples of each
  class, so subsets are nested), once per seed, evaluates each on the test split and writes
  the curve with ``lensml.evaluation.write_protocol_report``.
- ``run_cross_instrument(source, target, out_dir)``: the transfer protocol of a model trained
  on one instrument (Model I) to another (Model II): zero-shot, from scratch, fine-tuned and
  linear-probed at each label fraction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from lensml.experiments.config import ExperimentConfig, apply_overrides

DEFAULT_FRACTIONS = (0.01, 0.1, 1.0)


def run_label_efficiency(
    config: ExperimentConfig,
    fractions: Sequence[float] | None = None,
    *,
    metric: str = "accuracy",
    data_factory: Callable | None = None,
    model_factory: Callable | None = None,
) -> dict[str, Any]:
    """Train and test ``config`` at each label fraction and seed.

    Args:
        config: the experiment; its ``seeds`` are used at every fraction.
        fractions: label fractions in (0, 1]; default ``config.label_fractions`` or
            (0.01, 0.1, 1.0).
        metric: test metric of the curve (``"accuracy"``, ``"macro_auc"``, ...).

    Returns ``{"records": [...], "summary": {model: {fraction: {mean, std, n}}}, "paths"}``;
    runs go to ``<output.dir>/fraction_<f>/``, the curve to ``<output.dir>/label_efficiency/``.
    """
    from lensml.experiments.runner import run

    fractions = list(fractions or config.label_fractions or DEFAULT_FRACTIONS)
    for f in fractions:
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1:
            raise ValueError(f"fractions: got {f!r}, expected numbers in (0, 1]")
    if not config.data.test_split:
        raise ValueError("data.test_split: a label-efficiency curve is measured on the test split; got ''")
    root = Path(config.output.dir.format(name=config.name, seed="all"))
    records = []
    for f in fractions:
        cfg = apply_overrides(
            config, {"data.label_fraction": float(f), "output.dir": str(root / f"fraction_{f:g}"), "label_fractions": None}
        )
        result = run(cfg, data_factory=data_factory, model_factory=model_factory)
        for r in result["runs"]:
            test = {k[len("test_"):]: v for k, v in r["metrics"].items() if k.startswith("test_")}
            records.append({"model": config.model.name, "fraction": float(f), "seed": r["seed"], "metrics": test})
    from lensml.evaluation import write_protocol_report

    out = root / "label_efficiency"
    summary = write_protocol_report(records, out, x="fraction", series="model", metric=metric, title="label efficiency")
    return {"records": records, "summary": summary, "paths": {"dir": str(out), "summary": str(out / "summary.md")}}


#: The trained settings of ``lensml.evaluation.TRANSFER_SETTINGS`` and their config overrides.
TRANSFER_TRAINING = {"scratch": {}, "fine_tune": {"model.trainable": "all"}, "linear_probe": {"model.trainable": "head"}}


def run_cross_instrument(
    source: ExperimentConfig,
    target: ExperimentConfig,
    out_dir,
    *,
    fractions: Sequence[float] | None = None,
    data_factory: Callable | None = None,
    model_factory: Callable | None = None,
) -> dict[str, Any]:
    """Cross-instrument transfer, on ``target``'s test split:

    - zero_shot: the ``source`` model (trained once per seed), the target's test images resampled
      onto the source grid (``lensml.evaluation.match_dataset_images``);
    - scratch: ``target`` trained from scratch at each label fraction;
    - fine_tune: ``target`` initialised from the same seed's source model (``model.init_from``),
      all layers trained, at each label fraction;
    - linear_probe: the same with only the classifier head trained (``model.trainable = "head"``).

    Args:
        source, target: experiment configs (their seeds should agree); both datasets are
            deeplense dataset names (their instruments are resampled between).
        out_dir: runs go to ``out_dir/runs/<name>/seed_<seed>``; ``summary.md``, ``summary.json``
            and the plot (test accuracy vs label fraction per setting, mean +- std over seeds) to ``out_dir``.
        fractions: label fractions in (0, 1] (default ``lensml.evaluation.LABEL_FRACTIONS``).

    Returns ``{"records": [...], "summary": {setting: {fraction: {mean, std, n}}}, "paths"}``.
    """
    from lensml.evaluation import LABEL_FRACTIONS, evaluate_model, load_data, match_dataset_images, write_protocol_report
    from lensml.evaluation.inputs import load_keras_model
    from lensml.experiments.runner import run

    out = Path(out_dir)
    fractions = [float(f) for f in (fractions or LABEL_FRACTIONS)]
    if any(not 0 < f <= 1 for f in fractions):
        raise ValueError(f"fractions: got {fractions}, expected numbers in (0, 1]")
    source = apply_overrides(source, {"output.dir": str(out / "runs" / source.name / "seed_{seed}")})
    test = load_data(target.data.dataset, split=target.data.test_split or "test", data_dir=target.data.data_dir)
    images = match_dataset_images(test["images"], target.data.dataset, source.data.dataset)
    records = []
    result = run(source, data_factory=data_factory, model_factory=model_factory)
    for seed, r in zip(result["seeds"], result["runs"]):
        report = evaluate_model(load_keras_model(r["paths"]["model"]), (images, test["targets"]), "classification",
                                out / f"zero_shot_s{seed}", dataset_name=target.data.dataset, split="test")
        records += [{"setting": "zero_shot", "fraction": f, "seed": seed, "metrics": {"test_accuracy": report["accuracy"]}}
                    for f in fractions]
    source_model = str(Path(source.output.dir) / "model.keras")  # "{seed}" is filled in per run
    for setting, extra in TRANSFER_TRAINING.items():
        for fraction in fractions:
            name = f"{target.name}_{setting}_f{fraction:g}"
            init = {"model.init_from": source_model} if extra else {}
            config = apply_overrides(target, {**extra, **init, "data.label_fraction": fraction, "name": name,
                                              "output.dir": str(out / "runs" / name / "seed_{seed}")})
            result = run(config, data_factory=data_factory, model_factory=model_factory)
            records += [{"setting": setting, "fraction": fraction, "seed": seed, "metrics": r["metrics"]}
                        for seed, r in zip(result["seeds"], result["runs"])]
    summary = write_protocol_report(records, out, series="setting", metric="test_accuracy", title="cross instrument")
    return {"records": records, "summary": summary, "paths": {"dir": str(out), "summary": str(out / "summary.md")}}
