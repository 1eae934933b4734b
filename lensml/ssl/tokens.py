"""What the token trainers (MAE, I-JEPA, Lens-JEPA) share, on lensml's one token stack.

MAE and I-JEPA need a ViT split in two: a tokenizer (image -> patch tokens with positions:
``lensml.layers.patch_tokenizer``, a ``PatchEmbedding`` with a linear projection and fixed sin-cos
positions) and a token encoder that can ignore some tokens (``lensml.layers.TransformerEncoder``,
a stack of the supervised ViTs' ``TransformerBlock`` given a key mask: the JEPA context encoder
sees only the context tokens on a fixed-shape tensor, one code path for TF and JAX). Here:
``TokenTrainer`` (their base: tokenizer, encoder, grid, config), ``image_encoder`` (a trainer's
layers as an image encoder, pooled as ``lensml.models.vit.token_encoder_features``) and
``build_vit_encoder`` (the registry's ``ssl_vit``, their from-scratch baseline).
"""

from __future__ import annotations

import keras

from lensml.layers.attention import TransformerEncoder
from lensml.layers.tokens import patch_tokenizer


def image_encoder(tokenizer, encoder, image_shape, pool="mean", name="image_encoder", class_token=None):
    """Wrap a tokenizer and a token encoder as a keras.Model on images of ``image_shape`` (H, W, C):
    ``lensml.models.vit.token_encoder_features`` (pool "mean", "cls" with a ``class_token``, or None
    for the patch tokens). Shares weights with the given layers (the pretrained encoder of MAE / JEPA)."""
    from lensml.models.vit import token_encoder_features

    inputs = keras.Input(shape=tuple(image_shape), name="images")
    return keras.Model(inputs, token_encoder_features(inputs, tokenizer, encoder, pool=pool, class_token=class_token),
                       name=name)


def build_vit_encoder(image_shape=(64, 64, 1), patch_size=8, dim=64, depth=2, num_heads=4,
                      mlp_ratio=2.0, pool="default", cls_token=False, name="vit_encoder"):
    """The registry's ``ssl_vit`` image encoder (``lensml.models.build_encoder("ssl_vit", ...)``):
    images (B, H, W, C) -> (B, dim) (or the patch tokens with pool=None). ``cls_token``: a learned
    class token whose output is the feature (pool "default" = "cls"; else the mean of the tokens)."""
    from lensml.models.vit import ssl_vit

    inputs = keras.Input(shape=tuple(image_shape), name="images")
    return keras.Model(inputs, ssl_vit(inputs, patch_size=patch_size, dim=dim, depth=depth, num_heads=num_heads,
                                       mlp_ratio=mlp_ratio, pool=pool, cls_token=cls_token), name=name)


class TokenTrainer(keras.Model):
    """What the token trainers (MAE, I-JEPA, Lens-JEPA) share: a patch ``tokenizer`` and a token
    ``encoder`` (by default ``patch_tokenizer`` + ``TransformerEncoder`` of ``embed_dim``, ``depth``,
    ``num_heads``; subclasses override ``_default_tokenizer`` / ``_default_encoder``) on images of
    ``image_shape`` cut into a ``grid`` of ``num_patches`` patches of ``patch_size`` pixels, their
    config and ``image_encoder``. A subclass adds its own parts and loss, and its own arguments to
    ``get_config``."""

    def __init__(self, encoder=None, tokenizer=None, image_shape=(64, 64, 1), patch_size=8,
                 embed_dim=64, depth=4, num_heads=4, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(v) for v in image_shape)
        h, w, _ = self.image_shape
        self.patch_size, self.embed_dim = int(patch_size), int(embed_dim)
        if h % self.patch_size or w % self.patch_size:
            raise ValueError(f"image_shape={image_shape!r} is not divisible by patch_size={patch_size}")
        self.depth, self.num_heads = int(depth), int(num_heads)
        self.seed = seed
        self.grid = (h // self.patch_size, w // self.patch_size)
        self.num_patches = self.grid[0] * self.grid[1]
        self.tokenizer = tokenizer if tokenizer is not None else self._default_tokenizer()
        self.encoder = encoder if encoder is not None else self._default_encoder()

    def _default_tokenizer(self):
        return patch_tokenizer(self.patch_size, self.embed_dim)

    def _default_encoder(self):
        return TransformerEncoder(self.embed_dim, self.depth, self.num_heads, name="encoder")

    #: The name of the model ``image_encoder`` returns.
    encoder_name = "token_encoder"

    #: The trainer's own class token (``lensml.layers.ClassToken``), None: the tokens carry none.
    class_token = None

    @property
    def default_pool(self) -> str:
        """How this trainer's image features are pooled: "cls" with a class token, else "mean"."""
        return "mean" if self.class_token is None else "cls"

    def image_encoder(self, pool="default"):
        """The pretrained encoder as a keras.Model: images -> (B, D) (pool "mean" / "cls";
        "default": ``default_pool``) or the patch tokens (pool None)."""
        pool = self.default_pool if pool == "default" else pool
        return image_encoder(self.tokenizer, self.encoder, self.image_shape, pool=pool, name=self.encoder_name,
                             class_token=self.class_token)

    def get_config(self):
        from lensml.ssl.base import serialize_parts

        return {**super().get_config(), **serialize_parts(self, ("encoder", "tokenizer")),
                "image_shape": list(self.image_shape), "patch_size": self.patch_size,
                "embed_dim": self.embed_dim, "depth": self.depth, "num_heads": self.num_heads,
                "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        from lensml.ssl.base import deserialize_parts

        return cls(**deserialize_parts(config, ("encoder", "tokenizer")))
