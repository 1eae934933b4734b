"""Attention layers and transformer blocks: locality self-attention (ViTSD), class attention
and LayerScale (CaiT), convolutional projection attention (CvT), pre-norm transformer block.

Plain multi-head attention is Keras's ``MultiHeadAttention`` (its ``attention_mask`` and its
fused dot-product attention on accelerators); ``LocalitySelfAttention`` is the one thing Keras
has no layer for (a learned temperature and a masked diagonal) and takes the same
``attention_mask`` argument. Every transformer in lensml, the supervised ViTs and the token
encoders of MAE / I-JEPA / Lens-JEPA (``TransformerEncoder``, which takes a key mask), is a stack of
``TransformerBlock``.
"""

from __future__ import annotations

import keras
from keras import layers, ops


def _split_heads(x, num_heads: int):
    # (B, N, H*d) -> (B, H, N, d)
    n, dim = x.shape[1], x.shape[2]
    x = ops.reshape(x, (-1, n if n is not None else ops.shape(x)[1], num_heads, dim // num_heads))
    return ops.transpose(x, (0, 2, 1, 3))


def _merge_heads(x):
    # (B, H, N, d) -> (B, N, H*d)
    x = ops.transpose(x, (0, 2, 1, 3))
    h, d = x.shape[2], x.shape[3]
    return ops.reshape(x, (-1, x.shape[1] if x.shape[1] is not None else ops.shape(x)[1], h * d))


def key_mask_to_attention_mask(key_mask):
    """A key mask (B, Nk), 1 where a token may be attended to, as an ``attention_mask``
    (B, 1, Nk) bool that broadcasts over the queries (Keras ``MultiHeadAttention`` semantics)."""
    return None if key_mask is None else ops.cast(key_mask, "bool")[:, None, :]


def plain_attention(num_heads: int, key_dim: int, dropout: float = 0.0, name: str = "attention"):
    """Keras ``MultiHeadAttention``, lensml's plain attention (ViT, CaiT, CvT, the SSL encoders)."""
    return layers.MultiHeadAttention(num_heads, key_dim, dropout=dropout, name=name)


def _check_heads(embed_dim: int, num_heads: int) -> None:
    if num_heads < 1 or embed_dim % num_heads:
        raise ValueError(
            f"num_heads={num_heads!r}: expected a positive divisor of the token dimension {embed_dim}"
        )


@keras.saving.register_keras_serializable(package="lensml")
class MLP(keras.layers.Layer):
    """Two-layer perceptron ``Dense(hidden) -> activation -> dropout -> Dense(out) -> dropout``.

    Args:
      hidden_dim: hidden width; output_dim: output width (None = input width).

    Call: ``(..., D)`` -> ``(..., output_dim)``.

    Example:

    ```python
    import keras
    from lensml.layers import MLP

    out = MLP(hidden_dim=128, output_dim=64)(keras.random.normal((2, 16, 64)))  # (2, 16, 64)
    ```
    """

    def __init__(self, hidden_dim: int, output_dim: int | None = None, activation="gelu",
                 dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.output_dim = None if output_dim is None else int(output_dim)
        self.activation = activation
        self.dropout = float(dropout)
        self.fc1 = layers.Dense(self.hidden_dim, activation=activation, name="fc1")
        self.drop = layers.Dropout(self.dropout)
        self.fc2 = None

    def build(self, input_shape):
        out = self.output_dim or input_shape[-1]
        self.fc1.build(input_shape)
        self.fc2 = layers.Dense(out, name="fc2")
        self.fc2.build(tuple(input_shape[:-1]) + (self.hidden_dim,))

    def call(self, x, training=None):
        x = self.drop(self.fc1(x), training=training)
        return self.drop(self.fc2(x), training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim or input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim, "output_dim": self.output_dim,
                "activation": self.activation, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="lensml")
class LocalitySelfAttention(keras.layers.Layer):
    """Multi-head attention with ViTSD's locality inductive bias (Lee et al. 2021).

    Two changes to plain attention: a learnable temperature per head (initialised to
    ``1/sqrt(head_dim)``) and diagonal masking (a token may not attend to itself), which
    sharpen the attention distribution of small-data transformers. Both can be switched off,
    giving ordinary multi-head attention.

    Args:
      num_heads: number of heads; ``key_dim``: per-head width (default D / num_heads).
      dropout: attention dropout rate.
      diagonal_mask, learnable_temperature: the two LSA changes.

    Call:
      ``query (B, Nq, D)``, optional ``key (B, Nk, D)`` and ``value (B, Nk, Dv)`` (default: the
      query, i.e. self-attention) -> ``(B, Nq, D)``. The diagonal mask needs ``Nq == Nk``.
      ``attention_mask``: bool (B, Nq, Nk) or broadcastable (e.g. (B, 1, Nk)), True where a
      query may attend to a key, as in Keras ``MultiHeadAttention``; a query with every key
      masked stays finite (uniform weights).

    Example:

    ```python
    import keras
    from lensml.layers import LocalitySelfAttention

    tokens = keras.random.normal((2, 16, 64))
    out = LocalitySelfAttention(num_heads=4, key_dim=16)(tokens, tokens)  # (2, 16, 64)
    ```
    """

    def __init__(self, num_heads: int, key_dim: int | None = None, dropout: float = 0.0,
                 diagonal_mask: bool = True, learnable_temperature: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.key_dim = None if key_dim is None else int(key_dim)
        self.dropout = float(dropout)
        self.diagonal_mask = bool(diagonal_mask)
        self.learnable_temperature = bool(learnable_temperature)
        self.drop = layers.Dropout(self.dropout)

    def build(self, query_shape, key_shape=None, value_shape=None):
        dim = query_shape[-1]
        head = self.key_dim or dim // self.num_heads
        if self.key_dim is None:
            _check_heads(dim, self.num_heads)
        self.head_dim = head
        inner = head * self.num_heads
        key_shape = key_shape or query_shape
        value_shape = value_shape or key_shape
        self.q = layers.Dense(inner, use_bias=False, name="query")
        self.k = layers.Dense(inner, use_bias=False, name="key")
        self.v = layers.Dense(inner, use_bias=False, name="value")
        self.out = layers.Dense(dim, name="output")
        self.q.build(query_shape)
        self.k.build(key_shape)
        self.v.build(value_shape)
        self.out.build(tuple(query_shape[:-1]) + (inner,))
        self.temperature = self.add_weight(
            name="temperature", shape=(self.num_heads,),
            initializer=keras.initializers.Constant(head ** -0.5),
            trainable=self.learnable_temperature,
        )

    def call(self, query, key=None, value=None, attention_mask=None, training=None):
        key = query if key is None else key
        value = key if value is None else value
        q = _split_heads(self.q(query), self.num_heads)
        k = _split_heads(self.k(key), self.num_heads)
        v = _split_heads(self.v(value), self.num_heads)
        scale = ops.cast(self.temperature, q.dtype)[None, :, None, None]
        logits = ops.einsum("bhqd,bhkd->bhqk", q, k) * scale
        big = -1e9 if logits.dtype == "float32" else -3e4  # finite: a fully masked row stays finite
        if self.diagonal_mask:
            nq, nk = query.shape[1], key.shape[1]
            if nq is not None and nk is not None and nq != nk:
                raise ValueError(
                    f"LocalitySelfAttention: diagonal mask needs as many queries ({nq}) as keys ({nk})"
                )
            n = logits.shape[-1] if logits.shape[-1] is not None else ops.shape(logits)[-1]
            eye = ops.eye(n, dtype="bool")
            logits = ops.where(eye[None, None], ops.cast(big, logits.dtype), logits)
        if attention_mask is not None:  # (B, Nq, Nk) -> (B, 1, Nq, Nk): the same for every head
            allowed = ops.expand_dims(ops.cast(attention_mask, "bool"), 1)
            logits = ops.where(allowed, logits, ops.cast(big, logits.dtype))
        weights = self.drop(ops.softmax(logits, axis=-1), training=training)
        out = _merge_heads(ops.einsum("bhqk,bhkd->bhqd", weights, v))
        return self.out(out)

    def compute_output_shape(self, query_shape, key_shape=None, value_shape=None, attention_mask_shape=None):
        return query_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "dropout": self.dropout, "diagonal_mask": self.diagonal_mask,
                "learnable_temperature": self.learnable_temperature}


@keras.saving.register_keras_serializable(package="lensml")
class LayerScale(keras.layers.Layer):
    """CaiT LayerScale: multiply by a learned per-channel scale, initialised small.

    Args:
      init_value: initial scale (CaiT: 0.1 up to depth 18, 1e-5 for deeper).

    Call: ``(..., D)`` -> same shape.

    Example:

    ```python
    import keras
    from lensml.layers import LayerScale

    out = LayerScale(init_value=0.1)(keras.random.normal((2, 16, 64)))  # per-channel scale, (2, 16, 64)
    ```
    """

    def __init__(self, init_value: float = 1e-1, **kwargs):
        super().__init__(**kwargs)
        self.init_value = float(init_value)

    def build(self, input_shape):
        self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],),
                                     initializer=keras.initializers.Constant(self.init_value))

    def call(self, x):
        return x * ops.cast(self.gamma, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value}


