"""Image -> token layers for vision transformers, lensml's one token stack: patch embeddings
(ViT's strided convolution; MAE's and I-JEPA's linear projection of flattened patches), shifted
patch tokenization (ViTSD, Lensformer, LensPINN), convolutional token embedding (CvT), class token,
learned or fixed 2-D sine-cosine position embeddings, and ``extract_patches`` / ``unpatchify``."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

#: What a tokenizer adds to its tokens for their positions: learned (ViT), fixed 2-D sin-cos
#: (MAE, I-JEPA) or nothing.
POSITION_EMBEDDINGS = ("learned", "sincos", None)


def sincos_position_embedding(grid_h: int, grid_w: int, dim: int) -> np.ndarray:
    """Fixed 2-D sine-cosine position embedding (MAE, He et al. 2022): a quarter of the channels
    each for sin and cos of the row and of the column index at geometric frequencies.
    Returns numpy ``(grid_h * grid_w, dim)``, row-major over the grid; ``dim`` divisible by 4."""
    if dim % 4:
        raise ValueError(f"dim={dim}: the 2-D sin-cos position embedding needs dim divisible by 4")
    quarter = dim // 4
    omega = 1.0 / 10000 ** (np.arange(quarter, dtype=np.float64) / quarter)
    rows, cols = np.meshgrid(np.arange(grid_h), np.arange(grid_w), indexing="ij")
    parts = []
    for pos in (rows.reshape(-1), cols.reshape(-1)):
        angles = pos[:, None] * omega[None, :]
        parts += [np.sin(angles), np.cos(angles)]
    return np.concatenate(parts, axis=1).astype("float32")


def _position_kind(value):
    """``position_embedding`` as one of POSITION_EMBEDDINGS (True: "learned", False: None)."""
    kind = {True: "learned", False: None}.get(value, value) if isinstance(value, bool) else value
    if kind not in POSITION_EMBEDDINGS:
        raise ValueError(f"position_embedding={value!r}: expected one of {POSITION_EMBEDDINGS} (or True / False)")
    return kind


def _check_patch_size(name: str, image_size, patch_size: int) -> None:
    for axis, size in zip(("height", "width"), image_size):
        if size is None:
            raise ValueError(f"{name}: image {axis} must be known to tokenize into patches")
        if size % patch_size:
            raise ValueError(
                f"{name}: image {axis} {size} is not divisible by patch_size={patch_size}; "
                f"use an image size that is a multiple of {patch_size} or another patch size"
            )


class _TokenizerBase(keras.layers.Layer):
    """Adds an optional class token and position embeddings (learned, fixed sin-cos or none) to
    patch tokens."""

    def __init__(self, patch_size: int, embed_dim: int, cls_token: bool = True,
                 position_embedding="learned", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(patch_size, int) or patch_size < 1:
            raise ValueError(f"patch_size={patch_size!r}: expected a positive integer")
        if not isinstance(embed_dim, int) or embed_dim < 1:
            raise ValueError(f"embed_dim={embed_dim!r}: expected a positive integer")
        self.patch_size = patch_size
        self.embed_dim = embed_dim
        self.cls_token = bool(cls_token)
        self.position_embedding = _position_kind(position_embedding)
        if self.position_embedding == "sincos" and self.cls_token:
            raise ValueError("position_embedding='sincos' places patches only: use cls_token=False "
                             "(MAE and I-JEPA prepend their class token after the positions)")

    def _build_extras(self, grid: tuple[int, int]):
        self.grid = tuple(grid)
        self.num_patches = num_patches = grid[0] * grid[1]
        if self.cls_token:
            self.cls = self.add_weight(
                name="cls_token", shape=(1, 1, self.embed_dim),
                initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            )
        if self.position_embedding == "sincos":  # fixed: a constant, not a weight
            self._sincos = sincos_position_embedding(grid[0], grid[1], self.embed_dim)[None]
        elif self.position_embedding == "learned":
            self.pos = self.add_weight(
                name="position_embedding",
                shape=(1, num_patches + int(self.cls_token), self.embed_dim),
                initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            )

    def _add_extras(self, tokens):
        if self.cls_token:
            batch = ops.shape(tokens)[0]
            cls = ops.broadcast_to(ops.cast(self.cls, tokens.dtype), (batch, 1, self.embed_dim))
            tokens = ops.concatenate([cls, tokens], axis=1)
        if self.position_embedding == "sincos":
            tokens = tokens + ops.convert_to_tensor(self._sincos, dtype=tokens.dtype)
        elif self.position_embedding == "learned":
            tokens = tokens + ops.cast(self.pos, tokens.dtype)
        return tokens

    def compute_output_shape(self, input_shape):
        n = (input_shape[1] // self.patch_size) * (input_shape[2] // self.patch_size)
        return (input_shape[0], n + int(self.cls_token), self.embed_dim)

    def get_config(self):
        config = super().get_config()
        config.update(patch_size=self.patch_size, embed_dim=self.embed_dim,
                      cls_token=self.cls_token, position_embedding=self.position_embedding)
        return config


def extract_patches(images, patch_size: int):
    """Non-overlapping patches, row-major over the patch grid, each flattened (row, column,
    channel) - ``keras.ops.image.extract_patches`` with the grid flattened.

    Args:
      images: ``(batch, height, width, channels)``; height and width divisible by ``patch_size``.

    Returns:
      ``(batch, (height // p) * (width // p), p * p * channels)``.
    """
    _, h, w, c = images.shape
    p = int(patch_size)
    if h % p or w % p:
        raise ValueError(f"images of size {h}x{w} are not divisible by patch_size={p}")
    patches = ops.image.extract_patches(images, p, strides=p, padding="valid", data_format="channels_last")
    return ops.reshape(patches, (-1, (h // p) * (w // p), p * p * c))


def unpatchify(patches, patch_size: int, height: int, width: int, channels: int = 1):
    """Inverse of :func:`extract_patches`: ``(batch, N, p * p * C)`` -> ``(batch, height, width, C)``."""
    p = patch_size
    x = ops.reshape(patches, (-1, height // p, width // p, p, p, channels))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, height, width, channels))


#: How a patch embedding projects a patch to a token: ViT's strided convolution, or a Dense layer
#: on the flattened patch (MAE's and I-JEPA's; the same linear map, another weight layout and
#: initialisation).
PROJECTIONS = ("conv", "linear")


@keras.saving.register_keras_serializable(package="lensml")
class PatchEmbedding(_TokenizerBase):
    """Patch embedding: a linear projection of non-overlapping patches, optional class token,
    position embeddings. ViT's is ``PatchEmbedding(p, D)`` (strided convolution, class token,
    learned positions); MAE's and I-JEPA's is ``PatchEmbedding(p, D, projection="linear",
    cls_token=False, position_embedding="sincos")``.

    Args:
      patch_size: patch side in pixels; image sizes must be divisible by it.
      embed_dim: token dimension D.
      projection: "conv" (a strided ``Conv2D``) or "linear" (a ``Dense`` on the flattened patch).
      cls_token: prepend a learned class token.
      position_embedding: "learned" (or True), "sincos" (fixed 2-D sine-cosine, patches only) or
        None (or False).

    Call:
      images ``(batch, height, width, channels)`` -> tokens ``(batch, N [+1], D)`` with
      ``N = (height / p) * (width / p)``, row-major over the patch grid.

    Example:

    ```python
    import numpy as np
    from lensml.layers import PatchEmbedding

    images = np.random.rand(2, 64, 64, 1).astype("float32")
    tokens = PatchEmbedding(patch_size=8, embed_dim=64)(images)  # (2, 65, 64): a class token + 8 x 8 patches
    mae_tokens = PatchEmbedding(8, 64, projection="linear", cls_token=False,
                                position_embedding="sincos")(images)  # (2, 64, 64), fixed positions
    ```
    """

    def __init__(self, patch_size: int, embed_dim: int, projection: str = "conv", **kwargs):
        super().__init__(patch_size, embed_dim, **kwargs)
        if projection not in PROJECTIONS:
            raise ValueError(f"projection={projection!r}: expected one of {PROJECTIONS}")
        self.projection_kind = projection
        self.projection = (layers.Conv2D(embed_dim, patch_size, strides=patch_size, padding="valid", name="projection")
                           if projection == "conv" else layers.Dense(embed_dim, name="projection"))

    def build(self, input_shape):
        _check_patch_size(type(self).__name__, input_shape[1:3], self.patch_size)
        if self.projection_kind == "conv":
            self.projection.build(input_shape)
        else:
            self.projection.build((None, None, self.patch_size ** 2 * input_shape[-1]))
        self._build_extras((input_shape[1] // self.patch_size, input_shape[2] // self.patch_size))

    def call(self, images):
        if self.projection_kind == "conv":
            tokens = ops.reshape(self.projection(images), (-1, self.num_patches, self.embed_dim))
        else:
            tokens = self.projection(extract_patches(images, self.patch_size))
        return self._add_extras(tokens)

    def get_config(self):
        return {**super().get_config(), "projection": self.projection_kind}


def patch_tokenizer(patch_size: int = 8, dim: int = 64, name: str = "tokenizer") -> PatchEmbedding:
    """The token trainers' tokenizer (MAE, I-JEPA, the ``ssl_vit`` model): images ``(B, H, W, C)``
    -> tokens ``(B, N, dim)``, a linear projection of each flattened patch plus fixed 2-D sin-cos
    positions, no class token: a :class:`PatchEmbedding` configuration."""
    return PatchEmbedding(int(patch_size), int(dim), projection="linear", cls_token=False,
                          position_embedding="sincos", name=name)


@keras.saving.register_keras_serializable(package="lensml")
class PatchTokenizer(PatchEmbedding):
    """The token trainers' tokenizer before it became a :class:`PatchEmbedding` configuration: kept
    so that MAE / I-JEPA / Lens-JEPA trainers and encoders saved by earlier lensml versions load
    with their weights. New code builds ``PatchEmbedding(p, D, projection="linear",
    cls_token=False, position_embedding="sincos")``.

    Example:

    ```python
    import numpy as np
    from lensml.layers import PatchEmbedding, PatchTokenizer

    images = np.random.rand(2, 64, 64, 1).astype("float32")
    old = PatchTokenizer(patch_size=8, dim=64)  # the same layer as
    new = PatchEmbedding(8, 64, projection="linear", cls_token=False, position_embedding="sincos")
    ```
    """

    def __init__(self, patch_size=8, dim=64, **kwargs):
        for key in ("embed_dim", "projection", "cls_token", "position_embedding"):
            kwargs.pop(key, None)  # fixed by this layer
        super().__init__(int(patch_size), int(dim), projection="linear", cls_token=False,
                         position_embedding="sincos", **kwargs)

    @property
    def proj(self):
        # Keras saves a layer's parts under their attribute names, in sorted order, each once: the
        # earlier versions' "proj" sorts before "projection", so files saved then and now load alike.
        return self.projection

    def get_config(self):
        config = super().get_config()
        for key in ("embed_dim", "projection", "cls_token", "position_embedding"):
            config.pop(key)
        return {**config, "dim": self.embed_dim}


_SHIFTS = {
    "diagonal": ((-1, -1), (-1, 1), (1, -1), (1, 1)),
    "rectangular": ((-1, 0), (1, 0), (0, -1), (0, 1)),
}


def shift_image(images, dy: int, dx: int):
    """Translate images by (dy, dx) pixels with zero fill. ``images``: (batch, H, W, C)."""
    h, w = images.shape[1], images.shape[2]
    pad = ((0, 0), (max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0))
    x = ops.pad(images, pad)
    y0, x0 = max(-dy, 0), max(-dx, 0)
    return x[:, y0:y0 + h, x0:x0 + w, :]


@keras.saving.register_keras_serializable(package="lensml")
class ShiftedPatchTokenization(_TokenizerBase):
    """Shifted Patch Tokenization (ViTSD; Lee et al. 2021), as used by Lensformer and LensPINN.

    The image and four copies shifted by half a patch (diagonally or along the axes) are
    stacked on the channel axis, cut into patches, (optionally) layer-normalised and
    projected to ``embed_dim``. Gives small-data transformers a wider receptive field per token.

    Args:
      patch_size: patch side in pixels; image sizes must be divisible by it.
      embed_dim: token dimension D.
      shift: "diagonal" or "rectangular".
      layer_norm: LayerNorm on the flattened patches before the projection (ViTSD does;
        LensPINN's encoder does not).
      cls_token, position_embedding: as PatchEmbedding.

    Call:
      images ``(batch, height, width, C)`` -> tokens ``(batch, N [+1], D)``.

    Example:

    ```python
    import numpy as np
    from lensml.layers import ShiftedPatchTokenization

    images = np.random.rand(2, 64, 64, 1).astype("float32")
    tokens = ShiftedPatchTokenization(patch_size=8, embed_dim=64)(images)  # (2, 65, 64)
    ```
    """

    def __init__(self, patch_size: int, embed_dim: int, shift: str = "diagonal",
                 layer_norm: bool = True, **kwargs):
        super().__init__(patch_size, embed_dim, **kwargs)
        if shift not in _SHIFTS:
            raise ValueError(f"shift={shift!r}: expected one of {sorted(_SHIFTS)}")
        self.shift = shift
        self.layer_norm = bool(layer_norm)
        self.norm = layers.LayerNormalization(epsilon=1e-6, name="norm") if self.layer_norm else None
        self.projection = layers.Dense(embed_dim, name="projection")

    def build(self, input_shape):
        _check_patch_size("ShiftedPatchTokenization", input_shape[1:3], self.patch_size)
        features = self.patch_size ** 2 * input_shape[-1] * 5
        if self.norm is not None:
            self.norm.build((None, None, features))
        self.projection.build((None, None, features))
        self._build_extras((input_shape[1] // self.patch_size, input_shape[2] // self.patch_size))

    def call(self, images):
        s = max(self.patch_size // 2, 1)
        shifted = [shift_image(images, dy * s, dx * s) for dy, dx in _SHIFTS[self.shift]]
        x = ops.concatenate([images] + shifted, axis=-1)
        x = extract_patches(x, self.patch_size)
        if self.norm is not None:
            x = self.norm(x)
        return self._add_extras(self.projection(x))

    def get_config(self):
        return {**super().get_config(), "shift": self.shift, "layer_norm": self.layer_norm}


@keras.saving.register_keras_serializable(package="lensml")
class ConvTokenEmbedding(keras.layers.Layer):
    """CvT convolutional token embedding: overlapping strided conv + LayerNorm.

    Args:
      embed_dim: output channels D.
      kernel_size, strides: of the convolution ("same" padding).

    Call:
      maps ``(batch, H, W, C)`` -> token maps ``(batch, ceil(H / strides), ceil(W / strides), D)``
      (kept spatial: CvT's convolutional projections need the layout).

    Example:

    ```python
    import numpy as np
    from lensml.layers import ConvTokenEmbedding

    images = np.random.rand(2, 64, 64, 1).astype("float32")
    token_map = ConvTokenEmbedding(embed_dim=64, kernel_size=7, strides=4)(images)  # (2, 16, 16, 64)
    ```
    """

    def __init__(self, embed_dim: int, kernel_size: int = 7, strides: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = int(embed_dim)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)
        self.conv = layers.Conv2D(self.embed_dim, self.kernel_size, strides=self.strides,
                                  padding="same", name="conv")
        self.norm = layers.LayerNormalization(epsilon=1e-5, name="norm")

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.norm.build(self.conv.compute_output_shape(input_shape))

    def call(self, inputs):
        return self.norm(self.conv(inputs))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "embed_dim": self.embed_dim,
                "kernel_size": self.kernel_size, "strides": self.strides}


@keras.saving.register_keras_serializable(package="lensml")
class ClassToken(keras.layers.Layer):
    """A learned class token broadcast over the batch (CaiT inserts it after the patch blocks).

    Call: tokens ``(B, N, D)`` -> class token ``(B, 1, D)``.

    Example:

    ```python
    import keras
    from lensml.layers import ClassToken

    tokens = keras.random.normal((2, 16, 64))
    cls = ClassToken()(tokens)                            # (2, 1, 64), learned
    tokens = keras.ops.concatenate([cls, tokens], axis=1)  # (2, 17, 64)
    ```
    """

    def build(self, input_shape):
        self.token = self.add_weight(name="token", shape=(1, 1, input_shape[-1]),
                                     initializer=keras.initializers.TruncatedNormal(stddev=0.02))

    def call(self, tokens):
        batch = ops.shape(tokens)[0]
        return ops.broadcast_to(ops.cast(self.token, tokens.dtype), (batch, 1, tokens.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, input_shape[-1])
