"""D4-equivariant convolutions: the symmetry group of the square (4 rotations x 2 reflections).

Lensing images have no preferred orientation, so a classifier should not care whether an
image is rotated by 90 degrees or mirrored. These layers build that in (regular
representation, as escnn's ``flipRot2dOnR2(N=4)`` used by D4LensPINN):

- a *D4 field* with ``C`` fields is a tensor ``(batch, height, width, C * 8)``; channel
  ``c * 8 + g`` is field ``c`` at group element ``g`` (field-major, so concatenating two
  field tensors along the last axis gives a field tensor again);
- transforming the input image by group element ``h`` transforms every output field
  spatially by ``h`` *and* permutes its 8 group channels: ``out'[g] = T_h(out[h^-1 g])``.

Group elements are indexed ``g = 4 * m + r``: first mirror left-right ``m`` times
(m in {0, 1}), then rotate by ``r`` quarter turns counter-clockwise (numpy ``rot90``).
The multiplication table is computed from these array operations themselves, so the
convention cannot drift from the code that applies it.

Exact equivariance needs a symmetric sampling grid: odd kernel sizes, stride 1 and
"same" padding (enforced here); downsample with 2x2 pooling on even sizes.
"""

from __future__ import annotations

import numpy as np
import keras
from keras import ops

ORDER = 8  # |D4|


def _np_transform(a: np.ndarray, g: int) -> np.ndarray:
    """Apply group element ``g`` to the first two axes of a numpy array."""
    m, r = divmod(int(g), 4)
    if m:
        a = a[:, ::-1]
    return np.rot90(a, r, axes=(0, 1))


def _cayley_table() -> np.ndarray:
    """``table[a, b]`` = index of the element ``a * b`` (apply ``b`` first, then ``a``)."""
    ref = np.arange(9).reshape(3, 3)
    images = [_np_transform(ref, g) for g in range(ORDER)]
    table = np.zeros((ORDER, ORDER), dtype=np.int64)
    for a in range(ORDER):
        for b in range(ORDER):
            ab = _np_transform(_np_transform(ref, b), a)
            table[a, b] = next(c for c in range(ORDER) if np.array_equal(images[c], ab))
    return table


CAYLEY = _cayley_table()
INVERSE = np.array([int(np.where(CAYLEY[g] == 0)[0][0]) for g in range(ORDER)])


def group_inverse(g: int) -> int:
    """Index of ``g^-1``."""
    return int(INVERSE[g])


def group_multiply(a: int, b: int) -> int:
    """Index of ``a * b`` (transform by ``b`` first, then by ``a``)."""
    return int(CAYLEY[a, b])


def d4_transform(x, g: int, axes: tuple[int, int] = (1, 2), xp=ops):
    """Transform a tensor spatially by group element ``g``: lensml's one D4 transform (the
    layers, test-time augmentation, SSL views, data augmentation and evaluation all use it).

    Args:
      x: tensor whose ``axes`` are (row, column), e.g. images ``(batch, height, width, C)``
        with the default ``axes=(1, 2)``, or kernels ``(k, k, in, out)`` with ``axes=(0, 1)``.
        The two axes must have the same length unless ``g`` is a half turn or a mirror.
      g: group element index in [0, 8), see the module docstring.
      xp: the array functions ``flip(x, axis)`` and ``transpose(x, axes)``: ``keras.ops``
        (default) or e.g. ``tf.experimental.numpy`` inside a ``tf.data`` pipeline.

    Returns:
      The transformed tensor (same shape for square inputs).
    """
    g = int(g)
    if not 0 <= g < ORDER:
        raise ValueError(f"g={g!r}: expected a D4 element index in [0, 8)")
    a0, a1 = axes
    m, r = divmod(g, 4)
    if m:
        x = xp.flip(x, axis=a1)
    rank = len(x.shape)
    a0, a1 = a0 % rank, a1 % rank
    perm = list(range(rank))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    for _ in range(r):
        # numpy rot90 (counter-clockwise): flip columns, then swap rows and columns.
        x = xp.transpose(xp.flip(x, axis=a1), perm)
    return x


