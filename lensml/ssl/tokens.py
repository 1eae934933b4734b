"""A transformer that takes a key mask, for MAE and JEPA, on lensml's one token stack.

MAE and I-JEPA need a ViT split in two: a tokenizer (image -> patch tokens with positions:
``lensml.layers.PatchEmbedding`` with a linear projection and fixed sin-cos positions, the
``patch_tokenizer`` below) and a token encoder that can ignore some tokens. ``TransformerEncoder``
is a stack of ``lensml.layers.TransformerBlock`` (the supervised ViTs' block) given a key mask, so
the JEPA context encoder sees only the context tokens, on a fixed-shape tensor (in-graph, no
ragged gathers), which keeps one code path for TF and JAX. With ``locality=True`` it is locality
self-attention (LSA: the diagonal masked, a learned temperature), as in ViTSD.
"""

from __future__ import annotations

import keras
from keras import ops

from lensml.layers.attention import TransformerBlock, key_mask_to_attention_mask
from lensml.layers.tokens import PatchEmbedding

_PKG = "lensml"


def patch_tokenizer(patch_size=8, dim=64, name="tokenizer"):
    """The token trainers' tokenizer (MAE, I-JEPA): images ``(B, H, W, C)`` -> tokens ``(B, N, dim)``,
    a linear projection of each flattened patch plus fixed 2-D sin-cos positions, no class token
    (``lensml.layers.PatchEmbedding``)."""
    return PatchEmbedding(int(patch_size), int(dim), projection="linear", cls_token=False,
                          position_embedding="sincos", name=name)


@keras.saving.register_keras_serializable(package=_PKG)
class TransformerEncoder(keras.layers.Layer):
    """Pre-norm transformer blocks over tokens (B, N, dim) -> (B, N, dim), with a final LayerNorm:
    ``depth`` ``lensml.layers.TransformerBlock`` (the blocks of the supervised ViTs), whose
    attention takes the key mask.

    call(tokens, key_mask=None): key_mask (B, N), 1 for tokens that may be attended to;
    masked tokens contribute nothing to the others (their own outputs are meaningless and
    ignored by the callers). locality: LSA (diagonal masked, learned temperature per head),
    else Keras ``MultiHeadAttention``. MLP width ``mlp_ratio * dim``.
    """

    def __init__(self, dim=64, depth=2, num_heads=4, mlp_ratio=2.0, locality=False, **kwargs):
        super().__init__(**kwargs)
        if dim % num_heads:
            raise ValueError(f"dim={dim} is not divisible by num_heads={num_heads}")
        self.dim, self.depth, self.num_heads = int(dim), int(depth), int(num_heads)
        self.mlp_ratio = float(mlp_ratio)
        self.locality = bool(locality)
        self.blocks = [TransformerBlock(self.num_heads, int(self.dim * self.mlp_ratio),
                                        attention="lsa" if self.locality else "mha", name=f"block{i}")
                       for i in range(self.depth)]
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="norm")

    def build(self, input_shape):
        shape = (None, None, self.dim)
        for block in self.blocks:
            block.build(shape)
        self.norm.build(shape)

    def call(self, tokens, key_mask=None, training=None):
        if tokens.shape[-1] is not None and tokens.shape[-1] != self.dim:
            raise ValueError(f"tokens: expected last axis {self.dim}, got shape {tokens.shape}")
        mask = key_mask_to_attention_mask(key_mask)
        x = tokens
        for block in self.blocks:
            x = block(x, attention_mask=mask, training=training)
        return self.norm(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "depth": self.depth,
                "num_heads": self.num_heads, "mlp_ratio": self.mlp_ratio,
                "locality": self.locality}


@keras.saving.register_keras_serializable(package=_PKG)
class MeanTokens(keras.layers.Layer):
    """tokens (B, N, D) -> (B, D), the mean over tokens ``start`` and after (1: skip a class token)."""

    def __init__(self, start=0, **kwargs):
        super().__init__(**kwargs)
        self.start = int(start)

    def call(self, tokens):
        return ops.mean(tokens[:, self.start:], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "start": self.start}


#: How a token encoder turns its tokens into image features.
POOLS = ("mean", "cls", None)


def image_encoder(tokenizer, encoder, image_shape, pool="mean", name="image_encoder", class_token=None):
    """Wrap a tokenizer and a token encoder as a keras.Model on images.

    image_shape: (H, W, C). class_token: a ``lensml.layers.ClassToken`` prepended to the patch
    tokens before the encoder (ViT's / MAE's CLS token), or None. pool: "mean" -> features
    (B, D), the mean of the patch tokens; "cls" -> the class token's output (B, D) (needs
    ``class_token``); None -> the patch tokens (B, N, D). Shares weights with the given layers
    (the pretrained encoder of MAE / JEPA).
    """
    from lensml.models.common import TakeToken

    if pool not in POOLS:
        raise ValueError(f"pool={pool!r}: expected one of {POOLS}")
    if pool == "cls" and class_token is None:
        raise ValueError("pool='cls' needs a class token (e.g. MAE(cls_token=True))")
    inputs = keras.Input(shape=tuple(image_shape), name="images")
    tokens = tokenizer(inputs)
    if class_token is not None:
        tokens = keras.layers.Concatenate(axis=1, name="with_cls")([class_token(tokens), tokens])
    tokens = encoder(tokens)
    skip = 0 if class_token is None else 1
    if pool == "cls":
        outputs = TakeToken(0, name="pool")(tokens)
    elif pool == "mean":
        outputs = MeanTokens(skip, name="pool")(tokens)
    else:
        outputs = keras.layers.Cropping1D((skip, 0), name="patch_tokens")(tokens) if skip else tokens
    return keras.Model(inputs, outputs, name=name)


def build_vit_encoder(image_shape=(64, 64, 1), patch_size=8, dim=64, depth=2, num_heads=4,
                      mlp_ratio=2.0, pool="default", cls_token=False, name="vit_encoder"):
    """A small ViT image encoder: images (B, H, W, C) -> (B, dim) (or tokens with pool=None).
    ``cls_token``: a learned class token whose output is the feature (pool "default" = "cls"; else
    the mean of the tokens)."""
    from lensml.layers import ClassToken

    if pool == "default":
        pool = "cls" if cls_token else "mean"
    return image_encoder(patch_tokenizer(patch_size, dim),
                         TransformerEncoder(dim, depth, num_heads, mlp_ratio, name="transformer"),
                         image_shape, pool=pool, name=name,
                         class_token=ClassToken(name="cls_token") if cls_token else None)


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
