"""Several evaluation runs side by side in one Markdown table (``lensml compare``)."""

from __future__ import annotations

import json
from pathlib import Path

from lensml.evaluation.aggregation import aggregate_seeds, flatten_metrics
from lensml.evaluation.published import published_for

#: Columns shown per task, as flattened metrics.json keys -> header.
COLUMNS = {
    "classification": {"accuracy": "accuracy", "micro_f1": "micro F1", "macro_f1": "macro F1",
                       "macro_auc": "macro AUC", "ece": "ECE"},
    "regression": {"mae": "MAE (dex)", "rmse": "RMSE (dex)", "r2": "R^2"},
    "super_resolution": {"psnr": "PSNR (dB)", "ssim": "SSIM", "bicubic_psnr": "bicubic PSNR", "bicubic_ssim": "bicubic SSIM"},
}


def load_run(run_dir) -> dict:
    """The metrics.json record of an evaluation folder (or the path of a metrics.json file)."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / "metrics.json"
    if not path.is_file():
        raise FileNotFoundError(f"run {str(run_dir)!r} has no metrics.json (expected a folder written by `lensml evaluate`).")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(path)!r} is not valid JSON: {error}") from error
    if not isinstance(record, dict) or record.get("task") not in COLUMNS:
        raise ValueError(f"{str(path)!r} lacks a 'task' in {sorted(COLUMNS)}; expected a metrics.json written by evaluate_model.")
    record.setdefault("run", path.parent.name)
    return record


def compare_runs(run_dirs, aggregate: bool = True, digits: int = 4) -> str:
    """Markdown table with one row per run (or per group of seeds) and a "published" column.

    Args:
        run_dirs: evaluation folders (each with metrics.json).
        aggregate: merge runs with the same model, dataset, split and task into one row of
            mean +- std over seeds (sample std, ddof=1).

    Returns:
        The Markdown text: one table per task present.
    """
    runs = [load_run(d) for d in run_dirs]
    if not runs:
        raise ValueError("`run_dirs` is empty; give at least one evaluation folder.")
    sections = []
    for task in [t for t in COLUMNS if any(r["task"] == t for r in runs)]:
        task_runs = [r for r in runs if r["task"] == task]
        groups: dict[tuple, list[dict]] = {}
        for run in task_runs:
            key = (run.get("model_name"), run.get("dataset"), run.get("split")) if aggregate else (id(run),)
            groups.setdefault(key, []).append(run)
        columns = COLUMNS[task]
        header = ["run", "model", "dataset", "split", "seeds", *columns.values(), "published"]
        lines = [f"## {task.replace('_', ' ')}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for members in groups.values():
            first = members[0]
            stats = aggregate_seeds(members)
            cells = [", ".join(m["run"] for m in members), str(first.get("model_name")), str(first.get("dataset")),
                     str(first.get("split")), str(len(members))]
            for key in columns:
                if key not in stats:
                    cells.append("n/a")
                elif len(members) > 1:
                    cells.append(f"{stats[key]['mean']:.{digits}f} +- {stats[key]['std']:.{digits}f}")
                else:
                    cells.append(f"{stats[key]['mean']:.{digits}f}")
            cells.append(_published_cell(first))
            lines.append("| " + " | ".join(cells) + " |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


def _published_cell(run: dict) -> str:
    matches = published_for(run.get("model_name"), run.get("dataset"))
    ours = flatten_metrics(run)
    parts = []
    for p in matches:
        marker = "" if p.metric in ours else " (not in this run)"
        note = f", {p.note}" if p.note else ""
        parts.append(f"{p.metric} {p.value:g} [{p.source}{note}]{marker}")
    return "; ".join(parts) if parts else ""