def d4_permute_fields(x, g: int):
    """Permute the group channels of D4 fields as the transform by ``g`` does.

    Args:
      x: D4 fields ``(..., C * 8)``.
      g: group element index.

    Returns:
      ``y`` with ``y[..., c*8 + k] = x[..., c*8 + g^-1 k]``.
    """
    source = np.array([group_multiply(group_inverse(g), k) for k in range(ORDER)])
    channels = x.shape[-1]
    if channels is None or channels % ORDER:
        raise ValueError(f"x has {channels} channels: expected a multiple of 8 (D4 fields)")
    index = (np.arange(channels // ORDER)[:, None] * ORDER + source[None, :]).reshape(-1)
    return ops.take(x, ops.convert_to_tensor(index.astype("int32")), axis=-1)


def d4_transform_fields(x, g: int):
    """Full action of ``g`` on D4 fields ``(batch, height, width, C * 8)``: spatial + channels."""
    return d4_permute_fields(d4_transform(x, g), g)


def _check_kernel_size(kernel_size) -> int:
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2 or kernel_size[0] != kernel_size[1]:
            raise ValueError(f"kernel_size={kernel_size!r}: expected a square kernel")
        kernel_size = kernel_size[0]
    if not isinstance(kernel_size, (int, np.integer)) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size={kernel_size!r}: expected an odd positive integer "
            "(even kernels have no centre, which breaks exact equivariance)"
        )
    return int(kernel_size)


class _D4ConvBase(keras.layers.Layer):
    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        use_bias: bool = True,
        kernel_initializer="he_normal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(filters, (int, np.integer)) or filters < 1:
            raise ValueError(f"filters={filters!r}: expected a positive integer (number of D4 fields)")
        self.filters = int(filters)
        self.kernel_size = _check_kernel_size(kernel_size)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def _add_bias(self):
        if self.use_bias:
            # One bias per field, shared by its 8 group channels (a per-channel bias would
            # break equivariance).
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer
            )

    def _finish(self, y):
        if self.use_bias:
            y = y + ops.repeat(self.bias, ORDER)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters * ORDER,)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config


