"""Activation patching: how much each layer's activation carries the effect of an input change."""

from __future__ import annotations

import numpy as np
from keras import ops

from lensml.evaluation.intercept import call_with_replacement, iter_layers, layer_outputs, layer_sites, site_name


def default_patch_layers(model) -> list[str]:
    """The sites of ``model``'s top-level layers (no InputLayer): each layer's name, or
    ``name/k`` for each output of a layer with several (the Poisson solver's kappa and alpha)."""
    return [site for layer in model.layers if type(layer).__name__ != "InputLayer" for site in layer_sites(layer)]


def activation_patching(model, images, transform, layers=None) -> dict:
    """Patch one layer at a time with its activation on ``transform(images)``.

    For each layer L the model is run on the clean ``images`` with L's output replaced by L's
    output on the transformed images; the change of the model output is measured as the L2 norm
    over classes, averaged over images. A layer whose patched output changes little carries
    little of the transform's effect (or the model is invariant there). In a plain chain of
    layers every patch reproduces the full effect; patching tells layers apart where paths
    merge (skip connections, or physics models whose head also sees the raw image).

    Args:
        model: Keras model mapping (B, H, W, C) images to outputs (B, K) (logits or probabilities).
        images: (B, H, W, C) float32.
        transform: function of a (B, H, W, C) tensor returning the transformed batch (same shape).
        layers: sites to patch (layer names, or ``name/k`` for output k of a multi-output
            layer); default every top-level layer's.

    Returns:
        ``{layer_name: {"delta_l2": mean over images, "delta_l2_std": std}}`` plus
        ``"_full_input"`` for running the model on the transformed input end to end.
    """
    images = ops.convert_to_tensor(np.asarray(images, dtype=np.float32))
    transformed = transform(images)
    if tuple(transformed.shape) != tuple(images.shape):
        raise ValueError(f"`transform` changed the shape {tuple(images.shape)} -> {tuple(transformed.shape)}; it must keep it.")
    names = default_patch_layers(model) if layers is None else [site_name(model, name) for name in layers]
    clean = ops.convert_to_numpy(model(images, training=False))
    _, patched_acts = layer_outputs(model, transformed, names)
    results = {}
    for name in names:
        patched = ops.convert_to_numpy(call_with_replacement(model, images, name, patched_acts[name]))
        delta = np.linalg.norm((patched - clean).reshape(len(clean), -1), axis=1)
        results[name] = {"delta_l2": float(delta.mean()), "delta_l2_std": float(delta.std())}
    full = ops.convert_to_numpy(model(transformed, training=False))
    delta = np.linalg.norm((full - clean).reshape(len(clean), -1), axis=1)
    results["_full_input"] = {"delta_l2": float(delta.mean()), "delta_l2_std": float(delta.std())}
    return results


__all__ = ["activation_patching", "default_patch_layers", "iter_layers"]
