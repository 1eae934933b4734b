"""Label-efficiency protocols, built from many runs (the evaluation protocol, docs/guide/evaluation.md), as library functions that the
scripts in ``evaluate/`` and the CLI wrap.

- ``run_label_efficiency(config)`` trains ``config`` on stratified fractions of the training
  labels (``data.label_fraction``; the pipeline keeps the first ceil(f * n_c) examples of each
  class, so subsets are nested), once per seed, evaluates each on the test split and writes
  the curve with ``lensml.evaluation.write_protocol_report``.
- ``run_ssl_label_efficiency(pretrain, finetune)``: the SSL papers' label-efficiency claim,
  per seed: pretrain once on all training images (labels unused), then fine-tune (or
  linear-probe) that encoder and, beside it, the same architecture freshly initialised (the
  from-scratch baseline, same head, config and seed), at each label fraction.
(The transfer protocol, ``run_cross_instrument``, is ``lensml.protocols.transfer``.)

Every run of every protocol is tested by ``lensml.training.runner.test_metrics`` on the
test split, trains on ``lensml.data.stratified_subset`` and is aggregated over seeds by
``lensml.evaluation.write_protocol_report`` (mean +- sample std).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from lensml.evaluation.label_efficiency import LABEL_FRACTIONS
from lensml.training.config import ExperimentConfig, apply_overrides


def check_fractions(fractions) -> list[float]:
    fractions = list(fractions)
    for f in fractions:
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1:
            raise ValueError(f"fractions: got {f!r}, expected numbers in (0, 1]")
    return [float(f) for f in fractions]


def _test_split(config: ExperimentConfig, key: str) -> None:
    if not config.data.test_split:
        raise ValueError(f"{key}: data.test_split is ''; a label-efficiency curve is measured on the test split")


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
    from lensml.training.runner import run

    fractions = check_fractions(fractions or config.label_fractions or LABEL_FRACTIONS)
    _test_split(config, "config")
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


def fresh_encoder(encoder_path, out_path, seed: int) -> str:
    """The architecture of the saved encoder ``encoder_path``, freshly initialised under
    ``seed`` (its config rebuilt, no weights copied), saved atomically to ``out_path``: the
    from-scratch baseline of a pretrained encoder, the same network in every respect but the
    pretraining. Returns ``out_path`` as a string."""
    import keras

    from lensml.training.callbacks import save_model_atomic

    pretrained = keras.saving.load_model(encoder_path, safe_mode=True, compile=False)
    keras.utils.set_random_seed(int(seed))
    fresh = pretrained.__class__.from_config(pretrained.get_config())
    save_model_atomic(fresh, Path(out_path))
    return str(out_path)


def run_ssl_label_efficiency(
    pretrain: ExperimentConfig,
    finetune: ExperimentConfig,
    fractions: Sequence[float] | None = None,
    *,
    metric: str = "test_accuracy",
) -> dict[str, Any]:
    """SSL-pretrained vs from-scratch at each label fraction, on ``finetune``'s test split.

    For each seed of ``finetune``: ``pretrain_seed(pretrain, seed)`` (all training images,
    labels unused), then at each fraction ``finetune`` is run twice from the same seed and
    config, on the same stratified subset (``data.label_fraction``): from the pretrained
    encoder (series ``"ssl"``) and from the same encoder architecture freshly initialised
    (``fresh_encoder``, series ``"scratch"``). ``finetune``'s ``model.options.mode`` chooses
    full fine-tuning or a linear probe.

    Args:
        pretrain: an SSL pretraining config (``[model] name`` in ``lensml.ssl.factory.METHODS``).
        finetune: a downstream config (``[model] name = "pretrained"``; its ``encoder_path`` is
            replaced per seed); its ``seeds`` and ``output.dir`` hold for the whole protocol.
        fractions: label fractions in (0, 1] (default ``finetune.label_fractions`` or 1 %, 10 %, 100 %).
        metric: the curve's test metric (``"test_accuracy"``, ``"test_macro_auc"``, ...).

    Returns ``{"records", "summary": {series: {fraction: {mean, std, n}}}, "pretrain": [per-seed
    pretraining summaries], "paths"}``; runs go to ``<output.dir>/runs/<series>_f<f>/seed_<seed>``,
    the curve (summary.md / .json / plot) to ``<output.dir>/ssl_label_efficiency/``.
    """
    from lensml.evaluation import write_protocol_report
    from lensml.protocols.pretraining import _summary, finetune_from, finetune_seed, pretrain_seed

    fractions = check_fractions(fractions or finetune.label_fractions or LABEL_FRACTIONS)
    _test_split(finetune, "finetune")
    if finetune.model.name != "pretrained":
        raise ValueError(f"finetune: model.name must be 'pretrained' (fine-tuning a pretrained encoder), "
                         f"got {finetune.model.name!r}")
    root = Path(finetune.output.dir.format(name=finetune.name, seed="all"))
    records, pretrained = [], []
    for seed in finetune.seeds:
        pre = pretrain_seed(apply_overrides(pretrain, {"output.dir": str(root / "pretrain" / "seed_{seed}")}), seed)
        pretrained.append(_summary(pre))
        scratch_encoder = fresh_encoder(pre["paths"]["encoder"], root / "pretrain" / f"seed_{seed}" / "fresh_encoder.keras",
                                        seed)
        for fraction in fractions:
            for series in ("ssl", "scratch"):
                name = f"{finetune.name}_{series}_f{fraction:g}"
                config = apply_overrides(finetune, {"data.label_fraction": fraction, "name": name, "label_fractions": None,
                                                    "output.dir": str(root / "runs" / f"{series}_f{fraction:g}" / "seed_{seed}")})
                if series == "ssl":
                    result = finetune_from(pre, config, seed)
                else:
                    result = finetune_seed(config, seed, encoder_path=scratch_encoder)
                records.append({"series": series, "fraction": fraction, "seed": seed, "metrics": result["metrics"]})
    out = root / "ssl_label_efficiency"
    summary = write_protocol_report(records, out, series="series", metric=metric,
                                    title=f"{pretrain.model.name} label efficiency")
    return {"records": records, "summary": summary, "pretrain": pretrained,
            "paths": {"dir": str(out), "summary": str(out / "summary.md")}}


#: The trained settings of ``lensml.evaluation.TRANSFER_SETTINGS`` and their config overrides.