@keras.saving.register_keras_serializable(package="lensml")
class D4LiftingConv2D(_D4ConvBase):
    """Lifting convolution: plain images -> D4 fields.

    Each of ``filters`` learned kernels is applied in its 8 transformed copies.

    Args:
      filters: number of output D4 fields (output channels = ``filters * 8``).
      kernel_size: odd kernel size.

    Call:
      images ``(batch, height, width, channels)`` -> fields ``(batch, height, width, filters * 8)``;
      stride 1, "same" padding.

    Example:

    ```python
    import numpy as np
    from lensml.layers import D4LiftingConv2D

    images = np.random.rand(2, 32, 32, 1).astype("float32")
    fields = D4LiftingConv2D(4, kernel_size=5)(images)  # (2, 32, 32, 32): 4 fields x 8 orientations
    ```
    """

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("D4LiftingConv2D needs a known channel count")
        k = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(k, k, channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self._add_bias()

    def full_kernel(self):
        """The expanded kernel ``(k, k, in, filters * 8)`` with out channel ``o * 8 + g``."""
        stacked = ops.stack([d4_transform(self.kernel, g, axes=(0, 1)) for g in range(ORDER)], axis=-1)
        k, _, cin, cout, _ = stacked.shape
        return ops.reshape(stacked, (k, k, cin, cout * ORDER))

    def call(self, inputs):
        y = ops.conv(inputs, ops.cast(self.full_kernel(), inputs.dtype), strides=1, padding="same")
        return self._finish(y)


@keras.saving.register_keras_serializable(package="lensml")
class D4GroupConv2D(_D4ConvBase):
    """Group convolution: D4 fields -> D4 fields.

    The kernel for output group element ``g`` is the base kernel transformed spatially by
    ``g`` with its input group axis permuted by ``g^-1``, which makes the layer commute with
    the D4 action on fields.

    Args:
      filters: number of output D4 fields.
      kernel_size: odd kernel size (1 gives an equivariant channel mixing).

    Call:
      fields ``(batch, height, width, C_in * 8)`` -> ``(batch, height, width, filters * 8)``.

    Example:

    ```python
    import numpy as np
    from lensml.layers import D4GroupConv2D, D4LiftingConv2D

    images = np.random.rand(2, 32, 32, 1).astype("float32")
    fields = D4LiftingConv2D(4)(images)
    fields = D4GroupConv2D(8, kernel_size=3)(fields)  # (2, 32, 32, 64), equivariant
    ```
    """

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % ORDER:
            raise ValueError(
                f"D4GroupConv2D input has {channels} channels: expected D4 fields (a multiple of 8)"
            )
        k = self.kernel_size
        self.in_fields = channels // ORDER
        self.kernel = self.add_weight(
            name="kernel",
            shape=(k, k, self.in_fields, ORDER, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self._add_bias()

    def full_kernel(self):
        """The expanded kernel ``(k, k, C_in * 8, filters * 8)``."""
        copies = []
        for g in range(ORDER):
            g_inv = group_inverse(g)
            perm = np.array([group_multiply(g_inv, u) for u in range(ORDER)], dtype="int32")
            permuted = ops.take(self.kernel, ops.convert_to_tensor(perm), axis=3)
            copies.append(d4_transform(permuted, g, axes=(0, 1)))
        stacked = ops.stack(copies, axis=-1)  # (k, k, Cin, 8, Cout, 8)
        k = self.kernel_size
        return ops.reshape(stacked, (k, k, self.in_fields * ORDER, self.filters * ORDER))

    def call(self, inputs):
        y = ops.conv(inputs, ops.cast(self.full_kernel(), inputs.dtype), strides=1, padding="same")
        return self._finish(y)


@keras.saving.register_keras_serializable(package="lensml")
class D4GroupPooling(keras.layers.Layer):
    """Pool each D4 field over its 8 group channels: an invariant (plain) feature map.

    Args:
      mode: "max" or "mean".

    Call:
      fields ``(..., C * 8)`` -> ``(..., C)``; transforming the input image by ``h``
      transforms the output spatially by ``h`` only.

    Example:

    ```python
    import numpy as np
    from lensml.layers import D4GroupPooling, D4LiftingConv2D

    images = np.random.rand(2, 32, 32, 1).astype("float32")
    features = D4GroupPooling("max")(D4LiftingConv2D(4)(images))  # (2, 32, 32, 4), invariant channels
    ```
    """

    def __init__(self, mode: str = "max", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "mean"):
            raise ValueError(f"mode={mode!r}: expected 'max' or 'mean'")
        self.mode = mode

    def call(self, inputs):
        shape = ops.shape(inputs)
        channels = inputs.shape[-1]
        if channels is None or channels % ORDER:
            raise ValueError(f"D4GroupPooling input has {channels} channels: expected a multiple of 8")
        x = ops.reshape(inputs, tuple(shape[:-1]) + (channels // ORDER, ORDER))
        return ops.max(x, axis=-1) if self.mode == "max" else ops.mean(x, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] // ORDER,)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="lensml")
class D4BatchNormalization(keras.layers.Layer):
    """Batch normalisation of D4 fields with statistics shared by a field's 8 group channels.

    Sharing mean, variance, scale and offset across the group channels keeps the layer
    equivariant (a per-channel statistic would differ between orientations).
    Pointwise activations (``keras.layers.Activation``) are equivariant as they are.

    Args:
      momentum, epsilon, center, scale: as ``keras.layers.BatchNormalization``.

    Call:
      fields ``(batch, height, width, C * 8)`` -> same shape.

    Example:

    ```python
    import numpy as np
    from lensml.layers import D4BatchNormalization, D4LiftingConv2D

    images = np.random.rand(2, 32, 32, 1).astype("float32")
    fields = D4BatchNormalization()(D4LiftingConv2D(4)(images), training=True)  # (2, 32, 32, 32)
    ```
    """

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % ORDER:
            raise ValueError(
                f"D4BatchNormalization input has {channels} channels: expected a multiple of 8"
            )
        fields = channels // ORDER
        self.fields = fields
        if self.scale:
            self.gamma = self.add_weight(name="gamma", shape=(fields,), initializer="ones")
        if self.center:
            self.beta = self.add_weight(name="beta", shape=(fields,), initializer="zeros")
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=(fields,), initializer="zeros", trainable=False
        )
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=(fields,), initializer="ones", trainable=False
        )

    def call(self, inputs, training=None):
        shape = ops.shape(inputs)
        x = ops.reshape(inputs, tuple(shape[:-1]) + (self.fields, ORDER))
        reduce_axes = tuple(range(len(x.shape) - 2)) + (len(x.shape) - 1,)
        # Statistics in float32 even under mixed precision.
        x32 = ops.cast(x, "float32")
        if training:
            mean, variance = ops.moments(x32, axes=reduce_axes)
            m = self.momentum
            moving_mean = ops.cast(self.moving_mean, "float32")
            moving_variance = ops.cast(self.moving_variance, "float32")
            self.moving_mean.assign(m * moving_mean + (1.0 - m) * mean)
            self.moving_variance.assign(m * moving_variance + (1.0 - m) * variance)
        else:
            # Variables read inside call are autocast to the compute dtype (bfloat16 under
            # mixed_bfloat16): cast back so the statistics stay float32.
            mean = ops.cast(self.moving_mean, "float32")
            variance = ops.cast(self.moving_variance, "float32")
        inv = ops.rsqrt(variance + self.epsilon)
        if self.scale:
            inv = inv * ops.cast(self.gamma, "float32")
        offset = -mean * inv
        if self.center:
            offset = offset + ops.cast(self.beta, "float32")
        y = x32 * inv[:, None] + offset[:, None]
        return ops.cast(ops.reshape(y, shape), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, epsilon=self.epsilon, center=self.center, scale=self.scale)
        return config
