"""Study reports: summary (JSON + Markdown), parameter importances and plots (PNG)."""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

from lensml._io import atomic_target, write_text_atomic


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def best_trials(study) -> list:
    """The best trial (single objective) or the Pareto front (multi-objective), best first
    by the first objective."""
    import optuna

    if not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        return []
    if len(study.directions) == 1:
        return [study.best_trial]
    sign = 1 if study.directions[0] == optuna.study.StudyDirection.MINIMIZE else -1
    return sorted(study.best_trials, key=lambda t: sign * t.values[0])


def _trial_row(t) -> dict[str, Any]:
    return {
        "number": t.number,
        "state": t.state.name,
        "values": t.values,
        "params": t.params,
        "user_attrs": t.user_attrs,
        "duration_s": t.duration.total_seconds() if t.duration else None,
    }


def _save_fig(ax_or_axes, path: Path) -> None:
    import matplotlib.pyplot as plt

    ax = ax_or_axes
    while hasattr(ax, "__len__") and not hasattr(ax, "figure"):
        ax = ax.flat[0] if hasattr(ax, "flat") else ax[0]
    fig = ax.figure
    fig.tight_layout()
    with atomic_target(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def write_study_report(study, out_dir: str | os.PathLike, objective_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Write ``summary.json``, ``summary.md``, ``history*.png``, ``importances*.png``
    (and ``pareto.png`` for two or three objectives, ``intermediate.png`` when trials
    reported per-epoch values) into ``out_dir``. Returns ``{"summary": ..., "paths": ...}``.

    Parameter importances (fANOVA) need at least two complete trials whose parameters vary;
    when they cannot be computed the summary says why instead.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import optuna
    import optuna.visualization.matplotlib as ovm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(objective_names or [f"objective_{i}" for i in range(len(study.directions))])
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    best = best_trials(study)
    paths: dict[str, str] = {}
    importances: dict[str, Any] = {}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for i, name in enumerate(names):
            target = None if len(names) == 1 else (lambda t, i=i: t.values[i])
            suffix = "" if len(names) == 1 else f"_{name}"
            if complete:
                p = out / f"history{suffix}.png"
                _save_fig(ovm.plot_optimization_history(study, target=target, target_name=name), p)
                paths[f"history{suffix}"] = str(p)
            try:
                imp = optuna.importance.get_param_importances(study, target=target)
                importances[name] = imp
                p = out / f"importances{suffix}.png"
                _save_fig(ovm.plot_param_importances(study, target=target, target_name=name), p)
                paths[f"importances{suffix}"] = str(p)
            except (ValueError, RuntimeError, ZeroDivisionError) as e:
                importances[name] = f"not available: {e}"
        if len(names) in (2, 3) and complete:
            p = out / "pareto.png"
            _save_fig(ovm.plot_pareto_front(study, target_names=names), p)
            paths["pareto"] = str(p)
        if len(names) == 1 and any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
            p = out / "intermediate.png"
            _save_fig(ovm.plot_intermediate_values(study), p)
            paths["intermediate"] = str(p)

    summary = {
        "study_name": study.study_name,
        "directions": [d.name.lower() for d in study.directions],
        "objectives": names,
        "trial_counts": counts,
        "best_trials": [_trial_row(t) for t in best],
        "importances": importances,
        "trials": [_trial_row(t) for t in study.get_trials(deepcopy=False)],
    }
    p = out / "summary.json"
    write_text_atomic(p, json.dumps(_clean(summary), indent=2, default=str) + "\n")
    paths["summary_json"] = str(p)

    lines = [f"# Study `{study.study_name}`", ""]
    lines.append("Objectives: " + ", ".join(f"{n} ({d})" for n, d in zip(names, summary["directions"])))
    lines.append("Trials: " + ", ".join(f"{k.lower()} {v}" for k, v in sorted(counts.items())))
    lines.append("")
    if best:
        lines.append("## Best trial" + ("s (Pareto front)" if len(names) > 1 else ""))
        lines.append("")
        for t in best:
            vals = ", ".join(f"{n} = {v:.6g}" for n, v in zip(names, t.values))
            lines.append(f"- trial {t.number}: {vals}; seed {t.user_attrs.get('seed')}; params {t.params}")
        lines.append("")
    lines.append("## Parameter importances")
    lines.append("")
    for name, imp in importances.items():
        if isinstance(imp, dict):
            lines.append(f"- {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in imp.items()))
        else:
            lines.append(f"- {name}: {imp}")
    lines.append("")
    lines.append("## All trials")
    lines.append("")
    lines.append("| trial | state | " + " | ".join(names) + " | seed | params |")
    lines.append("|---|---|" + "---|" * len(names) + "---|---|")
    for t in study.get_trials(deepcopy=False):
        vals = t.values or [None] * len(names)
        cells = " | ".join("" if v is None else f"{v:.6g}" for v in vals)
        lines.append(f"| {t.number} | {t.state.name.lower()} | {cells} | {t.user_attrs.get('seed', '')} | {t.params} |")
    lines.append("")
    for key, pth in paths.items():
        if pth.endswith(".png"):
            lines.append(f"![{key}]({Path(pth).name})")
    p = out / "summary.md"
    write_text_atomic(p, "\n".join(lines) + "\n")
    paths["summary_md"] = str(p)
    return {"summary": summary, "paths": paths}
