"""Width rules: each architecture at a width multiplier ``w`` (1 = its published size).

A model registers ``width=`` one of these (``lensml.models.registry.register``);
``lensml.models.budget`` searches ``w`` so that rows of a benchmark table have one parameter
budget. Depths stay as published: only channel and token widths change, rounded to what the
layer needs (a multiple of the attention heads, at least a few channels).
"""

from __future__ import annotations

import math


def channels(base: float, w: float, *, multiple: int = 1, minimum: int = 1) -> int:
    """``base * w`` rounded to a multiple of ``multiple`` and at least ``minimum``."""
    return max(minimum, multiple * round(base * w / multiple))


def resnet(w: float) -> dict:
    """ResNet: the stem's 64 channels (every stage doubles them) times ``w``."""
    return {"width": channels(64, w, minimum=4)}


def transformer(w: float, *, embed_dim: int = 384) -> dict:
    """ViT / ViTSD / CaiT: token width ``embed_dim * w`` with 8 heads from 256 up, 4 below
    (head width 8 or more), MLP 4x the token width."""
    heads = 8 if embed_dim * w >= 256 else 4
    dim = channels(embed_dim, w, multiple=heads, minimum=4 * heads)
    return {"embed_dim": dim, "num_heads": heads, "mlp_dim": 4 * dim}


def token_vit(w: float, *, num_heads: int = 4) -> dict:
    """The token trainers' ViT (``ssl_vit``; MAE's, I-JEPA's and Lens-JEPA's encoder): token width
    ``64 * w``, a multiple of both the sin-cos positions' four parts and ``num_heads`` (4, ssl_vit's
    default; a trainer sized at its config's head count passes its own), at least two such
    multiples; MLP ratio, heads and depth kept."""
    multiple = math.lcm(4, int(num_heads))
    return {"dim": channels(64, w, multiple=multiple, minimum=2 * multiple)}


def cvt(w: float) -> dict:
    """CvT: every stage's token width (64, 192, 384) times ``w``, a multiple of its heads (1, 3, 6)."""
    return {"embed_dims": [channels(64, w, minimum=4), channels(192, w, multiple=3, minimum=6),
                           channels(384, w, multiple=6, minimum=12)]}


def efficientnet(w: float) -> dict:
    """EfficientNet: Keras's ``width_coefficient`` (channels rounded to multiples of 8)."""
    return {"width_coefficient": round(w, 4)}


def mobilenet(w: float) -> dict:
    """MobileNetV3: Keras's ``alpha``."""
    return {"alpha": round(w, 4)}


def lens_transformer(w: float) -> dict:
    """Lensformer and LensPINN's encoder: 384-d tokens with 16 heads of key width 64, each times
    ``w`` (tokens a multiple of 16, keys at least 8 wide)."""
    return {"embed_dim": channels(384, w, multiple=16, minimum=16), "key_dim": channels(64, w, minimum=8)}


def lenspinn_small(w: float) -> dict:
    """LensPINN small: the encoder (``lens_transformer``), its MobileNetV3-Small decoders
    (alpha 0.5) and their 1000 output features, each times ``w``."""
    return {**lens_transformer(w), "decoder_features": channels(1000, w, minimum=16),
            "decoder_options": {"alpha": round(0.5 * w, 4)}}


def lenspinn_large(w: float) -> dict:
    """LensPINN large: the encoder, its EfficientNetB0 decoders and their 1000 output features,
    each times ``w``."""
    return {**lens_transformer(w), "decoder_features": channels(1000, w, minimum=16),
            "decoder_options": {"width_coefficient": round(w, 4)}}


def d4lenspinn(w: float) -> dict:
    """D4LensPINN / VanillaLensPINN: the U-Net's fields per level (8, 16, 32, 48) and the
    EfficientNetV2-S head times ``w``."""
    return {"unet_fields": [channels(f, w) for f in (8, 16, 32, 48)], "head_options": {"width_coefficient": round(w, 4)}}
