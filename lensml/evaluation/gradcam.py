"""Grad-CAM (Selvaraju et al. 2017) for any Keras model with a convolution layer."""

from __future__ import annotations

import numpy as np
from keras import ops

from lensml.evaluation.gradients import gradient
from lensml.evaluation.intercept import call_with_replacement, find_layer, last_conv_layer, layer_outputs
from lensml.evaluation.transforms import d4_orbit
from lensml.layers.d4 import ORDER, d4_transform, group_inverse


def grad_cam(model, images, layer=None, class_index=None) -> np.ndarray:
    """Grad-CAM heat maps.

    Args:
        model: a Keras model mapping images to class scores (B, C).
        images: (B, H, W, channels) float32.
        layer: name (or Layer) of the convolution layer to explain; default the last one.
        class_index: int or (B,) ints, the class to explain; default each image's predicted class.

    Returns:
        (B, H, W) float32 heat maps in [0, 1], resized bilinearly to the image size. The score
        differentiated is the model output as given (logits if the model outputs logits).
    """
    images = ops.convert_to_tensor(np.asarray(images, dtype=np.float32))
    if len(images.shape) != 4:
        raise ValueError(f"`images` must be (batch, height, width, channels), got shape {tuple(images.shape)}.")
    target = last_conv_layer(model) if layer is None else find_layer(model, layer)
    scores, recorded = layer_outputs(model, images, [target])
    activations = recorded[target.name]
    if len(activations.shape) != 4:
        raise ValueError(f"layer {target.name!r} outputs shape {tuple(activations.shape)}; Grad-CAM needs (B, h, w, C) maps.")
    if activations.shape[0] != images.shape[0]:
        raise ValueError(f"layer {target.name!r} runs on a stacked batch ({activations.shape[0]} rows for "
                         f"{images.shape[0]} images); choose a layer with one map per image.")
    if class_index is None:
        class_index = np.argmax(ops.convert_to_numpy(scores), axis=-1)
    class_index = np.broadcast_to(np.asarray(class_index, dtype=np.int64), (images.shape[0],))
    one_hot = ops.one_hot(ops.convert_to_tensor(class_index), scores.shape[-1])

    def class_score(acts):
        return ops.sum(call_with_replacement(model, images, target, acts) * one_hot)

    grads = gradient(class_score, activations)
    weights = ops.mean(grads, axis=(1, 2), keepdims=True)
    cam = ops.relu(ops.sum(weights * activations, axis=-1, keepdims=True))
    cam = ops.image.resize(cam, images.shape[1:3], interpolation="bilinear")[..., 0]
    return _unit_peak(ops.convert_to_numpy(cam).astype(np.float32))


def _unit_peak(cam: np.ndarray) -> np.ndarray:
    """Heat maps (B, H, W) divided by each map's peak (an all-zero map stays zero)."""
    peak = cam.reshape(cam.shape[0], -1).max(axis=1)[:, None, None]
    return np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)


def d4_grad_cam(model, images, layer=None, class_index=None) -> np.ndarray:
    """Grad-CAM of a D4 test-time-augmented prediction (``lensml.models.tta.D4TTA``).

    The TTA prediction averages ``model`` over the 8 rotations / reflections of each image, so
    its explanation is the average of ``model``'s 8 heat maps, each mapped back onto the
    original image by the inverse transform; every map explains the TTA's class (default its
    predicted class). Arguments and return as :func:`grad_cam`: (B, H, H) maps in [0, 1].
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"`images` must be square (batch, H, H, channels) for D4, got shape {images.shape}.")
    batch = len(images)
    # the 8 transformed copies as one batch of 8 B: one forward and one gradient pass
    stacked = d4_orbit(images)
    if class_index is None:
        scores = ops.convert_to_numpy(model(stacked, training=False)).reshape(ORDER, batch, -1)
        class_index = scores.mean(axis=0).argmax(axis=-1)
    class_index = np.broadcast_to(np.asarray(class_index, dtype=np.int64), (batch,))
    maps = grad_cam(model, stacked, layer, np.tile(class_index, ORDER))
    back = [d4_transform(maps[g * batch:(g + 1) * batch, ..., None], group_inverse(g), xp=np)[..., 0]
            for g in range(ORDER)]
    return _unit_peak(np.mean(back, axis=0).astype(np.float32))
