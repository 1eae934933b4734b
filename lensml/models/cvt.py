"""CvT (Wu et al. 2021): convolutional token embeddings between stages and convolutional
projections inside attention, so a transformer gets convolutional locality."""

from __future__ import annotations

from keras import layers

from lensml.layers import ConvTokenEmbedding, ConvTransformerBlock
from lensml.models import widths
from lensml.models.registry import register


@register("cvt", tiny={"embed_dims": (8, 16), "depths": (1, 1), "num_heads": (1, 2)}, width=widths.cvt, cpu_scale={"options": {"embed_dims": [32, 64, 128], "depths": [1, 1, 2], "num_heads": [1, 2, 4]}, "epochs": 6, "steps_per_epoch": 200}, description="CvT (convolutional token embedding + convolutional projections)")
def cvt(inputs, *, embed_dims=(64, 192, 384), depths=(1, 2, 6), num_heads=(1, 3, 6),
        mlp_ratio: float = 4.0, dropout: float = 0.0):
    """CvT features: mean of the last stage's tokens ``(batch, embed_dims[-1])``.

    Stage 1 embeds with a 7x7 stride-4 conv, later stages with 3x3 stride-2 convs
    (64x64 -> 16 -> 8 -> 4 tokens per side). Keys/values are subsampled by 2 while the
    token map is larger than 2x2.

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("cvt", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("cvt", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("cvt")["cpu"])  # the laptop size
    ```
    """
    if not (len(embed_dims) == len(depths) == len(num_heads)):
        raise ValueError(
            f"embed_dims={embed_dims!r}, depths={depths!r}, num_heads={num_heads!r}: "
            "expected one value per stage in each"
        )
    x = inputs
    for stage, (dim, depth, heads) in enumerate(zip(embed_dims, depths, num_heads)):
        kernel, strides = (7, 4) if stage == 0 else (3, 2)
        x = ConvTokenEmbedding(int(dim), kernel, strides, name=f"stage{stage}_embedding")(x)
        kv = 2 if min(x.shape[1], x.shape[2]) > 2 else 1
        for i in range(int(depth)):
            x = ConvTransformerBlock(int(heads), mlp_ratio, kv_strides=kv, dropout=dropout,
                                     name=f"stage{stage}_block{i}")(x)
    x = layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(x)
    return layers.GlobalAveragePooling2D(name="avg_pool")(x)