@keras.saving.register_keras_serializable(package="lensml")
class ClassAttention(keras.layers.Layer):
    """CaiT class attention: only the class token (position 0) queries; keys and values are
    the class token and all patch tokens.

    Args:
      num_heads: number of heads; dropout: attention dropout.

    Call: tokens ``(B, 1 + N, D)`` (class token first) -> updated class token ``(B, 1, D)``.

    Example:

    ```python
    import keras
    from lensml.layers import ClassAttention

    tokens = keras.random.normal((2, 17, 64))       # class token first
    cls = ClassAttention(num_heads=4)(tokens)       # (2, 1, 64)
    ```
    """

    def __init__(self, num_heads: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.attention = None

    def build(self, input_shape):
        _check_heads(input_shape[-1], self.num_heads)
        self.attention = plain_attention(self.num_heads, input_shape[-1] // self.num_heads, self.dropout)
        self.attention.build((input_shape[0], 1, input_shape[-1]), input_shape, input_shape)

    def call(self, tokens, training=None):
        return self.attention(tokens[:, :1], tokens, tokens, training=training)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="lensml")
class TransformerBlock(keras.layers.Layer):
    """Pre-norm transformer block: ``x + A(LN(x))`` then ``x + MLP(LN(x))``.

    Args:
      num_heads: attention heads; mlp_dim: MLP hidden width.
      attention: "mha" (plain multi-head attention) or "lsa" (locality self-attention).
      dropout: dropout in the attention and MLP; activation: MLP activation.
      layer_scale: None, or the LayerScale init value (CaiT) for both branches.
      key_dim: per-head width (default D / num_heads; vit-pytorch style models use 64).

    Call:
      ``x (B, N, D)`` -> ``(B, N, D)`` (self-attention), or ``[x, context]`` with
      ``context (B, N, D)``: queries and keys come from ``LN(context)`` and values from
      ``LN(x)`` (Lensformer's decoder: image-keyed, source-valued attention).
      ``attention_mask``: bool (B, N, N) or broadcastable, True where a token may attend to
      another (Keras ``MultiHeadAttention`` semantics; ``key_mask_to_attention_mask`` makes one
      from a (B, N) key mask).

    Example:

    ```python
    import keras
    from lensml.layers import TransformerBlock

    tokens = keras.random.normal((2, 16, 64))
    out = TransformerBlock(num_heads=4, mlp_dim=128)(tokens)                   # ViT's block
    out = TransformerBlock(num_heads=4, mlp_dim=128, attention="lsa")(tokens)  # ViTSD's (LSA)
    ```
    """

    def __init__(self, num_heads: int, mlp_dim: int, attention: str = "mha", dropout: float = 0.0,
                 activation="gelu", layer_scale: float | None = None, key_dim: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if attention not in ("mha", "lsa"):
            raise ValueError(f"attention={attention!r}: expected 'mha' or 'lsa'")
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.attention_type = attention
        self.dropout = float(dropout)
        self.activation = activation
        self.layer_scale = None if layer_scale is None else float(layer_scale)
        self.key_dim = None if key_dim is None else int(key_dim)
        lsa = attention == "lsa"
        self.norm1 = layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.norm_context = layers.LayerNormalization(epsilon=1e-6, name="norm_context")
        self.norm2 = layers.LayerNormalization(epsilon=1e-6, name="norm2")
        self.attention = (LocalitySelfAttention(num_heads, key_dim=self.key_dim, dropout=dropout, name="attention")
                          if lsa else None)  # plain attention: built once the width is known
        self.mlp = MLP(mlp_dim, activation=activation, dropout=dropout, name="mlp")
        self.drop = layers.Dropout(self.dropout)
        if self.layer_scale is not None:
            self.scale1 = LayerScale(self.layer_scale, name="scale1")
            self.scale2 = LayerScale(self.layer_scale, name="scale2")

    def build(self, input_shape):
        cross = isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple))
        shape = tuple(input_shape[0]) if cross else tuple(input_shape)
        if self.key_dim is None:
            _check_heads(shape[-1], self.num_heads)
        for layer in (self.norm1, self.norm2, self.mlp):
            layer.build(shape)
        if cross:  # the context norm has weights only where there is a context
            self.norm_context.build(shape)
        if self.attention is None:
            self.attention = plain_attention(self.num_heads, self.key_dim or shape[-1] // self.num_heads,
                                             self.dropout)
        self.attention.build(shape, shape, shape)
        if self.layer_scale is not None:
            self.scale1.build(shape)
            self.scale2.build(shape)

    def _attend(self, query, key, value, attention_mask, training):
        if isinstance(self.attention, LocalitySelfAttention):
            return self.attention(query, key, value, attention_mask=attention_mask, training=training)
        return self.attention(query, value, key=key, attention_mask=attention_mask, training=training)

    def call(self, inputs, attention_mask=None, training=None):
        if isinstance(inputs, (list, tuple)):
            x, context = inputs
            c = self.norm_context(context)
            h = self._attend(c, c, self.norm1(x), attention_mask, training)
        else:
            x = inputs
            h = self.norm1(x)
            h = self._attend(h, h, h, attention_mask, training)
        h = self.drop(h, training=training)
        if self.layer_scale is not None:
            h = self.scale1(h)
        x = x + h
        h = self.mlp(self.norm2(x), training=training)
        if self.layer_scale is not None:
            h = self.scale2(h)
        return x + h

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)):
            return tuple(input_shape[0])
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "mlp_dim": self.mlp_dim,
                "attention": self.attention_type, "dropout": self.dropout,
                "activation": self.activation, "layer_scale": self.layer_scale,
                "key_dim": self.key_dim}


