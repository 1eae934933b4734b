"""Vision transformers: ViT (Dosovitskiy et al.) and ViTSD (ViT for small datasets: shifted
patch tokenization + locality self-attention, Lee et al. 2021)."""

from __future__ import annotations

from keras import layers

from lensml.layers import PatchEmbedding, ShiftedPatchTokenization, TransformerBlock
from lensml.models.common import TakeToken
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
