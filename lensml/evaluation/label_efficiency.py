"""The reports of the many-run protocols: label efficiency (1 %, 10 %, 100 % of the labels) and
cross-instrument transfer, aggregated over seeds.

The protocols themselves are library functions of ``lensml.protocols`` (``run_label_efficiency``,
``run_cross_instrument``, ``run_ssl_label_efficiency``); they train on
``lensml.data.stratified_subset`` (re-exported here) and hand their records to
:func:`write_protocol_report`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lensml._io import write_json_atomic, write_text_atomic

from lensml.data.subset import stratified_subset
from lensml.evaluation.aggregation import group_and_aggregate
from lensml.evaluation.plots import plot_curves

LABEL_FRACTIONS = (0.01, 0.1, 1.0)
DEFAULT_SEEDS = (0, 1, 2)


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
