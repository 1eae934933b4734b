"""Lens-JEPA: I-JEPA whose context and target encoders are a physics encoder.

The physics tokenizer (Lens-JEPA, the Lens-JEPA paper; the open reimplementation's token-aligned
k-map): shifted patch tokens of the image -> LSA block(s) -> a per-token linear map to the
pixels of its patch -> k = k_min + (k_max - k_min) * sigmoid(.) per pixel ->
alpha = k * theta_E * theta / |theta| (Psi = k |theta|, ``lensml.physics.SISDeflection``) ->
source = inverse lensing of the image (``lensml.physics.InverseLens``), peak-normalised ->
shifted patch tokens of the source (``lensml.layers.ShiftedPatchTokenization``).
The JEPA masks act on the source tokens; the token encoder is locality self-attention
(``TransformerEncoder(locality=True)``: ViTSD's LSA blocks, ``lensml.layers.TransformerBlock``,
given the context's key mask).
The k-map part sees the whole image (it is part of the tokenizer), which keeps the source
tokens aligned with the image patches that the masks are drawn on.
"""

from __future__ import annotations

import keras

from lensml.ssl.jepa import IJEPA
from lensml.layers.attention import TransformerEncoder

_PKG = "lensml"


def build_lens_physics_tokenizer(image_shape=(64, 64, 1), patch_size=8, embed_dim=64,
                                 k_embed_dim=32, k_depth=1, k_heads=4, pixel_scale=0.101,
                                 theta_E=1.0, k_min=0.8, k_max=1.2, name="lens_tokenizer"):
    """Physics tokenizer: images (B, H, H, 1) -> source tokens (B, (H/p)^2, embed_dim).

    pixel_scale: arcsec per pixel (0.101 = Model II / Euclid; 0.05 = Model I). theta_E:
    arcsec scaled by k. Intermediate layers "k_map", "deflection", "source" can be read
    with ``keras.Model(tok.input, tok.get_layer("source").output)``.
    """
    from lensml.layers import ShiftedPatchTokenization, TransformerBlock
    from lensml.models.common import Affine, PeakNormalization
    from lensml.physics import InverseLens, SISDeflection

    h, w, c = (int(v) for v in image_shape)
    if h != w or c != 1:
        raise ValueError(f"image_shape={image_shape!r}: expected a square single-channel (H, H, 1)")
    p = int(patch_size)
    if h % p:
        raise ValueError(f"image_shape={image_shape!r} is not divisible by patch_size={p}")
    g = h // p
    inputs = keras.Input(shape=(h, w, 1), name="images")
    x = ShiftedPatchTokenization(p, k_embed_dim, cls_token=False, name="k_tokens")(inputs)
    for i in range(k_depth):
        x = TransformerBlock(k_heads, 2 * k_embed_dim, attention="lsa", name=f"k_block{i}")(x)
    # token -> its own patch of k logits, so k (and the source) stay aligned with the tokens
    x = keras.layers.Dense(p * p, activation="sigmoid", name="k_patches")(x)
    x = keras.layers.Reshape((g, g, p, p), name="k_grid")(x)
    x = keras.layers.Permute((1, 3, 2, 4), name="k_rows")(x)
    x = keras.layers.Reshape((h, w, 1), name="k_pixels")(x)
    k = Affine(scale=k_max - k_min, offset=k_min, name="k_map")(x)
    alpha = SISDeflection(pixel_scale, theta_E=theta_E, name="deflection")(k)
    source = InverseLens(pixel_scale, name="source")([inputs, alpha])
    source = PeakNormalization(name="source_normalized")(source)
    tokens = ShiftedPatchTokenization(p, embed_dim, cls_token=False, name="source_tokens")(source)
    return keras.Model(inputs, tokens, name=name)


@keras.saving.register_keras_serializable(package=_PKG)
class LensJEPA(IJEPA):
    """I-JEPA with the physics tokenizer and an LSA token encoder (see the module docstring).

    Takes IJEPA's arguments plus the physics ones (pixel_scale in arcsec, theta_E in arcsec,
    k_min / k_max, k_embed_dim, k_depth). Defaults: Model II pixels (0.101").
    """

    def __init__(self, encoder=None, tokenizer=None, image_shape=(64, 64, 1), patch_size=8,
                 embed_dim=64, pixel_scale=0.101, theta_E=1.0, k_min=0.8, k_max=1.2,
                 k_embed_dim=32, k_depth=1, **kwargs):
        self.pixel_scale, self.theta_E = float(pixel_scale), float(theta_E)
        self.k_min, self.k_max = float(k_min), float(k_max)
        self.k_embed_dim, self.k_depth = int(k_embed_dim), int(k_depth)
        super().__init__(encoder=encoder, tokenizer=tokenizer, image_shape=image_shape,
                         patch_size=patch_size, embed_dim=embed_dim, **kwargs)

    def _default_tokenizer(self):
        return build_lens_physics_tokenizer(self.image_shape, self.patch_size, self.embed_dim,
                                            self.k_embed_dim, self.k_depth,
                                            pixel_scale=self.pixel_scale, theta_E=self.theta_E,
                                            k_min=self.k_min, k_max=self.k_max)

    def _default_encoder(self):
        return TransformerEncoder(self.embed_dim, self.depth, self.num_heads, locality=True,
                                  name="encoder")

    def get_config(self):
        return {**super().get_config(), "pixel_scale": self.pixel_scale, "theta_E": self.theta_E,
                "k_min": self.k_min, "k_max": self.k_max, "k_embed_dim": self.k_embed_dim,
                "k_depth": self.k_depth}
