"""Tune an experiment config with Optuna: ``lensml.tuning`` driven by ``run_seed``.

Folder layout (``<output.dir>/tune/<study>/``)::

    study.db              the default SQLite storage (resume by running the command again)
    trials/trial_0007/    each trial's run folder (history, best checkpoint)
    report/               summary.md/json, importances and optimisation-history PNGs
    best_config.toml      the best trial as a ready-to-run train config
    pareto/trial_N.toml   multi-objective: one config per Pareto-optimal trial

Everything the study needs is checked before the first trial trains: parameter names are
config keys, every sampled combination makes a valid config, objective names are metrics
the run logs, the storage is reachable.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import socket
from pathlib import Path
from typing import Any, Callable

from lensml.training.config import ExperimentConfig, apply_overrides, check_path, config_to_dict
from lensml.training.runner import logged_metric_names, metric_mode
from lensml.training.toml_writer import dump as dump_toml

# Metrics the runner can add to training.metrics on demand when an objective names them.
_ADDABLE_METRICS = ("macro_auc",)
STATIC_OBJECTIVES = ("num_params",)

log = logging.getLogger("lensml.tuning")


def tune_root(config: ExperimentConfig, study_name: str) -> Path:
    """``<output.dir>/tune/<study_name>`` (a study name is one folder name: ``../x`` is refused)."""
    from lensml.training.config import check_name

    check_name(study_name, "study name")
    return Path(config.output.dir.format(name=config.name, seed="tune")) / "tune" / study_name


def prepare(config: ExperimentConfig):
    """Validate ``config.tune`` and return ``(config, space, objectives, directions)``.

    Raises ValueError (before anything trains) for: no ``[tune]`` table, an empty or
    malformed search space, a parameter that is not a config key or makes an invalid
    config, an unknown objective metric, bad directions.
    """
    from lensml.tuning import SearchSpace, check_directions

    if config.tune is None:
        raise ValueError(f"config {config.name!r} has no [tune] table: declare the search space in [tune.params]")
    tn = config.tune
    space = SearchSpace.from_dict(tn.params)
    for name in space.names:
        if name.startswith(("tune.", "seeds", "output.")) or name == "name":
            raise ValueError(f"search space parameter {name!r}: this config key cannot be tuned")
        try:
            check_path(name)
        except ValueError as e:
            raise ValueError(f"search space parameter {name!r} is not a config key: {e}") from None
        if name.startswith("model.options."):
            from lensml.models.registry import available, check_options

            if config.model.name in available():
                try:
                    check_options(config.model.name, {name.split(".", 2)[2]: None})
                except ValueError as e:
                    raise ValueError(f"search space parameter {name!r}: {e}") from None

    # Objectives that are epoch metrics must be logged by fit; add macro_auc if needed.
    metrics = list(config.training.metrics)
    for obj in tn.objectives:
        base = obj[4:] if obj.startswith("val_") else obj
        if base in _ADDABLE_METRICS and base not in metrics:
            metrics.append(base)
    if metrics != list(config.training.metrics):
        config = apply_overrides(config, {"training.metrics": metrics})
    allowed = logged_metric_names(config.training) + list(STATIC_OBJECTIVES)
    for obj in tn.objectives:
        if obj not in allowed:
            raise ValueError(
                f"tune.objectives: unknown metric {obj!r}; available: {allowed} "
                f"(epoch metrics come from training.metrics; add e.g. 'macro_auc' there)"
            )
        if not obj.startswith("val_") and obj not in STATIC_OBJECTIVES:
            log.warning("objective %r is a training-set metric; tune on a val_ metric to avoid overfitting", obj)
    directions = tn.directions or ["minimize" if metric_mode(o) == "min" else "maximize" for o in tn.objectives]
    directions = check_directions(directions)

    for variant in space.variants():
        try:
            apply_overrides(config, variant)
        except (ValueError, TypeError) as e:
            raise ValueError(f"search space: the values {variant} make an invalid config: {e}") from None
    return config, space, list(tn.objectives), directions


def _objective_value(result: dict, name: str, direction: str, reduce: str) -> float:
    if name == "num_params":
        return float(result["num_params"])
    series = [x for x in result["history"].get(name, []) if isinstance(x, float)]
    if not series:
        raise ValueError(f"objective {name!r} was not logged by the run (logged: {sorted(result['history'])})")
    if reduce == "last" or any(math.isnan(x) for x in series):
        return series[-1]
    return max(series) if direction == "maximize" else min(series)


def make_objective(
    config: ExperimentConfig,
    space,
    objectives: list[str],
    directions: list[str],
    root: Path,
    *,
    prune: bool,
    data_factory: Callable | None = None,
    model_factory: Callable | None = None,
) -> Callable:
    """``objective(trial)`` that trains one config per trial and returns its metric(s)."""
    from lensml.training.runner import run_seed
    from lensml.tuning import pruning_callback, trial_seed

    tn = config.tune
    base_seed = config.seeds[0]

    def objective(trial):
        import optuna

        params = space.suggest(trial)
        seed = trial_seed(trial, base_seed, tn.seed_policy)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")  # which process ran it
        run_dir = root / "trials" / f"trial_{trial.number:04d}"
        overrides = dict(params)
        overrides.update({"seeds": [seed], "output.save_model": False})
        cfg = apply_overrides(config, overrides)
        trial.set_user_attr("run_dir", str(run_dir))
        callbacks = [pruning_callback(trial, objectives[0])] if prune else []
        try:
            result = run_seed(
                cfg,
                seed,
                data_factory=data_factory,
                model_factory=model_factory,
                callbacks=callbacks,
                evaluate_test=False,
                out_dir=run_dir,
            )
        except optuna.TrialPruned:
            shutil.rmtree(run_dir / "backup", ignore_errors=True)
            raise
        trial.set_user_attr("num_params", result["num_params"])
        trial.set_user_attr("epochs_run", result["epochs_run"])
        values = [_objective_value(result, o, d, tn.reduce) for o, d in zip(objectives, directions)]
        return values[0] if len(values) == 1 else tuple(values)

    return objective


def export_config(config: ExperimentConfig, params: dict[str, Any], path: Path, *, name: str, note: str) -> Path:
    """Write ``config`` with ``params`` applied, without ``[tune]``, as a train config."""
    cfg = apply_overrides(config, params)
    raw = config_to_dict(cfg)
    raw.pop("tune", None)
    raw["name"] = name
    raw["description"] = note
    return dump_toml(raw, path)


def tune_experiment(
    config: ExperimentConfig,
    *,
    study_name: str | None = None,
    storage: str | None = None,
    n_trials: int | None = None,
    timeout: float | None = None,
    data_factory: Callable | None = None,
    model_factory: Callable | None = None,
    report: bool = True,
) -> dict[str, Any]:
    """Run (or resume, or join) the Optuna study of ``config.tune``.

    Args:
        config: an experiment config with a ``[tune]`` table.
        study_name: default ``tune.study_name``, else the config name.
        storage: storage URL (see :func:`lensml.tuning.make_storage`); default
            ``tune.storage``, else ``<output.dir>/tune/<study>/study.db``.
        n_trials: total finished trials wanted in the study (default ``tune.n_trials``).
        timeout: stop starting trials after this many seconds.
        data_factory, model_factory: as for :func:`lensml.training.run`.
        report: write the report folder and the best config(s) at the end.

    Returns ``{"study_name", "storage", "trials_run", "best": [...], "paths": {...}}``.
    """
    from lensml.tuning import best_trials, create_study, make_storage, optimize, redact, write_study_report

    config, space, objectives, directions = prepare(config)
    tn = config.tune
    study_name = study_name or tn.study_name or config.name
    n_trials = n_trials if n_trials is not None else tn.n_trials
    root = tune_root(config, study_name)
    url = storage or tn.storage
    store = make_storage(
        url,
        default_path=root / "study.db",
        heartbeat_interval=tn.heartbeat_interval,
        grace_period=tn.grace_period,
        max_retry=tn.max_retry,
    )
    from lensml.tuning.storage import resolve_storage_url

    url_text = redact(resolve_storage_url(url, root / "study.db"))  # env: / file: URLs resolved, secrets hidden
    prune = len(objectives) == 1 and tn.pruner != "none" and objectives[0] not in STATIC_OBJECTIVES
    study = create_study(
        study_name,
        store,
        directions,
        sampler=tn.sampler,
        pruner=tn.pruner if prune else "none",
        seed=tn.seed,
        startup_trials=tn.startup_trials,
        warmup_steps=tn.warmup_epochs,
        max_resource=config.training.epochs,
    )
    print(
        f"[lensml] study {study_name!r}: {len(study.trials)} trials so far; storage {url_text}; "
        f"objectives {dict(zip(objectives, directions))}; dashboard: optuna-dashboard {url_text}",
        flush=True,
    )
    objective = make_objective(
        config,
        space,
        objectives,
        directions,
        root,
        prune=prune,
        data_factory=data_factory,
        model_factory=model_factory,
    )
    ran = optimize(study, objective, n_trials, timeout=timeout)
    out: dict[str, Any] = {
        "study_name": study_name,
        "storage": url_text,
        "objectives": objectives,
        "directions": directions,
        "trials_run": ran,
        "best": [],
        "paths": {"root": str(root)},
    }
    best = best_trials(study)
    out["best"] = [{"number": t.number, "values": t.values, "params": t.params, "seed": t.user_attrs.get("seed")} for t in best]
    if report:
        rep = write_study_report(study, root / "report", objectives)
        out["paths"].update(rep["paths"])
        for i, t in enumerate(best):
            note = (
                f"best trial {t.number} of study {study_name!r}: "
                + ", ".join(f"{o} = {v:.6g}" for o, v in zip(objectives, t.values))
            )
            if i == 0:
                p = export_config(config, t.params, root / "best_config.toml", name=f"{config.name}_tuned", note=note)
                out["paths"]["best_config"] = str(p)
            if len(objectives) > 1:
                p = export_config(
                    config, t.params, root / "pareto" / f"trial_{t.number:04d}.toml",
                    name=f"{config.name}_trial{t.number}", note=note,
                )
                out["paths"].setdefault("pareto_configs", []).append(str(p))
    return out
