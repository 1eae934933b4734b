"""lensml.layers: reusable Keras layers that are not physics.

- D4-equivariant convolutions (:mod:`lensml.layers.d4`): ``D4LiftingConv2D``,
  ``D4GroupConv2D``, ``D4GroupPooling``, ``D4BatchNormalization`` and the
  ``d4_transform`` / ``d4_transform_fields`` helpers (``D4Transform`` namespace).
- Tokenizers (:mod:`lensml.layers.tokens`, the one token stack of the supervised ViTs and the
  token trainers): ``PatchEmbedding`` (ViT's convolution or MAE's linear projection; learned, sin-cos
  or no positions), ``ShiftedPatchTokenization``, ``ConvTokenEmbedding``, ``ClassToken``,
  ``sincos_position_embedding``; ``PatchTokenizer`` loads token trainers saved by earlier versions.
- Input contract (:mod:`lensml.layers.normalization`): ``ImageNormalization`` (per-image
  min-max or standardisation inside a model) and ``normalize_images``, the one implementation.
- Attention (:mod:`lensml.layers.attention`): ``LocalitySelfAttention``, ``TransformerBlock``
  (the one transformer block: Keras ``MultiHeadAttention`` or LSA, both with ``attention_mask``),
  ``TransformerEncoder`` (a stack of them given a key mask: the token trainers' encoder),
  ``ClassAttention``, ``ClassAttentionBlock``, ``LayerScale``, ``ConvProjection``,
  ``ConvTransformerBlock``, ``MLP``.

All layers are registered (package "lensml"), have ``get_config`` and save to ``.keras``.
"""


from lensml._backend import check_backend as _check_backend

_check_backend()  # before Keras is imported: an unsupported backend is one clear error
from types import SimpleNamespace

from lensml.layers import d4
from lensml.layers.attention import (
    MLP,
    ClassAttention,
    ClassAttentionBlock,
    ConvProjection,
    ConvTransformerBlock,
    LayerScale,
    LocalitySelfAttention,
    TransformerBlock,
    TransformerEncoder,
)
from lensml.layers.d4 import (
    D4BatchNormalization,
    D4GroupConv2D,
    D4GroupPooling,
    D4LiftingConv2D,
    d4_permute_fields,
    d4_transform,
    d4_transform_fields,
)
from lensml.layers.normalization import NORMALIZATIONS, ImageNormalization, normalize_images
from lensml.layers.tokens import (
    ClassToken,
    ConvTokenEmbedding,
    PatchEmbedding,
    PatchTokenizer,
    ShiftedPatchTokenization,
    patch_tokenizer,
    sincos_position_embedding,
)

#: The D4 group helpers in one place: ``D4Transform.image(x, g)`` transforms plain images,
#: ``D4Transform.fields(x, g)`` D4 feature fields; ``D4Transform.ORDER == 8``.
D4Transform = SimpleNamespace(
    ORDER=d4.ORDER,
    image=d4_transform,
    fields=d4_transform_fields,
    permute=d4_permute_fields,
    inverse=d4.group_inverse,
    multiply=d4.group_multiply,
)

__all__ = [
    "D4BatchNormalization", "D4GroupConv2D", "D4GroupPooling", "D4LiftingConv2D", "D4Transform",
    "d4_transform", "d4_transform_fields", "d4_permute_fields",
    "PatchEmbedding", "PatchTokenizer", "ShiftedPatchTokenization", "ConvTokenEmbedding", "ClassToken",
    "sincos_position_embedding", "patch_tokenizer",
    "LocalitySelfAttention", "TransformerBlock", "TransformerEncoder", "ClassAttention", "ClassAttentionBlock",
    "LayerScale", "ConvProjection", "ConvTransformerBlock", "MLP",
    "ImageNormalization", "NORMALIZATIONS", "normalize_images",
]

from lensml import _keras_objects  # noqa: E402

_keras_objects.register_if_keras_loaded(finishing=__name__)  # see lensml._keras_objects
