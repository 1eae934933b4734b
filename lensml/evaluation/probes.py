"""Linear probes: how linearly decodable a property is from a layer's features."""

from __future__ import annotations

import numpy as np
from keras import ops

from lensml.evaluation._checks import as_float_array, as_label_array
from lensml.evaluation.intercept import layer_outputs, site_name


def extract_features(model, images, layers, batch_size: int = 64, pool: str = "mean") -> dict[str, np.ndarray]:
    """Features (N, D) of each layer in ``layers`` for ``images`` (N, H, W, C).

    ``pool`` reduces spatial maps (N, h, w, c): "mean" (global average, D = c) or "flatten"
    (D = h * w * c). Vectors (N, D) are returned as they are.
    """
    if pool not in ("mean", "flatten"):
        raise ValueError(f"`pool` must be 'mean' or 'flatten', got {pool!r}.")
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"`images` must be a non-empty (N, H, W, C) array, got shape {images.shape}.")
    names = [site_name(model, layer) for layer in layers]
    chunks: dict[str, list] = {name: [] for name in names}
    for start in range(0, images.shape[0], batch_size):
        _, acts = layer_outputs(model, images[start : start + batch_size], names)
        for name in names:
            a = ops.convert_to_numpy(acts[name])
            if a.ndim > 2:
                a = a.mean(axis=tuple(range(1, a.ndim - 1))) if pool == "mean" else a.reshape(a.shape[0], -1)
            chunks[name].append(a.reshape(a.shape[0], -1))
    return {name: np.concatenate(parts) for name, parts in chunks.items()}


def linear_probe(features, labels, folds: int = 5, C: float = 1.0, pca_components: int | None = None, seed: int = 0) -> dict:
    """Cross-validated logistic-regression probe (scikit-learn).

    Pipeline: standardise -> optional PCA(``pca_components``) -> LogisticRegression(C, lbfgs).
    Stratified K-fold with shuffling under ``seed``.

    Args:
        features: (N, D) float.
        labels: (N,) int class indices.

    Returns:
        ``{"accuracy_mean", "accuracy_std", "fold_accuracies", "chance", "folds", "num_features"}``;
        chance = frequency of the most common class.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = as_float_array(features, "features", 2)
    labels = as_label_array(labels, "labels")
    if len(features) != len(labels):
        raise ValueError(f"`features` has {len(features)} rows but `labels` has {len(labels)}; they must match.")
    counts = np.bincount(labels)
    if np.count_nonzero(counts) < 2:
        raise ValueError(f"`labels` hold a single class ({np.flatnonzero(counts)}); a probe needs at least two.")
    smallest = counts[counts > 0].min()
    if smallest < folds:
        raise ValueError(f"`folds`={folds} needs at least {folds} examples per class; the smallest class has {smallest}.")
    steps = [StandardScaler()]
    if pca_components is not None:
        steps.append(PCA(n_components=min(pca_components, *features.shape), random_state=seed))
    steps.append(LogisticRegression(C=C, max_iter=2000))
    scores = cross_val_score(make_pipeline(*steps), features, labels, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    return {
        "accuracy_mean": float(scores.mean()),
        "accuracy_std": float(scores.std()),
        "fold_accuracies": scores.tolist(),
        "chance": float(counts.max() / counts.sum()),
        "folds": int(folds),
        "num_features": int(features.shape[1]),
    }


def probe_layers(model, images, labels, layers, pool: str = "mean", **probe_options) -> dict:
    """``linear_probe`` on the features of each layer: ``{site: probe result}``.

    A layer that runs on a stacked batch (LensPINN's image and source through one shared
    decoder: 2N rows for N images) has no one feature row per image; it is left out of the
    result.
    """
    features = extract_features(model, images, layers, pool=pool)
    return {name: linear_probe(f, labels, **probe_options) for name, f in features.items() if len(f) == len(labels)}



def d4_element_probe(model, images, layers, folds: int = 5, C: float = 0.1, pca_components: int = 50,
                     seed: int = 0) -> dict:
    """The D4LensPINN paper's group-element probe: from a layer's features, can a linear model
    tell which of the 7 non-identity D4 elements was applied to the image?

    Every image is transformed by each of the 7 elements (rotations by 90, 180, 270 degrees and
    the four reflections); the probe (``linear_probe``: logistic regression with ``C``, PCA to
    ``pca_components``, ``folds``-fold) reads the flattened features. Chance is 1/7: an
    invariant layer stays there; an equivariant one carries the element in how its features move.

    Args:
        model: Keras model; images: (N, H, H, C) float32, square; layers: sites.

    Returns:
        ``{site: linear_probe result}`` (stacked-batch sites left out, as in ``probe_layers``).
    """
    from lensml.evaluation.transforms import d4_orbit
    from lensml.layers.d4 import ORDER

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"`images` must be square (N, H, H, C) for D4, got shape {images.shape}.")
    moved = d4_orbit(images, range(1, ORDER))
    elements = np.repeat(np.arange(ORDER - 1), len(images))
    features = extract_features(model, moved, layers, pool="flatten")
    # PCA fits inside each training fold: at most its rows - 1 components
    components = max(1, min(pca_components, len(moved) * (folds - 1) // folds - 1))
    return {name: linear_probe(f, elements, folds=folds, C=C, pca_components=components, seed=seed)
            for name, f in features.items() if len(f) == len(moved)}
