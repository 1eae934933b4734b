"""Vision transformers: ViT (Dosovitskiy et al.), ViTSD (ViT for small datasets: shifted
patch tokenization + locality self-attention, Lee et al. 2021) and ``ssl_vit``, the ViT of the
token trainers (MAE, I-JEPA): its from-scratch baseline and the encoder a super-resolution
decoder reads the tokens of."""

from __future__ import annotations

from keras import layers

from lensml.layers import (ClassToken, PatchEmbedding, ShiftedPatchTokenization, TransformerBlock, TransformerEncoder,
                           patch_tokenizer)
from lensml.models.common import MeanTokens, TakeToken
from lensml.models import widths
from lensml.models.registry import SMALL_TRANSFORMER, TINY_TRANSFORMER, register


def resolve_patch_size(image_size: int, patch_size, tokens_per_side: int) -> int:
    """``patch_size`` as given, or (None) the divisor of ``image_size`` giving the token grid
    closest to ``tokens_per_side`` (64 -> 8 for 8 tokens per side; 150 -> 15).

    A given patch size that does not divide the image is reported by the tokenizer
    (ValueError naming both sizes).
    """
    if patch_size is not None:
        if not isinstance(patch_size, int) or patch_size < 1:
            raise ValueError(f"patch_size={patch_size!r}: expected a positive integer or None")
        return patch_size
    divisors = [d for d in range(1, image_size + 1) if image_size % d == 0]
    return min(divisors, key=lambda d: (abs(image_size // d - tokens_per_side), d))


def _square(inputs, name):
    h, w = inputs.shape[1], inputs.shape[2]
    if h != w:
        raise ValueError(f"{name}: expected square images, got {h}x{w}")
    return h


def transformer_features(tokens, *, depth, num_heads, mlp_dim, attention, dropout, prefix="block",
                         pool="cls"):
    """Stack of ``TransformerBlock`` + final LayerNorm; pool "cls" (token 0) or "mean"."""
    x = tokens
    for i in range(depth):
        x = TransformerBlock(num_heads, mlp_dim, attention=attention, dropout=dropout,
                             name=f"{prefix}{i}")(x)
    x = layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")(x)
    if pool == "cls":
        return TakeToken(0, name="cls_features")(x)
    return layers.GlobalAveragePooling1D(name="mean_features")(x)


@register("vit", tiny=TINY_TRANSFORMER, width=widths.transformer, cpu_scale={"options": SMALL_TRANSFORMER, "epochs": 6, "steps_per_epoch": 200}, description="Vision Transformer (patch embedding + multi-head attention)")
def vit(inputs, *, patch_size=None, embed_dim: int = 384, depth: int = 8, num_heads: int = 8,
        mlp_dim: int = 1536, dropout: float = 0.1):
    """ViT features: class-token output ``(batch, embed_dim)``.

    ``patch_size=None`` picks 8 tokens per side (64x64 -> 8-pixel patches, 150x150 -> 15).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("vit", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("vit", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("vit")["cpu"])  # the laptop size
    patches_of_8 = lensml.models.build("vit", input_shape=(64, 64, 1), num_classes=3, patch_size=8)
    ```
    """
    size = _square(inputs, "vit")
    p = resolve_patch_size(size, patch_size, 8)
    x = PatchEmbedding(p, embed_dim, name="patch_embedding")(inputs)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    return transformer_features(x, depth=depth, num_heads=num_heads, mlp_dim=mlp_dim,
                                attention="mha", dropout=dropout)


@register("vitsd", tiny=TINY_TRANSFORMER, width=widths.transformer, cpu_scale={"options": SMALL_TRANSFORMER}, description="ViT for small datasets (shifted patch tokens + locality self-attention)")
def vitsd(inputs, *, patch_size=None, embed_dim: int = 384, depth: int = 8, num_heads: int = 8,
          mlp_dim: int = 1536, dropout: float = 0.1, shift: str = "diagonal"):
    """ViTSD features: class-token output ``(batch, embed_dim)``.

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("vitsd", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("vitsd", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("vitsd")["cpu"])  # the laptop size
    ```
    """
    size = _square(inputs, "vitsd")
    p = resolve_patch_size(size, patch_size, 8)
    x = ShiftedPatchTokenization(p, embed_dim, shift=shift, name="shifted_patch_tokenization")(inputs)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    return transformer_features(x, depth=depth, num_heads=num_heads, mlp_dim=mlp_dim,
                                attention="lsa", dropout=dropout)


#: How a token encoder's tokens become image features: the mean of the patch tokens, the class
#: token's output, or (None) the patch tokens themselves ``(B, N, D)``.
POOLS = ("mean", "cls", None)


def token_encoder_features(inputs, tokenizer, encoder, *, pool="mean", class_token=None):
    """``tokenizer`` (images -> patch tokens), an optional ``class_token``
    (``lensml.layers.ClassToken``, prepended), ``encoder`` (tokens -> tokens) applied to
    ``inputs``, then pooled (``POOLS``): ``(B, D)`` or the patch tokens ``(B, N, D)``. The layers
    are used as given, so a model built from a trainer's layers shares its weights."""
    if pool not in POOLS:
        raise ValueError(f"pool={pool!r}: expected one of {POOLS}")
    if pool == "cls" and class_token is None:
        raise ValueError("pool='cls' needs a class token (e.g. MAE(cls_token=True), ssl_vit's cls_token=True)")
    tokens = tokenizer(inputs)
    if class_token is not None:
        tokens = layers.Concatenate(axis=1, name="with_cls")([class_token(tokens), tokens])
    tokens = encoder(tokens)
    skip = 0 if class_token is None else 1
    if pool == "cls":
        return TakeToken(0, name="pool")(tokens)
    if pool == "mean":
        return MeanTokens(skip, name="pool")(tokens)
    return layers.Cropping1D((skip, 0), name="patch_tokens")(tokens) if skip else tokens


@register("ssl_vit", tiny={"dim": 16, "depth": 1, "num_heads": 2}, width=widths.token_vit,
          description="The token trainers' ViT (MAE / I-JEPA encoder: linear patches, sin-cos positions)")
def ssl_vit(inputs, *, patch_size=None, dim: int = 64, depth: int = 2, num_heads: int = 4, mlp_ratio: float = 2.0,
            pool="default", cls_token: bool = False):
    """The ViT of MAE and I-JEPA, from scratch: the token trainers' tokenizer
    (``lensml.layers.patch_tokenizer``: linear projection of flattened patches, fixed sin-cos
    positions), an optional learned class token, ``TransformerEncoder`` blocks. Features: the
    class token's output (``pool="default"`` with ``cls_token``), else the mean token (``"mean"``),
    or the patch tokens ``(B, N, dim)`` (``pool=None``: for a super-resolution decoder).
    ``patch_size=None`` picks 8 tokens per side (64x64 -> 8-pixel patches).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("ssl_vit", input_shape=(64, 64, 1), num_classes=3, cls_token=True)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    tokens = lensml.models.build_encoder("ssl_vit", (64, 64, 1), pool=None)  # (B, 64, 64) patch tokens
    ```
    """
    size = _square(inputs, "ssl_vit")
    p = resolve_patch_size(size, patch_size, 8)
    if pool == "default":
        pool = "cls" if cls_token else "mean"
    return token_encoder_features(inputs, patch_tokenizer(p, dim),
                                  TransformerEncoder(dim, depth, num_heads, mlp_ratio, name="transformer"),
                                  pool=pool, class_token=ClassToken(name="cls_token") if cls_token else None)