@keras.saving.register_keras_serializable(package="lensml")
class TransformerEncoder(keras.layers.Layer):
    """Pre-norm transformer blocks over tokens (B, N, dim) -> (B, N, dim), with a final LayerNorm:
    ``depth`` ``lensml.layers.TransformerBlock`` (the blocks of the supervised ViTs), whose
    attention takes the key mask.

    call(tokens, key_mask=None): key_mask (B, N), 1 for tokens that may be attended to;
    masked tokens contribute nothing to the others (their own outputs are meaningless and
    ignored by the callers). locality: LSA (diagonal masked, learned temperature per head),
    else Keras ``MultiHeadAttention``. MLP width ``mlp_ratio * dim``. The token encoder of MAE,
    I-JEPA and Lens-JEPA (which hide tokens from it) and of the ``ssl_vit`` model.

    Example:

    ```python
    import numpy as np
    from lensml.layers import TransformerEncoder

    tokens = np.random.rand(2, 16, 32).astype("float32")
    key_mask = np.ones((2, 16), "float32")
    key_mask[:, 8:] = 0  # the last 8 tokens are hidden from every query
    out = TransformerEncoder(dim=32, depth=2, num_heads=4)(tokens, key_mask=key_mask)  # (2, 16, 32)
    ```
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


@keras.saving.register_keras_serializable(package="lensml")
class ClassAttentionBlock(keras.layers.Layer):
    """CaiT class-attention block with LayerScale on both branches.

    Call: ``[cls (B, 1, D), patches (B, N, D)]`` -> updated ``cls (B, 1, D)``.

    Example:

    ```python
    import keras
    from lensml.layers import ClassAttentionBlock

    cls, patches = keras.random.normal((2, 1, 64)), keras.random.normal((2, 16, 64))
    cls = ClassAttentionBlock(num_heads=4, mlp_dim=128)([cls, patches])  # (2, 1, 64)
    ```
    """

    def __init__(self, num_heads: int, mlp_dim: int, dropout: float = 0.0,
                 layer_scale: float = 1e-1, activation="gelu", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.dropout = float(dropout)
        self.layer_scale = float(layer_scale)
        self.activation = activation
        self.norm1 = layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.norm2 = layers.LayerNormalization(epsilon=1e-6, name="norm2")
        self.attention = ClassAttention(num_heads, dropout=dropout, name="class_attention")
        self.mlp = MLP(mlp_dim, activation=activation, dropout=dropout, name="mlp")
        self.scale1 = LayerScale(layer_scale, name="scale1")
        self.scale2 = LayerScale(layer_scale, name="scale2")

    def build(self, input_shape):
        cls_shape, patch_shape = (tuple(s) for s in input_shape)
        n = None if patch_shape[1] is None else patch_shape[1] + 1
        self.norm1.build((cls_shape[0], n, cls_shape[-1]))
        self.attention.build((cls_shape[0], n, cls_shape[-1]))
        for layer in (self.norm2, self.mlp, self.scale1, self.scale2):
            layer.build(cls_shape)

    def call(self, inputs, training=None):
        cls, patches = inputs
        tokens = self.norm1(ops.concatenate([cls, patches], axis=1))
        cls = cls + self.scale1(self.attention(tokens, training=training))
        return cls + self.scale2(self.mlp(self.norm2(cls), training=training))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "mlp_dim": self.mlp_dim,
                "dropout": self.dropout, "layer_scale": self.layer_scale, "activation": self.activation}


@keras.saving.register_keras_serializable(package="lensml")
class ConvProjection(keras.layers.Layer):
    """CvT convolutional projection: depthwise conv + batch norm on a token map, flattened.

    Args:
      kernel_size: depthwise kernel; strides: 1 for queries, 2 to subsample keys/values.

    Call: token map ``(B, H, W, D)`` -> tokens ``(B, H' * W', D)``.

    Example:

    ```python
    import keras
    from lensml.layers import ConvProjection

    token_map = keras.random.normal((2, 8, 8, 64))
    tokens = ConvProjection(kernel_size=3, strides=2)(token_map)  # (2, 16, 64)
    ```
    """

    def __init__(self, kernel_size: int = 3, strides: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)
        self.conv = layers.DepthwiseConv2D(self.kernel_size, strides=self.strides, padding="same",
                                           use_bias=False, name="depthwise")
        self.norm = layers.BatchNormalization(name="bn")

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.norm.build(self.conv.compute_output_shape(input_shape))

    def call(self, x, training=None):
        y = self.norm(self.conv(x), training=training)
        _, h, w, d = y.shape
        return ops.reshape(y, (-1, h * w, d))

    def compute_output_shape(self, input_shape):
        b, h, w, d = self.conv.compute_output_shape(input_shape)
        return (b, h * w, d)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides}


@keras.saving.register_keras_serializable(package="lensml")
class ConvTransformerBlock(keras.layers.Layer):
    """CvT block on a token map: convolutional projections for queries (stride 1) and
    keys/values (stride ``kv_strides``), multi-head attention, MLP; pre-norm residuals.

    Call: token map ``(B, H, W, D)`` -> ``(B, H, W, D)``.

    Example:

    ```python
    import keras
    from lensml.layers import ConvTransformerBlock

    token_map = keras.random.normal((2, 8, 8, 64))
    out = ConvTransformerBlock(num_heads=4)(token_map)  # (2, 8, 8, 64)
    ```
    """

    def __init__(self, num_heads: int, mlp_ratio: float = 4.0, kv_strides: int = 2,
                 dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.mlp_ratio = float(mlp_ratio)
        self.kv_strides = int(kv_strides)
        self.dropout = float(dropout)
        self.norm1 = layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.norm2 = layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.q_proj = ConvProjection(3, 1, name="q_proj")
        self.k_proj = ConvProjection(3, self.kv_strides, name="k_proj")
        self.v_proj = ConvProjection(3, self.kv_strides, name="v_proj")
        self.attention = None
        self.mlp = None

    def build(self, input_shape):
        b, h, w, d = input_shape
        _check_heads(d, self.num_heads)
        self.attention = plain_attention(self.num_heads, d // self.num_heads, self.dropout)
        self.norm1.build(input_shape)
        self.norm2.build((b, h * w, d))
        for proj in (self.q_proj, self.k_proj, self.v_proj):
            proj.build(input_shape)
        self.attention.build(self.q_proj.compute_output_shape(input_shape),
                             self.k_proj.compute_output_shape(input_shape),
                             self.v_proj.compute_output_shape(input_shape))
        self.mlp = MLP(int(d * self.mlp_ratio), dropout=self.dropout, name="mlp")
        self.mlp.build((b, h * w, d))

    def call(self, x, training=None):
        _, h, w, d = x.shape
        y = self.norm1(x)
        q = self.q_proj(y, training=training)
        k = self.k_proj(y, training=training)
        v = self.v_proj(y, training=training)
        tokens = ops.reshape(x, (-1, h * w, d)) + self.attention(q, v, key=k, training=training)
        tokens = tokens + self.mlp(self.norm2(tokens), training=training)
        return ops.reshape(tokens, (-1, h, w, d))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "mlp_ratio": self.mlp_ratio,
                "kv_strides": self.kv_strides, "dropout": self.dropout}
