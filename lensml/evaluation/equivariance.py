"""Equivariance error per layer under the dihedral group D4."""

from __future__ import annotations

import numpy as np
from keras import ops

from lensml.evaluation.intercept import layer_outputs, site_name
from lensml.evaluation.patching import default_patch_layers
from lensml.evaluation.transforms import D4_ELEMENTS, d4_transform, d4_transform_fields

ORDER = len(D4_ELEMENTS)


def spatial_action(features, element: int):
    """D4 on the spatial axes of (B, h, w, c) maps (scalar fields); identity on vectors (B, D),
    i.e. invariance is what is expected there."""
    return d4_transform(features, element) if len(features.shape) == 4 else features


def regular_action(features, element: int):
    """D4 on regular-representation fields (B, h, w, C * 8): spatial transform plus the
    permutation of each field's 8 group channels (``lensml.layers.d4`` layout)."""
    return d4_transform_fields(features, element)


def _element_rows(a, g: int, batch: int):
    """Rows of element ``g`` in a layer output of the stacked batch: ``8 batch`` rows, or ``k 8 batch``
    for a layer that stacks k tensors of the batch (LensPINN's image and source): (k batch, ...)."""
    k = a.shape[0] // (ORDER * batch)
    rows = ops.reshape(a, (k, ORDER, batch) + tuple(a.shape[1:]))[:, g]
    return ops.reshape(rows, (k * batch,) + tuple(a.shape[1:]))


def equivariance_error(model, images, layers=None, feature_transform="auto", input_transform=d4_transform) -> dict:
    """Relative equivariance error of each layer over the 8 elements of D4.

    error_L(g) = ||f_L(g x) - rho_L(g) f_L(x)|| / ||f_L(x)||, norms over the whole batch,
    where ``input_transform(x, g)`` acts on inputs and rho_L on layer L's output.

    Args:
        model: Keras model; images: (B, H, W, C) float32 with H == W.
        layers: layer names; default every top-level layer.
        feature_transform: ``"auto"`` tries the scalar-field action (``spatial_action``) and,
            for maps with a multiple of 8 channels, the regular-field action
            (``regular_action``), and keeps whichever fits better (reported as
            ``representation``); or a function ``(features, element, layer_name) -> features``.

    Returns:
        ``{layer_name: {"mean": mean over the 7 non-identity elements, "per_element": {name: error},
        "representation": "trivial" | "regular" | "invariant" | "custom"}}``.
    """
    images = ops.convert_to_tensor(np.asarray(images, dtype=np.float32))
    if len(images.shape) != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"`images` must be square (B, H, H, C) for D4, got shape {tuple(images.shape)}.")
    names = default_patch_layers(model) if layers is None else [site_name(model, layer) for layer in layers]
    # the 8 transformed batches as one batch of 8 B: one forward pass (one compilation on JAX)
    batch = images.shape[0]
    _, stacked = layer_outputs(model, ops.concatenate([input_transform(images, g) for g in range(ORDER)], axis=0), names)
    moved = [{name: _element_rows(a, g, batch) for name, a in stacked.items()} for g in range(ORDER)]
    reference = moved[0]
    results = {}
    for name in names:
        ref = reference[name]
        if feature_transform == "auto":
            if len(ref.shape) != 4:
                candidates = {"invariant": lambda f, g, _n: f}
            else:
                candidates = {"trivial": lambda f, g, _n: spatial_action(f, g)}
                if ref.shape[-1] % ORDER == 0:
                    candidates["regular"] = lambda f, g, _n: regular_action(f, g)
        elif callable(feature_transform):
            candidates = {"custom": feature_transform}
        else:
            raise TypeError(f"`feature_transform` must be 'auto' or a function, got {feature_transform!r}.")
        best = None
        for representation, action in candidates.items():
            per = {}
            for g, element_name in enumerate(D4_ELEMENTS):
                expected = ops.convert_to_numpy(action(ref, g, name))
                got = ops.convert_to_numpy(moved[g][name])
                if got.shape != expected.shape:
                    raise ValueError(f"layer {name!r}: transformed features have shape {got.shape}, expected {expected.shape}.")
                per[element_name] = float(np.linalg.norm(got - expected) / (np.linalg.norm(expected) or 1.0))
            mean = float(np.mean([e for k, e in per.items() if k != "e"]))
            if best is None or mean < best["mean"]:
                best = {"mean": mean, "per_element": per, "representation": representation}
        results[name] = best
    return results
