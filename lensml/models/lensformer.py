"""Lensformer / Lensiformer (DeepLense): a physics-informed transformer.

1. Encoder: shifted patch tokens of the image -> locality self-attention blocks -> a dense
   map to one value per pixel -> ``k = 0.8 + 0.4 * sigmoid(.)`` (a +-20 % per-pixel scale of
   an SIS potential).
2. Physics: ``alpha = k * theta_E * theta / |theta|`` (``lensml.physics.SISDeflection``),
   source = inverse lensing of the image with ``alpha`` (``lensml.physics.InverseLens``: an
   exact bilinear weighted mean, unlike the original's rounded scatter with pairwise
   averaging), divided by its peak.
3. Decoder: shifted patch tokens of the source; attention blocks whose queries and keys are
   the image tokens and whose values are the source tokens; flattened tokens are the features.
"""

from __future__ import annotations

from keras import layers

from lensml.layers import ShiftedPatchTokenization, TransformerBlock
from lensml.models.common import Affine, PeakNormalization
from lensml.models import widths
from lensml.models.registry import register
from lensml.models.vit import _square, resolve_patch_size


@register("lensformer", tiny={"embed_dim": 16, "num_heads": 2, "key_dim": 8, "mlp_dim": 8}, width=widths.lens_transformer, head_hidden=(64,), head_activation="elu", head_dropout=0.1, xla_on_cpu=True,
          description="Lensformer: SPT+LSA encoder -> per-pixel SIS scale k -> inverse lensing -> "
                      "image-keyed, source-valued attention decoder")
def lensformer(inputs, *, patch_size=None, embed_dim: int = 384, num_heads: int = 16,
               key_dim: int = 64, mlp_dim: int = 64, encoder_depth: int = 1, decoder_depth: int = 1,
               dropout: float = 0.1, pixel_scale: float = 0.101, theta_E: float = 1.0,
               k_min: float = 0.8, k_max: float = 1.2, activation: str = "elu", physics: bool = True):
    """Lensformer features: flattened decoder tokens ``(batch, (N + 1) * embed_dim)``.

    Args:
      inputs: images ``(batch, H, H, 1)``.
      patch_size: None picks 2 tokens per side (64 -> 32-pixel patches, as the original).
      pixel_scale: arcsec per pixel of the images (0.101 = Model II / Euclid).
      theta_E: Einstein radius in arcsec that ``k`` scales (the original uses 1 in its
        pixel-scaled units).
      k_min, k_max: range of the per-pixel scale ``k``.
      physics: False removes the physics branch (encoder, k map, inverse lensing) for the
        ablation: the decoder reads the image's own tokens where it read the source's.
    Intermediate layers: "k_map" (batch, H, H, 1), "deflection" (batch, H, H, 2),
    "source" (batch, H, H, 1).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("lensformer", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("lensformer", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("lensformer")["cpu"])  # the laptop size
    model_ii = lensml.models.build("lensformer", input_shape=(64, 64, 1), num_classes=3, pixel_scale=0.101)
    ```
    """
    from lensml.physics import InverseLens, SISDeflection

    size = _square(inputs, "lensformer")
    p = resolve_patch_size(size, patch_size, 2)
    image_tokens = ShiftedPatchTokenization(p, embed_dim, name="image_tokens")(inputs)
    if not physics:
        return _decode(PeakNormalization(name="source_normalized")(inputs), image_tokens, p, embed_dim, num_heads,
                       mlp_dim, dropout, key_dim, activation, decoder_depth)
    x = image_tokens
    for i in range(encoder_depth):
        x = TransformerBlock(num_heads, mlp_dim, attention="lsa", dropout=dropout, key_dim=key_dim,
                             activation=activation, name=f"encoder_block{i}")(x)
    x = layers.Flatten(name="encoder_flatten")(x)
    x = layers.Dense(size * size, activation="sigmoid", name="k_logits")(x)
    x = layers.Reshape((size, size, 1), name="k_reshape")(x)
    k = Affine(scale=k_max - k_min, offset=k_min, name="k_map")(x)
    alpha = SISDeflection(pixel_scale, theta_E=theta_E, name="deflection")(k)
    source = InverseLens(pixel_scale, name="source")([inputs, alpha])
    source = PeakNormalization(name="source_normalized")(source)
    return _decode(source, image_tokens, p, embed_dim, num_heads, mlp_dim, dropout, key_dim, activation, decoder_depth)


def _decode(source, image_tokens, patch_size, embed_dim, num_heads, mlp_dim, dropout, key_dim, activation, depth):
    """Lensformer's decoder: source tokens attending to the image tokens, flattened."""
    y = ShiftedPatchTokenization(patch_size, embed_dim, name="source_tokens")(source)
    for i in range(depth):
        y = TransformerBlock(num_heads, mlp_dim, attention="lsa", dropout=dropout, key_dim=key_dim,
                             activation=activation, name=f"decoder_block{i}")([y, image_tokens])
    return layers.Flatten(name="decoder_flatten")(y)
