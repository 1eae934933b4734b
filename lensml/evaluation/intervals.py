"""Uncertainty of a benchmark row and of the ordering of two rows: bootstrap over seeds and
test lenses.

A row is a list of runs (seeds), each with its test predictions on the *same* test lenses
(``predictions.npz`` of ``lensml.evaluation.evaluate_model``: ``labels`` (N,), ``probs``
(N, C)). One bootstrap replicate draws the seeds with replacement and the lenses with
replacement (one draw of lenses shared by every seed and, for a pair, by both rows: the rows
are tested on the same lenses, so the comparison is paired) and averages the metric over the
drawn seeds. The 95 % interval is the 2.5-97.5 percentile of the replicates.

    >>> low, high = bootstrap_interval(runs, "macro_auc")
    >>> d = paired_difference(runs_a, runs_b, "accuracy")      # a - b, with its interval
    >>> verdict(d, paper_says_a_better=True)                    # "confirms" / "contradicts" / "unresolved"
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

METRICS = ("accuracy", "macro_auc")


def load_predictions(path) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N,) int, probabilities (N, C) float) from a ``predictions.npz``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"predictions: {path} does not exist (evaluate_model writes it for classification)")
    with np.load(path) as data:
        return np.asarray(data["labels"]).astype(int), np.asarray(data["probs"], dtype=np.float64)


def _metric(name: str, labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``name`` for R resamples at once: labels (R, N), probs (R, N, C) -> (R,).

    macro AUC is the mean over classes of the one-vs-rest Mann-Whitney statistic with average
    ranks for ties (= sklearn's roc_auc_score), so resamples with repeated lenses are exact."""
    if name == "accuracy":
        return (probs.argmax(axis=-1) == labels).mean(axis=-1)
    if name != "macro_auc":
        raise ValueError(f"metric: expected one of {METRICS}, got {name!r}")
    from scipy.stats import rankdata

    aucs = []
    for c in range(probs.shape[-1]):
        positive = labels == c
        n_pos = positive.sum(axis=-1)
        n_neg = labels.shape[-1] - n_pos
        ranks = rankdata(probs[..., c], axis=-1)
        u = (ranks * positive).sum(axis=-1) - n_pos * (n_pos + 1) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            aucs.append(u / (n_pos * n_neg))
    return np.nanmean(np.stack(aucs), axis=0)


def _check_runs(runs, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Stack a row's runs: labels (S, N) (the same lenses in every run), probs (S, N, C)."""
    if not runs:
        raise ValueError(f"{name}: expected at least one run's (labels, probs)")
    labels = np.stack([np.asarray(l).astype(int) for l, _ in runs])
    probs = np.stack([np.asarray(p, dtype=np.float64) for _, p in runs])
    if probs.ndim != 3 or probs.shape[:2] != labels.shape:
        raise ValueError(f"{name}: expected runs of labels (N,) and probs (N, C) of one N, got {labels.shape} and {probs.shape}")
    if not (labels == labels[:1]).all():
        raise ValueError(f"{name}: the runs were tested on different lenses (their labels differ); "
                         "a bootstrap over lenses needs one test set")
    return labels, probs


def _replicates(runs, metric: str, draws, seed_draws) -> np.ndarray:
    labels, probs = _check_runs(runs, "runs")
    out = np.empty(len(draws))
    for i, (lenses, seeds) in enumerate(zip(draws, seed_draws)):
        out[i] = _metric(metric, labels[seeds][:, lenses], probs[seeds][:, lenses]).mean()
    return out


def _draws(n_lenses: int, n_seeds: tuple[int, ...], n: int, seed: int):
    rng = np.random.default_rng(seed)
    lenses = rng.integers(0, n_lenses, size=(n, n_lenses))
    seeds = [rng.integers(0, s, size=(n, s)) for s in n_seeds]
    return lenses, seeds


def point_estimate(runs, metric: str) -> float:
    """The metric averaged over the runs (no resampling)."""
    labels, probs = _check_runs(runs, "runs")
    return float(_metric(metric, labels, probs).mean())


def bootstrap_interval(runs, metric: str, *, n: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """``level`` interval of a row's ``metric`` (mean over seeds) by resampling seeds and lenses.

    Args:
      runs: [(labels (N,), probs (N, C))] per seed, on the same test lenses.
      metric: "accuracy" or "macro_auc".
      n: bootstrap replicates; seed: their random generator's seed (same seed, same interval).
    """
    labels, _ = _check_runs(runs, "runs")
    lenses, (seeds,) = _draws(labels.shape[1], (len(runs),), n, seed)
    values = _replicates(runs, metric, lenses, seeds)
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def paired_difference(runs_a, runs_b, metric: str, *, n: int = 2000, level: float = 0.95, seed: int = 0,
                      same_models: bool = False) -> dict:
    """Row a minus row b in ``metric``, paired over the test lenses they share.

    ``same_models``: run ``i`` of a and of b test the same trained model (a row that tests
    another row's models again, e.g. with D4 test-time augmentation), so seeds are paired too:
    drawn once per replicate for both rows. Otherwise each row's seeds are drawn on their own
    (independent trainings).

    Returns ``{"difference", "low", "high", "level", "paired_seeds"}``: the point difference of
    the seed means and its bootstrap interval (lenses drawn once per replicate for both rows)."""
    la, _ = _check_runs(runs_a, "runs_a")
    lb, _ = _check_runs(runs_b, "runs_b")
    if la.shape[1] != lb.shape[1] or not (la[0] == lb[0]).all():
        raise ValueError("runs_a, runs_b: the two rows were tested on different lenses; a paired comparison needs one test set")
    if same_models and len(runs_a) != len(runs_b):
        raise ValueError(f"same_models=True: expected one run of each row per model, got {len(runs_a)} and {len(runs_b)}")
    lenses, (seeds_a, seeds_b) = _draws(la.shape[1], (len(runs_a), len(runs_b)), n, seed)
    if same_models:
        seeds_b = seeds_a
    diff = _replicates(runs_a, metric, lenses, seeds_a) - _replicates(runs_b, metric, lenses, seeds_b)
    tail = (1 - level) / 2 * 100
    return {"difference": point_estimate(runs_a, metric) - point_estimate(runs_b, metric),
            "low": float(np.percentile(diff, tail)), "high": float(np.percentile(diff, 100 - tail)), "level": level,
            "paired_seeds": bool(same_models)}


def verdict(difference: dict, paper_says_a_better: bool) -> str:
    """What lensml says of a paper's ordering "a better than b" (or "b better than a"):
    "confirms" (the interval of a - b excludes 0 on the paper's side), "contradicts" (on the
    other side), else "unresolved"."""
    low, high = difference["low"], difference["high"]
    if low > 0:
        return "confirms" if paper_says_a_better else "contradicts"
    if high < 0:
        return "contradicts" if paper_says_a_better else "confirms"
    return "unresolved"
