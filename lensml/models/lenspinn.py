"""LensPINN (DeepLense, NeurIPS 2024 ML4PS).

1. Encoder: shifted patch tokens (no LayerNorm) -> locality self-attention block(s) ->
   flatten -> one Einstein radius per image (arcsec), bounded to ``theta_E_range`` by a
   sigmoid. The original is an unbounded linear output; unbounded (or softplus) radii were
   seen to run away to ~100" at learning rate 1e-3, sending every ray off the source grid.
2. Physics: SIS deflection with that radius (``lensml.physics.SISDeflection``) and the
   inverse lens equation (``lensml.physics.InverseLens``) reconstruct the source.
3. Decoders: decoder1 (one CNN, shared) on the image and on the source, decoder2 on the
   physics-preprocessed image (``lensml.physics.PhysicsPreprocessing``); each CNN's pooled
   features go through a 1000-unit linear layer (the original used the ImageNet logits of
   timm models as features). Features: ``concat(image_feat - source_feat, preproc_feat)``.
   LensPINN_small uses MobileNetV3-Small (width 0.5) decoders, LensPINN_large EfficientNetB0.

The shared decoder1 runs once on the image and the source stacked along the batch axis, not
twice: its batch-norm layers would otherwise normalise images with image statistics and sources
with source statistics while training, but keep one moving average of both for inference, so a
trained model saw other activations at test time (train accuracy 0.94, test 0.73 on fresh
lenses, 0.95 for the same test images with batch statistics). Stacked, training and inference
see the same joint statistics.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from lensml.layers import ShiftedPatchTokenization, TransformerBlock
from lensml.models.cnn import efficientnet_b0_backbone, mobilenet_v3_backbone
from lensml.models.common import Affine, OnesLike, SplitBatch
from lensml.models import widths
from lensml.models.registry import TINY_EFFICIENTNET, TINY_LENSPINN, TINY_MOBILENET, register
from lensml.models.vit import _square, resolve_patch_size



def _decoder(kind, input_shape, features, name, options):
    inp = keras.Input(tuple(input_shape), name=f"{name}_input")
    if kind == "efficientnet_b0":
        backbone = efficientnet_b0_backbone(input_shape, name=f"{name}_efficientnetb0", **options)
    elif kind == "mobilenetv3_small":
        opts = {"alpha": 0.5, **options}
        backbone = mobilenet_v3_backbone(input_shape, size="small", name=f"{name}_mobilenetv3small",
                                         **opts)
    else:
        raise ValueError(f"decoder={kind!r}: expected 'efficientnet_b0' or 'mobilenetv3_small'")
    x = backbone(inp)
    if kind == "mobilenetv3_small":
        # MobileNetV3's classifier stage (1x1 conv to 1024 + hard-swish on the pooled
        # features), which keras' include_top=False drops and timm's model keeps.
        x = layers.Dense(1024, activation="hard_swish", name=f"{name}_head")(x)
    x = layers.Dense(features, name=f"{name}_features")(x)
    return keras.Model(inp, x, name=name)


def lenspinn_features(inputs, *, decoder: str, patch_size=None, embed_dim: int = 384,
                      num_heads: int = 16, key_dim: int = 64, mlp_dim: int = 64, depth: int = 1,
                      dropout: float = 0.1, pixel_scale: float = 0.101, theta_E_init: float = 1.0,
                      theta_E_range=None, decoder_features: int = 1000, decoder_options=None, shift: str = "rectangular",
                      epsilon: float = 1e-6, physics: bool = True, theta_E_fixed: float | None = None):
    """LensPINN features ``(batch, 2 * decoder_features)``.

    Args:
      inputs: images ``(batch, H, H, 1)``, at least 32x32.
      decoder: "efficientnet_b0" (large) or "mobilenetv3_small" (small).
      patch_size: None picks 2 tokens per side (64 -> 32, as the original).
      pixel_scale: arcsec per pixel (0.101 = Model II / Euclid).
      theta_E_init: Einstein radius (arcsec) predicted at initialisation.
      theta_E_range: (min, max) Einstein radius in arcsec; None = (0.05", half the field
        of view), the largest radius whose ring still lies inside the image.
      decoder_options: extra options of the decoder CNNs (e.g. ``{"alpha": 0.25}``,
        ``{"width_coefficient": 0.25, "depth_coefficient": 0.25}``).
      epsilon: of the physics preprocessing (log of zero intensity).
      physics: False removes the physics branch (ViT encoder, Einstein radius, inverse lensing)
        for the ablation: the same two decoders read the image and the preprocessed image, and
        their features are concatenated.
      theta_E_fixed: an Einstein radius (arcsec) used for every image instead of the encoder's
        prediction (no encoder): the oracle ablation, e.g. the true 0.812" of Model II as
        published, where every lens has that radius. Its layer is "einstein_radius_fixed".
    Intermediate layers: "einstein_radius" (batch, 1) arcsec, "deflection", "source"
    (batch, H, H, 1), "preprocessing".
    """
    from lensml.physics import PhysicsPreprocessing

    size = _square(inputs, "lenspinn")
    opts = dict(decoder_options or {})
    decoder1 = _decoder(decoder, inputs.shape[1:], decoder_features, "decoder1", opts)
    decoder2 = _decoder(decoder, inputs.shape[1:], decoder_features, "decoder2", opts)
    preproc = PhysicsPreprocessing(epsilon, name="preprocessing")(inputs)
    if not physics:
        return layers.Concatenate(name="lenspinn_features")([decoder1(inputs), decoder2(preproc)])
    if theta_E_fixed is not None:
        if not theta_E_fixed > 0:
            raise ValueError(f"theta_E_fixed={theta_E_fixed!r}: expected an Einstein radius > 0 arcsec (or None)")
        unit = layers.GlobalAveragePooling2D(name="unit_radius")(OnesLike(name="ones")(inputs))
        return _decode_with_source(inputs, preproc, Affine(float(theta_E_fixed), 0.0, name="einstein_radius_fixed")(unit),
                                   pixel_scale, decoder1, decoder2)
    p = resolve_patch_size(size, patch_size, 2)
    x = ShiftedPatchTokenization(p, embed_dim, shift=shift, layer_norm=False, name="tokens")(inputs)
    for i in range(depth):
        x = TransformerBlock(num_heads, mlp_dim, attention="lsa", dropout=dropout, key_dim=key_dim,
                             activation="elu", name=f"encoder_block{i}")(x)
    x = layers.Flatten(name="encoder_flatten")(x)
    lo, hi = theta_E_range if theta_E_range is not None else (0.05, 0.5 * size * pixel_scale)
    if not 0 <= lo < theta_E_init < hi:
        raise ValueError(f"theta_E_init={theta_E_init} must lie inside theta_E_range=({lo}, {hi}) "
                         "with 0 <= min < max (arcsec)")
    u = (theta_E_init - lo) / (hi - lo)
    logit = layers.Dense(1, activation="sigmoid", name="einstein_radius_unit",
                         bias_initializer=keras.initializers.Constant(math.log(u / (1 - u))))(x)
    theta_E = Affine(hi - lo, lo, name="einstein_radius")(logit)
    return _decode_with_source(inputs, preproc, theta_E, pixel_scale, decoder1, decoder2)


def _decode_with_source(inputs, preproc, theta_E, pixel_scale, decoder1, decoder2):
    """LensPINN's decoders: the source that ``theta_E`` (batch, 1) arcsec unlenses, decoder 1 on
    image and source (their features' difference), decoder 2 on the preprocessed image."""
    from lensml.physics import InverseLens, SISDeflection

    ones = OnesLike(name="unit_k")(inputs)
    alpha = SISDeflection(pixel_scale, name="deflection")([ones, theta_E])
    source = InverseLens(pixel_scale, name="source")([inputs, alpha])
    stacked = layers.Concatenate(axis=0, name="image_and_source")([inputs, source])
    image_feat, source_feat = SplitBatch(2, name="image_and_source_features")(decoder1(stacked))
    preproc_feat = decoder2(preproc)
    diff = layers.Subtract(name="image_minus_source")([image_feat, source_feat])
    return layers.Concatenate(name="lenspinn_features")([diff, preproc_feat])


@register("lenspinn_small", tiny={**TINY_LENSPINN, "decoder_options": TINY_MOBILENET}, width=widths.lenspinn_small, cpu_scale={"epochs": 6, "steps_per_epoch": 180}, head_hidden=(64,), head_activation="elu", head_dropout=0.1,
          description="LensPINN small: ViT encoder -> Einstein radius -> inverse lensing; "
                      "MobileNetV3-Small decoders")
def lenspinn_small(inputs, **options):
    """LensPINN_small features (MobileNetV3-Small width 0.5 decoders).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("lenspinn_small", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("lenspinn_small", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("lenspinn_small")["cpu"])  # the laptop size
    model_ii = lensml.models.build("lenspinn_small", input_shape=(64, 64, 1), num_classes=3, pixel_scale=0.101)
    ```
    """
    return lenspinn_features(inputs, decoder="mobilenetv3_small", **options)


@register("lenspinn_large", tiny={**TINY_LENSPINN, "decoder_options": TINY_EFFICIENTNET}, width=widths.lenspinn_large, cpu_scale={"options": {"decoder_options": {"width_coefficient": 0.5, "depth_coefficient": 0.5}}}, head_hidden=(64,), head_activation="elu", head_dropout=0.1,
          description="LensPINN large: ViT encoder -> Einstein radius -> inverse lensing; "
                      "EfficientNetB0 decoders")
def lenspinn_large(inputs, **options):
    """LensPINN_large features (EfficientNetB0 decoders).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("lenspinn_large", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("lenspinn_large", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("lenspinn_large")["cpu"])  # the laptop size
    ```
    """
    return lenspinn_features(inputs, decoder="efficientnet_b0", **options)


def _options_signature(fn):
    # The registry reads a model's options from its feature function's signature: these two
    # pass them on to lenspinn_features (all but ``decoder``, which they fix).
    import inspect

    sig = inspect.signature(lenspinn_features)
    fn.__signature__ = sig.replace(parameters=[p for n, p in sig.parameters.items() if n != "decoder"])


_options_signature(lenspinn_small)
_options_signature(lenspinn_large)
