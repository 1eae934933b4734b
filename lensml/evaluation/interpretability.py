"""A per-layer interpretability summary for a classifier: D4 activation patching, linear
probes and equivariance error, as numbers and bar charts (used by ``evaluate_model``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lensml.evaluation import plots
from lensml.evaluation.equivariance import equivariance_error
from lensml.evaluation.patching import activation_patching, default_patch_layers
from lensml.evaluation.probes import d4_element_probe, probe_layers
from lensml.evaluation.transforms import D4_ELEMENTS, d4_orbit


def interpretability_summary(model, images, labels, out_dir, layers=None, max_folds: int = 5, seed: int = 0) -> dict:
    """Per-layer numbers for ``model`` on ``images`` (N, H, H, 1) with int ``labels`` (N,).

    - ``patching``: mean over the 7 non-identity D4 elements of the model-output change (L2)
      when the layer's activation comes from the transformed image.
    - ``probes``: cross-validated logistic-regression accuracy on the layer's (spatially
      averaged) features, with ``chance``; skipped when a class has fewer than 2 examples.
    - ``equivariance``: relative D4 equivariance error (spatial action on maps, invariance on vectors).
    - ``d4_probe``: the D4LensPINN paper's group-element probe (which of the 7 non-identity
      elements was applied, from the flattened features; chance 1/7), ``d4_probe_chance``.

    Writes ``patching.png``, ``probes.png`` and ``equivariance.png`` into ``out_dir``.

    Returns:
        ``{"layers", "patching": {layer: float}, "probes": {layer: float}, "probe_chance",
        "probe_folds", "equivariance": {layer: float}, "figures": {name: file}, "notes": [...]}``.
    """
    out = Path(out_dir)
    layers = default_patch_layers(model) if layers is None else list(layers)
    result: dict = {"layers": layers, "figures": {}, "notes": []}
    # the 7 non-identity elements as one batch of 7 N (the mean over its rows is the mean over elements)
    elements = range(1, len(D4_ELEMENTS))
    tiled = np.concatenate([images] * len(elements))
    moved = d4_orbit(images, elements)
    patched = activation_patching(model, tiled, lambda x: moved, layers)
    result["patching"] = {name: patched[name]["delta_l2"] for name in layers}
    result["figures"]["patching"] = plots.plot_layer_values(
        result["patching"], out / "patching.png", "mean output change (L2)", "activation patching, D4 elements", log_y=True).name
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    folds = int(min(max_folds, counts[counts > 0].min()))
    if folds >= 2 and np.count_nonzero(counts) >= 2:
        probes = probe_layers(model, images, labels, layers, folds=folds, seed=seed)
        result["probes"] = {name: p["accuracy_mean"] for name, p in probes.items()}
        result["probe_chance"] = next(iter(probes.values()))["chance"]
        result["probe_folds"] = folds
        stacked = [name for name in layers if name not in probes]
        if stacked:
            result["notes"].append(f"linear probes skipped at {stacked}: these layers run on a stacked batch "
                                   "(more rows than images), so no feature row belongs to one image.")
        result["figures"]["probes"] = plots.plot_layer_values(
            result["probes"], out / "probes.png", f"probe accuracy ({folds}-fold)", "linear probes", reference=result["probe_chance"]).name
    else:
        result["notes"].append(f"linear probes skipped: need >= 2 classes with >= 2 examples each, class counts {counts.tolist()}.")
    if images.shape[1] == images.shape[2]:
        eq = equivariance_error(model, images, layers)
        result["equivariance"] = {name: e["mean"] for name, e in eq.items()}
        result["figures"]["equivariance"] = plots.plot_layer_values(
            result["equivariance"], out / "equivariance.png", "relative error", "D4 equivariance error").name
        d4 = d4_element_probe(model, images, layers, folds=min(max_folds, len(images)), seed=seed)
        result["d4_probe"] = {name: p["accuracy_mean"] for name, p in d4.items()}
        result["d4_probe_chance"] = 1 / 7
        result["figures"]["d4_probe"] = plots.plot_layer_values(
            result["d4_probe"], out / "d4_probe.png", "probe accuracy (which D4 element)", "D4 group-element probe",
            reference=result["d4_probe_chance"]).name
    else:
        result["notes"].append("equivariance error and the D4 group-element probe skipped: images are not square.")
    return result
