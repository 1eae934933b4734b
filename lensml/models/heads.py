"""Task heads: classification, regression, and a super-resolution decoder."""

from __future__ import annotations

import keras
from keras import layers


#: Names of the head layers made here: the output Dense layers and the prefixes of their MLP.
#: (Not every "head_*": D4LensPINN's EfficientNetV2 is its "head_efficientnetv2s".)
HEAD_OUTPUTS = ("predictions", "regression")
HEAD_MLP_PREFIXES = ("head_dense_", "head_dropout")


def is_head_layer(layer) -> bool:
    """True for a layer made by ``classification_head`` / ``regression_head`` (the output
    Dense and its optional MLP): what a linear probe trains."""
    return layer.name in HEAD_OUTPUTS or layer.name.startswith(HEAD_MLP_PREFIXES)


def _mlp(x, hidden, activation, dropout, prefix):
    for i, units in enumerate(hidden):
        x = layers.Dense(int(units), activation=activation, name=f"{prefix}_dense_{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x


def classification_head(features, num_classes: int, classifier_activation="softmax", *,
                        hidden=(), activation="relu", dropout: float = 0.0):
    """Optional MLP, then ``Dense(num_classes)``.

    Args:
      features: ``(batch, D)``.
      classifier_activation: "softmax" for probabilities, None for logits. The output layer
        computes in float32 (``dtype="float32"``) so mixed precision keeps a stable softmax.

    Returns:
      ``(batch, num_classes)`` tensor (layer name "predictions").
    """
    if dropout and not hidden:
        features = layers.Dropout(dropout, name="head_dropout")(features)
    x = _mlp(features, hidden, activation, dropout, "head")
    return layers.Dense(num_classes, activation=classifier_activation, name="predictions",
                        dtype="float32")(x)


def regression_head(features, num_outputs: int = 1, *, hidden=(), activation="relu",
                    dropout: float = 0.0, target_range=None):
    """Optional MLP, then a linear ``Dense(num_outputs)`` (e.g. log10 axion mass in eV).

    ``target_range`` ``(low, high)``: the range the targets are drawn from (the axion prior
    U(-24, -22) in dex): the linear unit is rescaled to ``centre + half_width * unit``, so a
    freshly initialised head predicts the centre of the prior and the network learns an O(1)
    quantity. Without it a head at zero starts ~23 dex away, which Adam's ~lr-sized steps take
    thousands of steps to cross.

    Returns:
      ``(batch, num_outputs)`` tensor (layer name "regression").
    """
    x = _mlp(features, hidden, activation, dropout, "head")
    if target_range is None:
        return layers.Dense(num_outputs, activation=None, name="regression", dtype="float32")(x)
    try:
        low, high = (float(v) for v in target_range)
    except (TypeError, ValueError):
        raise ValueError(f"target_range: expected (low, high) numbers, got {target_range!r}") from None
    if not high > low:
        raise ValueError(f"target_range: expected low < high, got {target_range!r}")
    x = layers.Dense(num_outputs, activation=None, name="regression_unit", dtype="float32")(x)
    return layers.Rescaling((high - low) / 2, offset=(high + low) / 2, name="regression", dtype="float32")(x)


def super_resolution_decoder(feature_map, scale: int = 4, filters: int = 64, out_channels: int = 1,
                             name: str = "sr_decoder"):
    """Convolutional upsampling decoder: ``log2(scale)`` stages of (bilinear x2 upsampling,
    3x3 conv, ReLU), then a 3x3 conv to ``out_channels``.

    Args:
      feature_map: ``(batch, h, w, C)``.
      scale: a power of two (16 -> 64 pixels is ``scale=4``).

    Returns:
      ``(batch, h * scale, w * scale, out_channels)`` (linear output).
    """
    if scale < 1 or scale & (scale - 1):
        raise ValueError(f"scale={scale!r}: expected a power of two")
    x = feature_map
    stage = 0
    while scale > 1:
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up{stage}")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{stage}")(x)
        scale //= 2
        stage += 1
    return layers.Conv2D(out_channels, 3, padding="same", name=f"{name}_out", dtype="float32")(x)


def build_super_resolution(input_shape=(16, 16, 1), scale: int = 4, filters: int = 64,
                           num_blocks: int = 4, normalization: str | None = "minmax") -> keras.Model:
    """A small residual CNN super-resolution model (features at low resolution, then
    ``super_resolution_decoder``), plus a bilinear skip so it learns the residual.

    Args:
      input_shape: low-resolution ``(h, w, 1)``.
      scale: upscaling factor (power of two).
      normalization: the input contract (see ``lensml.models.build``); the output is in the
        normalised unit of the training targets.

    Returns:
      ``keras.Model``: ``(batch, h, w, 1)`` -> ``(batch, h * scale, w * scale, 1)``.
    """
    from lensml.models.registry import check_input_shape, input_contract_layer

    h, w, c = (int(s) for s in input_shape)
    if c != 1:
        check_input_shape(input_shape)
    inputs = keras.Input((h, w, 1), name="low_resolution")
    images = input_contract_layer(inputs, normalization)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name="sr_stem")(images)
    for i in range(num_blocks):
        y = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"sr_block{i}_a")(x)
        y = layers.Conv2D(filters, 3, padding="same", name=f"sr_block{i}_b")(y)
        x = layers.Add(name=f"sr_block{i}_add")([x, y])
    residual = super_resolution_decoder(x, scale, filters)
    upsampled = layers.UpSampling2D(scale, interpolation="bilinear", name="sr_skip")(images)
    outputs = layers.Add(name="high_resolution", dtype="float32")([upsampled, residual])
    from lensml.models.contract import LensModel

    return LensModel(inputs, outputs, name="super_resolution")
