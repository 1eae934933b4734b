"""Downstream models on a pretrained encoder: classification (full fine-tune or linear
probe), axion-mass regression, and 16 -> 64 super-resolution from an MAE / JEPA encoder.

The heads are the shared ones of :mod:`lensml.models.heads`; this module only wires a
pretrained encoder (a ``keras.Model`` images -> features or tokens) to them.
"""

from __future__ import annotations

import math

import keras

MODES = ("finetune", "linear_probe")


def _contract(inputs, normalization):
    from lensml.models.registry import input_contract_layer

    return input_contract_layer(inputs, normalization)


def _prepare(encoder, mode, input_shape=None, normalization=None):
    if not isinstance(encoder, keras.Model):
        raise TypeError(f"encoder: expected a keras.Model, got {type(encoder).__name__}")
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: expected one of {MODES}")
    encoder.trainable = mode == "finetune"
    encoder_shape = tuple(encoder.inputs[0].shape[1:])
    input_shape = tuple(input_shape) if input_shape else encoder_shape
    inputs = keras.Input(shape=input_shape, name="images")
    x = _contract(inputs, normalization)
    if input_shape != encoder_shape:
        # Another instrument (Model II 64x64 on a Model I 150x150 encoder): bilinear resize.
        if input_shape[-1] != encoder_shape[-1]:
            raise ValueError(f"input_shape={input_shape}: channels differ from the encoder's {encoder_shape}")
        x = keras.layers.Resizing(encoder_shape[0], encoder_shape[1], name="to_encoder_size")(x)
    # A linear probe also keeps BatchNorm statistics frozen (inference mode).
    features = encoder(x, training=False) if mode == "linear_probe" else encoder(x)
    if len(features.shape) != 2:
        raise ValueError(f"encoder: expected features (batch, D), got {features.shape}; "
                         "pool token encoders first (e.g. MAE.image_encoder(pool='mean'))")
    return inputs, features


def build_classifier(encoder, num_classes=3, mode="finetune", hidden=(),
                     classifier_activation="softmax", dropout=0.0, input_shape=None, name=None,
                     normalization=None):
    """encoder + classification head: images (B, H, W, C) -> class probabilities (B, K).

    mode: "finetune" (everything trains) or "linear_probe" (encoder frozen, in inference
    mode; with hidden=() the head is one Dense layer). Sets ``encoder.trainable``.
    input_shape: the data's (H, W, C) when it differs from the encoder's (resized).
    normalization: the input contract ("minmax", "standardize"; None: none), an
    ``ImageNormalization`` layer right after the input (see ``lensml.models.build``).
    """
    from lensml.models.heads import classification_head

    inputs, features = _prepare(encoder, mode, input_shape, normalization)
    outputs = classification_head(features, num_classes, classifier_activation, hidden=hidden,
                                  dropout=dropout)
    from lensml.models.contract import LensModel

    return LensModel(inputs, outputs, name=name or f"{encoder.name}_{mode}_classifier")


def build_regressor(encoder, mode="finetune", hidden=(64,), dropout=0.0, input_shape=None,
                    name=None, target_range=None, normalization=None):
    """encoder + regression head: images -> (B, 1), e.g. log10(m_a / eV) of axion lenses
    (``target_range``: see ``lensml.models.heads.regression_head``; ``normalization``: as
    :func:`build_classifier`)."""
    from lensml.models.heads import regression_head

    inputs, features = _prepare(encoder, mode, input_shape, normalization)
    outputs = regression_head(features, 1, hidden=hidden, dropout=dropout, target_range=target_range)
    from lensml.models.contract import LensModel

    return LensModel(inputs, outputs, name=name or f"{encoder.name}_{mode}_regressor")


def build_sr_from_tokens(token_encoder, lr_shape=(16, 16, 1), filters=64, name="ssl_super_resolution",
                         normalization=None):
    """Super-resolution on a pretrained token encoder (the MAE paper: MAE encoder + conv decoder).

    token_encoder: keras.Model images (B, H, W, C) -> tokens (B, N, D) on a square
    sqrt(N) x sqrt(N) patch grid (``MAE.image_encoder(pool=None)``). The low-resolution
    input lr_shape (h, w, C) is resized (bilinear) to H x W, encoded, the tokens reshaped to
    the patch grid and decoded by ``lensml.models.heads.super_resolution_decoder`` back to
    H x W, added to the bilinear upsampling (the network learns the residual).
    normalization: the low-resolution input's contract (as :func:`build_classifier`); the
    output is in the normalised unit of the training targets.
    Returns a keras.Model (B, h, w, C) -> (B, H, W, C).
    """
    from lensml.models.heads import super_resolution_decoder

    if not isinstance(token_encoder, keras.Model):
        raise TypeError(f"token_encoder: expected a keras.Model, got {type(token_encoder).__name__}")
    height, width, channels = (int(v) for v in token_encoder.inputs[0].shape[1:])
    tokens_shape = token_encoder.outputs[0].shape
    if len(tokens_shape) != 3:
        raise ValueError(f"token_encoder: expected tokens (batch, N, D), got {tokens_shape}")
    n, dim = int(tokens_shape[1]), int(tokens_shape[2])
    grid = int(round(math.sqrt(n)))
    if grid * grid != n or height % grid:
        raise ValueError(f"token_encoder: {n} tokens do not form a square grid dividing {height}")
    scale = height // grid
    inputs = keras.Input(shape=tuple(lr_shape), name="low_resolution")
    upsampled = keras.layers.Resizing(height, width, interpolation="bilinear",
                                      name="bilinear")(_contract(inputs, normalization))
    tokens = token_encoder(upsampled)
    grid_map = keras.layers.Reshape((grid, grid, dim), name="token_grid")(tokens)
    residual = super_resolution_decoder(grid_map, scale=scale, filters=filters, out_channels=channels)
    outputs = keras.layers.Add(name="residual_add")([upsampled, residual])
    from lensml.models.contract import LensModel

    return LensModel(inputs, outputs, name=name)
