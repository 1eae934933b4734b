"""Does a physics-informed model's physics branch do anything? The distribution of its
physical intermediate on test lenses, beside the truth where the simulator knows it.

- LensPINN: the predicted Einstein radius ``einstein_radius`` (arcsec, bounded by an affine
  sigmoid): its spread, the fraction of lenses at either bound, and its correlation with the
  true Einstein radius. A branch at its lower bound for every lens undoes no lensing
  (the "source" is the image itself) and the classifier ignores the physics.
- Lensformer and Lens-JEPA: the per-pixel SIS scale ``k_map`` (bounded to [k_min, k_max]):
  its range within an image and across images, the fraction of pixels at a bound.
- D4LensPINN: the convergence ``kappa``: its mean, and its pixel correlation with the true
  convergence when given.

    >>> summary = physics_branch_summary(model, images, theta_E=true_theta_E)
    >>> summary["einstein_radius"]["at_lower_bound"], summary["einstein_radius"]["pearson_r"]
"""

from __future__ import annotations

import numpy as np

#: Intermediate layers read, by the models that have them.
BRANCH_LAYERS = ("einstein_radius", "k_map", "kappa")


def branch_layers(model) -> list[str]:
    """The physics intermediates ``model`` has (names from ``BRANCH_LAYERS``)."""
    from lensml.layers.walk import iter_layers

    names = {layer.name for layer in iter_layers(model)}
    return [name for name in BRANCH_LAYERS if name in names]


def _bounds(model, name: str) -> tuple[float, float] | None:
    """(low, high) of a bounded intermediate: an ``Affine`` after a sigmoid maps (0, 1) to
    (offset, offset + scale)."""
    from lensml.evaluation.intercept import find_layer

    layer = find_layer(model, name)
    if hasattr(layer, "scale") and hasattr(layer, "offset"):
        return float(layer.offset), float(layer.offset + layer.scale)
    return None


def _pearson(a, b) -> float | None:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return None  # a constant has no correlation (a collapsed branch)
    return float(np.corrcoef(a, b)[0, 1])


def physics_branch_summary(model, images, *, theta_E=None, convergence=None, batch_size: int = 64,
                           bound_tolerance: float = 0.01) -> dict:
    """Statistics of each physics intermediate of ``model`` on ``images``.

    Args:
      model: a Keras model with one or more of ``BRANCH_LAYERS`` (raw images in, as saved).
      images: (N, H, W, 1) test images, as the model takes them.
      theta_E: (N,) true Einstein radii in arcsec (LensPINN's branch is compared to them).
      convergence: (N, H, W, 1) true convergence maps (D4LensPINN's branch is compared to them).
      bound_tolerance: a value within this fraction of the range from a bound counts as at it.

    Returns:
      ``{layer name: {statistic: value}}``; {} for a model without a physics branch.
    """
    from keras import ops

    from lensml.evaluation.intercept import layer_outputs

    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"images: expected (N, H, W, 1), got shape {images.shape}")
    names = branch_layers(model)
    if not names:
        return {}
    outputs = {name: [] for name in names}
    for start in range(0, len(images), batch_size):
        _, out = layer_outputs(model, images[start:start + batch_size], names)
        for name in names:
            outputs[name].append(ops.convert_to_numpy(out[name]))
    summary = {}
    for name in names:
        values = np.concatenate(outputs[name]).astype(np.float64)
        stats = {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
                 "max": float(values.max())}
        bounds = _bounds(model, name)
        if bounds:
            low, high = bounds
            margin = bound_tolerance * (high - low)
            stats.update(low_bound=low, high_bound=high, at_lower_bound=float((values <= low + margin).mean()),
                         at_upper_bound=float((values >= high - margin).mean()))
        if values.ndim == 4:  # maps: how much a map varies inside one image, and across images
            per_image = values.reshape(len(values), -1)
            stats["within_image_range"] = float((per_image.max(1) - per_image.min(1)).mean())
            stats["across_image_std"] = float(per_image.mean(1).std())
        if name == "einstein_radius" and theta_E is not None:
            truth = np.asarray(theta_E, np.float64).reshape(-1)
            pred = values.reshape(-1)
            if truth.shape != pred.shape:
                raise ValueError(f"theta_E: expected {pred.shape[0]} values, one per image, got {truth.shape}")
            stats.update(true_mean=float(truth.mean()), pearson_r=_pearson(pred, truth),
                         median_abs_error=float(np.median(np.abs(pred - truth))))
        if name == "kappa" and convergence is not None:
            truth = np.asarray(convergence, np.float64)
            if truth.shape != values.shape:
                raise ValueError(f"convergence: expected shape {values.shape}, got {truth.shape}")
            stats.update(true_mean=float(truth.mean()), pearson_r=_pearson(values, truth))
        summary[name] = stats
    return summary
