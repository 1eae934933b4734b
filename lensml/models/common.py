"""Small registered layers the model graphs need (instead of Lambda layers, which
``safe_mode`` refuses)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lensml")
class TakeToken(keras.layers.Layer):
    """Select one token. Call: ``(B, N, D)`` -> ``(B, D)`` (token ``index``).

    Example:

    ```python
    import keras
    from lensml.models import TakeToken

    cls = TakeToken(0)(keras.random.normal((2, 17, 64)))  # (2, 64): the class token
    ```
    """

    def __init__(self, index: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, tokens):
        return tokens[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@keras.saving.register_keras_serializable(package="lensml")
class MeanTokens(keras.layers.Layer):
    """tokens (B, N, D) -> (B, D), the mean over tokens ``start`` and after (1: skip a class token).

    Example:

    ```python
    import keras
    from lensml.models import MeanTokens

    features = MeanTokens(1)(keras.random.normal((2, 17, 64)))  # (2, 64): the mean of the 16 patch tokens
    ```
    """

    def __init__(self, start=0, **kwargs):
        super().__init__(**kwargs)
        self.start = int(start)

    def call(self, tokens):
        return ops.mean(tokens[:, self.start:], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "start": self.start}


@keras.saving.register_keras_serializable(package="lensml")
class Affine(keras.layers.Layer):
    """Fixed ``offset + scale * x`` (e.g. Lensformer's k = 0.8 + 0.4 * sigmoid(.)).

    Call: any tensor -> same shape.

    Example:

    ```python
    import keras
    from lensml.models import Affine

    k = Affine(scale=0.4, offset=0.8)(keras.ops.sigmoid(keras.random.normal((2, 8, 8, 1))))  # in [0.8, 1.2]
    ```
    """

    def __init__(self, scale: float = 1.0, offset: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.offset = float(offset)

    def call(self, x):
        return self.offset + self.scale * x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


@keras.saving.register_keras_serializable(package="lensml")
class SymmetricPad2D(keras.layers.Layer):
    """Zero-pad images so height and width become multiples of ``multiple``, equally on both
    sides (keeps the D4 symmetry of the grid; needs an even amount of padding).

    Call: ``(B, H, W, C)`` -> ``(B, H + 2 * pad_h, W + 2 * pad_w, C)``.

    Example:

    ```python
    import keras
    from lensml.models import CenterCrop2D, SymmetricPad2D

    pad = SymmetricPad2D(multiple=8)
    x = pad(keras.random.normal((2, 60, 60, 1)))  # (2, 64, 64, 1)
    x = CenterCrop2D(pad.padding(60), pad.padding(60))(x)  # back to (2, 60, 60, 1)
    ```
    """

    def __init__(self, multiple: int = 8, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def padding(self, size: int) -> int:
        extra = (-size) % self.multiple
        if extra % 2:
            raise ValueError(
                f"image size {size} needs {extra} pixels of padding to reach a multiple of "
                f"{self.multiple}: not symmetric; use an even image size"
            )
        return extra // 2

    def call(self, x):
        ph, pw = self.padding(x.shape[1]), self.padding(x.shape[2])
        return ops.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, h + 2 * self.padding(h), w + 2 * self.padding(w), c)

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="lensml")
class CenterCrop2D(keras.layers.Layer):
    """Crop ``pad`` pixels from each side (undoes ``SymmetricPad2D``).

    Call: ``(B, H, W, C)`` -> ``(B, H - 2 * pad_h, W - 2 * pad_w, C)``.

    Example:

    ```python
    import keras
    from lensml.models import CenterCrop2D

    x = CenterCrop2D(2, 2)(keras.random.normal((2, 64, 64, 1)))  # (2, 60, 60, 1)
    ```
    """

    def __init__(self, pad_h: int, pad_w: int, **kwargs):
        super().__init__(**kwargs)
        self.pad_h = int(pad_h)
        self.pad_w = int(pad_w)

    def call(self, x):
        h, w = x.shape[1], x.shape[2]
        return x[:, self.pad_h:h - self.pad_h, self.pad_w:w - self.pad_w, :]

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, h - 2 * self.pad_h, w - 2 * self.pad_w, c)

    def get_config(self):
        return {**super().get_config(), "pad_h": self.pad_h, "pad_w": self.pad_w}


@keras.saving.register_keras_serializable(package="lensml")
class OnesLike(keras.layers.Layer):
    """A map of ones shaped like the input (a constant SIS scale map k = 1).

    Call: any tensor -> ones of the same shape, float32.

    Example:

    ```python
    import keras
    from lensml.models import OnesLike

    k = OnesLike()(keras.random.normal((2, 64, 64, 1)))  # a constant SIS scale map
    ```
    """

    def call(self, x):
        return ops.ones_like(x, dtype="float32")

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="lensml")
class PeakNormalization(keras.layers.Layer):
    """Divide each image by its maximum (+ ``epsilon``), as Lensformer does to its source.

    Call: ``(B, H, W, C)`` -> same shape.

    Example:

    ```python
    import keras
    from lensml.models import PeakNormalization

    source = PeakNormalization()(keras.random.uniform((2, 64, 64, 1)))  # each image's maximum -> 1
    ```
    """

    def __init__(self, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        peak = ops.max(x, axis=(1, 2, 3), keepdims=True)
        return x / (peak + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="lensml")
class SplitBatch(keras.layers.Layer):
    """Split a batch into ``parts`` equal consecutive parts. Call: ``(P * B, ...)`` ->
    list of P tensors ``(B, ...)`` (the inverse of ``Concatenate(axis=0)`` of P inputs).

    Example:

    ```python
    import keras
    from lensml.models import SplitBatch

    first, second = SplitBatch(parts=2)(keras.random.normal((8, 16)))  # two (4, 16) halves
    ```
    """

    def __init__(self, parts: int = 2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(parts, int) or parts < 1:
            raise ValueError(f"parts must be a positive int, got {parts!r}")
        self.parts = parts

    def call(self, x):
        size = ops.shape(x)[0] // self.parts
        return [x[i * size:(i + 1) * size] for i in range(self.parts)]

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape)] * self.parts

    def get_config(self):
        return {**super().get_config(), "parts": self.parts}
