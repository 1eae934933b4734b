"""The transfer protocol (the evaluation protocol, docs/guide/evaluation.md):
``run_cross_instrument(source, target, out_dir)`` measures how a model trained on one
instrument (Model I) does on another (Model II): zero-shot, from scratch, fine-tuned and
linear-probed at each label fraction. Every run is tested by ``lensml.training.runner.test_metrics``
and aggregated over seeds by ``lensml.evaluation.write_protocol_report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from lensml.evaluation.label_efficiency import LABEL_FRACTIONS
from lensml.protocols.label_efficiency import check_fractions
from lensml.training.config import ExperimentConfig, apply_overrides


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
    from lensml.evaluation import load_data, match_dataset_images, write_protocol_report
    from lensml.evaluation.inputs import load_keras_model
    from lensml.training.runner import run, test_metrics

    out = Path(out_dir)
    fractions = check_fractions(fractions or LABEL_FRACTIONS)
    source = apply_overrides(source, {"output.dir": str(out / "runs" / source.name / "seed_{seed}")})
    test = load_data(target.data.dataset, split=target.data.test_split or "test", data_dir=target.data.data_dir)
    images = match_dataset_images(test["images"], target.data.dataset, source.data.dataset)
    records = []
    result = run(source, data_factory=data_factory, model_factory=model_factory)
    for seed, r in zip(result["seeds"], result["runs"]):
        metrics = test_metrics(load_keras_model(r["paths"]["model"]), (images, test["targets"]), target.data,
                               out / f"zero_shot_s{seed}", model_name=source.model.name)
        records += [{"setting": "zero_shot", "fraction": f, "seed": seed, "metrics": metrics} for f in fractions]
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
