"""Mean +- standard deviation of metrics over seeds."""

from __future__ import annotations

import math

import numpy as np


def mean_std(values) -> tuple[float, float, int] | None:
    """(mean, sample standard deviation (ddof=1; 0 for one value), count) of the numbers in
    ``values`` (bools and non-numbers skipped), or None when there are none: the one seed
    aggregation of lensml (runs, protocols, tables)."""
    import statistics

    values = [float(v) for v in values if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)]
    if not values:
        return None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0), len(values)


def aggregate_seeds(runs: list[dict]) -> dict:
    """Aggregate metric dicts from several seeds.

    Every numeric leaf (nested dicts are flattened with ``/``, e.g. ``auc_per_class/axion``)
    present in all runs gets ``{"mean", "std", "n", "values"}``; ``std`` is the sample standard
    deviation (ddof=1; 0 for a single seed). Non-numeric and ``None`` leaves are skipped.
    """
    if not isinstance(runs, (list, tuple)) or not runs:
        raise ValueError(f"`runs` must be a non-empty list of metric dicts, got {runs!r}.")
    flat = [flatten_metrics(r) for r in runs]
    keys = [k for k in flat[0] if all(k in f for f in flat)]
    out = {}
    for key in keys:
        values = [f[key] for f in flat]
        mean, std, n = mean_std(values)
        out[key] = {"mean": mean, "std": std, "n": n, "values": values}
    return out


def flatten_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested dict as ``{"a/b": value}`` (bools, None, lists skipped)."""
    if not isinstance(metrics, dict):
        raise TypeError(f"`metrics` must be a dict, got {type(metrics).__name__}.")
    out = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_metrics(value, name + "/"))
        elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            if math.isfinite(float(value)):
                out[name] = float(value)
    return out


def format_mean_std(mean: float, std: float | None = None, digits: int = 4) -> str:
    """``"0.9786 +- 0.0012"`` (or just the mean when ``std`` is None)."""
    if std is None:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} +- {std:.{digits}f}"


def group_and_aggregate(results: list[dict], by: tuple[str, ...]) -> dict[tuple, dict]:
    """Group result records by the values of ``by`` and aggregate each group's seeds.

    Args:
        results: records like ``{"model": "resnet18", "fraction": 0.1, "seed": 0, "metrics": {...}}``.
        by: record keys that define a group (everything else, e.g. the seed, is averaged over).

    Returns:
        ``{group_values_tuple: aggregate_seeds(group metrics)}`` in first-seen order.
    """
    if not results:
        raise ValueError("`results` is empty; expected at least one result record.")
    groups: dict[tuple, list[dict]] = {}
    for record in results:
        missing = [k for k in (*by, "metrics") if k not in record]
        if missing:
            raise ValueError(f"result record {record!r} lacks keys {missing}; expected {list(by)} and 'metrics'.")
        groups.setdefault(tuple(record[k] for k in by), []).append(record["metrics"])
    return {key: aggregate_seeds(members) for key, members in groups.items()}
