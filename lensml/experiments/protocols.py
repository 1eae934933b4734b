"""Evaluation protocols built from many runs: label-efficiency curves (DESIGN section 5).

``run_label_efficiency(config)`` trains ``config`` on stratified fractions of the training
labels (``data.label_fraction``; the pipeline keeps the first ceil(f * n_c) examples of each
class, so subsets are nested), once per seed, evaluates each on the test split and writes
the curve with ``lensml.evaluation.write_protocol_report``.
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
