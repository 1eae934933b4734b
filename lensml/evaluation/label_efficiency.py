"""Label-efficiency protocol: train on 1%, 10%, 100% of the labels, stratified, fixed seeds.

The experiment runner (``lensml.experiments.run``) calls :func:`label_efficiency_plan` to get
the training subsets, trains and evaluates one model per entry, and hands the records to
:func:`write_protocol_report`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lensml._io import write_json_atomic, write_text_atomic

from lensml.evaluation._checks import as_label_array
from lensml.evaluation.aggregation import group_and_aggregate
from lensml.evaluation.plots import plot_curves

LABEL_FRACTIONS = (0.01, 0.1, 1.0)
DEFAULT_SEEDS = (0, 1, 2)


def stratified_subset(labels, fraction: float, seed: int | None, min_per_class: int = 1) -> np.ndarray:
    """Indices of a class-stratified subset holding ``fraction`` of each class.

    Each class keeps ceil(fraction * n_class) examples (at least ``min_per_class``), drawn by a
    seeded permutation; ``seed=None`` keeps the first ones in stored order, the rule of
    ``lensml.data.pipeline(..., fraction=...)``. For one seed the subsets are nested: the 1%
    subset lies inside the 10% subset, which lies inside the full set, so a curve measures
    labels, not the luck of the draw.

    Args:
        labels: (N,) int class indices of the training split.
        fraction: in (0, 1].
        seed: numpy Generator seed, or None for stored order.

    Returns:
        (n,) int64 sorted indices into ``labels``.
    """
    labels = as_label_array(labels, "labels")
    if not 0 < float(fraction) <= 1:
        raise ValueError(f"`fraction` must be in (0, 1], got {fraction!r}.")
    rng = np.random.default_rng(seed) if seed is not None else None
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        order = members if seed is None else members[rng.permutation(members.size)]
        keep = min(members.size, max(min_per_class, int(np.ceil(fraction * members.size - 1e-9))))
        chosen.append(order[:keep])
    return np.sort(np.concatenate(chosen))


def label_efficiency_plan(labels, fractions=LABEL_FRACTIONS, seeds=DEFAULT_SEEDS) -> list[dict]:
    """One entry per (fraction, seed): ``{"fraction", "seed", "indices", "num_labels"}``."""
    plan = []
    for seed in seeds:
        for fraction in fractions:
            indices = stratified_subset(labels, fraction, seed)
            plan.append({"fraction": float(fraction), "seed": int(seed), "indices": indices, "num_labels": int(indices.size)})
    return plan


def write_protocol_report(results: list[dict], out_dir, x: str = "fraction", series: str = "model",
                          metric: str = "accuracy", title: str = "label efficiency") -> dict:
    """Aggregate a protocol's results over seeds and write ``summary.json``, ``summary.md`` and a plot.

    Args:
        results: records ``{series: str, x: float, "seed": int, "metrics": metrics dict}``,
            e.g. ``{"model": "resnet18", "fraction": 0.1, "seed": 0, "metrics": {...}}``.
        x: the record key on the x axis (label fraction); series: one curve per value.
        metric: flattened metric key to plot (``accuracy``, ``macro_auc``, ``mae`` ...).

    Returns:
        ``{series_value: {x_value: {"mean", "std", "n"}}}`` for ``metric``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grouped = group_and_aggregate(results, by=(series, x))
    summary: dict = {}
    for (name, xval), stats in grouped.items():
        if metric not in stats:
            raise ValueError(f"`metric`={metric!r} is not in the results; available: {sorted(stats)}.")
        summary.setdefault(str(name), {})[float(xval)] = {k: stats[metric][k] for k in ("mean", "std", "n")}
    xs = sorted({xv for curve in summary.values() for xv in curve})
    curves = {name: ([curve.get(xv, {}).get("mean", np.nan) for xv in xs], [curve.get(xv, {}).get("std", np.nan) for xv in xs])
              for name, curve in summary.items()}
    plot_name = f"{title.replace(' ', '_')}.png"
    plot_curves(xs, curves, out / plot_name, xlabel=x, ylabel=metric, title=title, log_x=x == "fraction")
    header = f"| {series} | " + " | ".join(f"{x}={xv:g}" for xv in xs) + " |"
    lines = [f"# {title}", "", f"{metric}, mean +- std over seeds (sample std).", "", header, "|---" * (len(xs) + 1) + "|"]
    for name, curve in summary.items():
        cells = [f"{curve[xv]['mean']:.4f} +- {curve[xv]['std']:.4f} (n={curve[xv]['n']})" if xv in curve else "n/a" for xv in xs]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"![{title}]({plot_name})", ""]
    write_text_atomic(out / "summary.md", "\n".join(lines))
    write_json_atomic(out / "summary.json", {"metric": metric, "x": x, "series": series,
                                             "summary": {k: {str(xv): s for xv, s in v.items()} for k, v in summary.items()}})
    return summary
