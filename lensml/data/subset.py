"""The stratified label subset of the label-efficiency protocol (docs/guide/evaluation.md), written once.

``stratified_subset(labels, fraction, seed)`` picks the indices; every consumer applies those
indices: ``lensml.data.pipeline(..., fraction=f)`` (``take_stratified`` on the stored split),
the runner's in-memory ``synthetic:`` data, the evaluation report's interpretability sample
and the benchmarks. The number of classes is whatever the labels hold (a family's classes).
"""

from __future__ import annotations

import numpy as np


def stratified_subset(labels, fraction: float, seed: int | None = None, min_per_class: int = 1) -> np.ndarray:
    """Indices of a class-stratified subset holding ``fraction`` of each class.

    Each class keeps ceil(fraction * n_class) examples (at least ``min_per_class``): the first
    ones in stored order for ``seed=None`` (what ``pipeline(..., fraction=...)`` trains on),
    else those first in a seeded permutation. For one seed the subsets are nested: the 1 %
    subset lies inside the 10 % subset, which lies inside the full set, so a curve measures
    labels, not the luck of the draw.

    Args:
        labels: (N,) int class indices (any number of classes).
        fraction: in (0, 1].
        seed: numpy Generator seed, or None for stored order.
        min_per_class: the least examples a class keeps (>= 1).

    Returns:
        (n,) int64 sorted indices into ``labels``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0 or not np.all(np.mod(labels, 1) == 0):
        raise ValueError(f"labels: expected a non-empty (N,) array of int class indices, got shape {labels.shape}")
    if isinstance(fraction, bool) or not 0 < float(fraction) <= 1:
        raise ValueError(f"`fraction` must be in (0, 1], got {fraction!r}.")
    if int(min_per_class) < 1:
        raise ValueError(f"min_per_class: expected >= 1, got {min_per_class!r}")
    labels = labels.astype(np.int64)
    rng = np.random.default_rng(seed) if seed is not None else None
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        order = members if rng is None else members[rng.permutation(members.size)]
        keep = min(members.size, max(int(min_per_class), int(np.ceil(float(fraction) * members.size - 1e-9))))
        chosen.append(order[:keep])
    return np.sort(np.concatenate(chosen))


def take_stratified(ds, labels, fraction: float):
    """The ``stratified_subset(labels, fraction)`` examples of ``ds`` (a tf.data.Dataset of
    feature dicts with a "label" entry, in the stored order ``labels`` was read in), served
    class by class (all kept examples of class 0 in stored order, then class 1, ...)."""
    import tensorflow as tf

    labels = np.asarray(labels, dtype=np.int64)
    keep = np.zeros(labels.size, dtype=bool)
    keep[stratified_subset(labels, fraction)] = True
    keep = tf.constant(keep)
    indexed = ds.enumerate()
    parts = [indexed.filter(lambda i, ex, c=int(c): tf.logical_and(keep[i], tf.equal(ex["label"], c)))
             for c in np.unique(labels)]
    out = parts[0]
    for part in parts[1:]:
        out = out.concatenate(part)
    return out.map(lambda i, ex: ex)
