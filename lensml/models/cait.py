"""CaiT (Touvron et al. 2021): self-attention blocks with LayerScale on patch tokens, then
class-attention blocks that read the patches into a class token inserted late."""

from __future__ import annotations

from keras import layers

from lensml.layers import ClassAttentionBlock, ClassToken, PatchEmbedding, TransformerBlock
from lensml.models.common import TakeToken
from lensml.models import widths
from lensml.models.registry import SMALL_TRANSFORMER, TINY_TRANSFORMER, register
from lensml.models.vit import _square, resolve_patch_size


@register("cait", tiny={**TINY_TRANSFORMER, "class_depth": 1}, width=widths.transformer, cpu_scale={"options": {**SMALL_TRANSFORMER, "class_depth": 1}}, description="CaiT (LayerScale self-attention + class-attention blocks)")
def cait(inputs, *, patch_size=None, embed_dim: int = 384, depth: int = 6, class_depth: int = 2,
         num_heads: int = 8, mlp_dim: int = 1536, dropout: float = 0.1, layer_scale: float = 0.1):
    """CaiT features: class token ``(batch, embed_dim)``.

    ``patch_size=None`` picks 8 tokens per side. ``layer_scale`` initialises LayerScale
    (CaiT uses 0.1 for shallow models).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("cait", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("cait", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("cait")["cpu"])  # the laptop size
    ```
    """
    size = _square(inputs, "cait")
    p = resolve_patch_size(size, patch_size, 8)
    x = PatchEmbedding(p, embed_dim, cls_token=False, name="patch_embedding")(inputs)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(depth):
        x = TransformerBlock(num_heads, mlp_dim, attention="mha", dropout=dropout,
                             layer_scale=layer_scale, name=f"block{i}")(x)
    cls = ClassToken(name="class_token")(x)
    for i in range(class_depth):
        cls = ClassAttentionBlock(num_heads, mlp_dim, dropout=dropout, layer_scale=layer_scale,
                                  name=f"class_block{i}")([cls, x])
    cls = layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")(cls)
    return TakeToken(0, name="cls_features")(cls)
