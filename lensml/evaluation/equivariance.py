"""Equivariance error per layer under the dihedral group D4."""

from __future__ import annotations

import numpy as np
from keras import ops

from lensml.evaluation.intercept import find_layer, layer_outputs
from lensml.evaluation.patching import default_patch_layers
from lensml.evaluation.transforms import D4_ELEMENTS, d4_transform


def spatial_feature_transform(features, element: int, layer_name: str):
    """Default action on features: D4 on the spatial axes of (B, h, w, c) maps, identity on
    vectors (B, D) (i.e. invariance is expected there). D4 models with regular-representation
    channels need their own transform that also permutes the group axis."""
    del layer_name
    if len(features.shape) == 4:
        return d4_transform(features, element)
    return features


def equivariance_error(model, images, layers=None, feature_transform=spatial_feature_transform, input_transform=d4_transform) -> dict:
    """Relative equivariance error of each layer over the 8 elements of D4.

    error_L(g) = ||f_L(g x) - rho_L(g) f_L(x)|| / ||f_L(x)||, with norms over the whole batch,
    where ``input_transform(x, g)`` is the action on inputs and ``feature_transform(f, g, name)``
    the action rho_L on layer L's output.

    Args:
        model: Keras model; images: (B, H, W, C) float32 with H == W.
        layers: layer names; default every top-level layer.

    Returns:
        ``{layer_name: {"mean": mean over the 7 non-identity elements, "per_element": {name: error}}}``.
    """
    images = ops.convert_to_tensor(np.asarray(images, dtype=np.float32))
    if len(images.shape) != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"`images` must be square (B, H, H, C) for D4, got shape {tuple(images.shape)}.")
    names = default_patch_layers(model) if layers is None else [find_layer(model, layer).name for layer in layers]
    _, reference = layer_outputs(model, images, names)
    errors = {name: {} for name in names}
    for element, element_name in enumerate(D4_ELEMENTS):
        _, moved = layer_outputs(model, input_transform(images, element), names)
        for name in names:
            expected = ops.convert_to_numpy(feature_transform(reference[name], element, name))
            got = ops.convert_to_numpy(moved[name])
            if got.shape != expected.shape:
                raise ValueError(f"layer {name!r}: transformed features have shape {got.shape}, expected {expected.shape}.")
            scale = np.linalg.norm(expected) or 1.0
            errors[name][element_name] = float(np.linalg.norm(got - expected) / scale)
    return {
        name: {"mean": float(np.mean([e for k, e in per.items() if k != "e"])), "per_element": per}
        for name, per in errors.items()
    }
