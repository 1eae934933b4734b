"""``LensModel``: a functional ``keras.Model`` that holds its inputs to its input contract.

Every model lensml builds (``lensml.models.build``, ``build_super_resolution``, the fine-tuned
SSL models) is a ``LensModel``: before ``predict``, ``fit`` and ``evaluate`` run, the images are
checked in Python, the same way on every backend (a compiled graph cannot raise the same error
on TensorFlow, XLA and JAX):

- **Shape.** Images must be ``(batch, height, width, channels)`` of the model's input shape;
  another size (a 150x150 cutout into a 64x64 model) is a ValueError naming both shapes.
- **NaN / inf pixels.** With the model's ``masked = "error"`` (the default) images holding
  non-finite pixels are a ValueError naming how many pixels of which images; with ``"fill"``
  (``set_masked(model, "fill")`` or ``build(..., masked="fill")``) those pixels take the
  median of the image's finite pixels inside the model (``ImageNormalization``).

Arrays and tensors are checked whole; a ``tf.data.Dataset`` is checked batch by batch as it is
read (``tf.debugging`` in the dataset's own graph, so on both backends); other inputs (Python
generators, ``PyDataset``) are passed through unchecked. Calling the model directly
(``model(x)``) is not checked: that is also how it runs inside a training step.
"""

from __future__ import annotations

import sys

import keras
import numpy as np


def _contract_layers(model):
    from lensml.layers.normalization import ImageNormalization
    from lensml.layers.walk import iter_layers

    return [layer for layer in iter_layers(model) if isinstance(layer, ImageNormalization)]


def masked_policy(model) -> str:
    """"fill" when the model's input contract fills non-finite pixels, else "error"."""
    layers = _contract_layers(model)
    return "fill" if layers and all(layer.masked == "fill" for layer in layers) else "error"


def set_masked(model, masked: str):
    """Switch what ``model`` does with NaN / inf pixels: "error" or "fill" (see the module
    docstring); the compiled functions are rebuilt. Returns ``model``."""
    from lensml.layers.normalization import check_masked

    check_masked(masked)
    layers = _contract_layers(model)
    if not layers:
        raise ValueError(f"masked: model {model.name!r} has no ImageNormalization input layer "
                         "(built with normalization=None), so it cannot fill masked pixels")
    for layer in layers:
        layer.masked = masked
    for name in ("train_function", "test_function", "predict_function"):
        setattr(model, name, None)  # traced with the old policy
    return model


def check_images(images, expected_shape, *, masked: str = "error", what: str = "images") -> None:
    """ValueError unless ``images`` is a (batch, *expected_shape) array, and, with masked="error",
    all its pixels are finite. ``expected_shape``: (H, W, C), None where any size goes."""
    shape = tuple(images.shape)
    want = tuple(expected_shape)
    if len(shape) != len(want) + 1 or any(w is not None and s != w for s, w in zip(shape[1:], want)):
        raise ValueError(f"`{what}`: this model takes images of shape (batch, {', '.join(map(str, want))}) "
                         f"(height, width, channels), got {shape}; resample or cut them to its size")
    if masked == "fill":
        return
    array = np.asarray(images)
    if not np.issubdtype(array.dtype, np.floating):
        return
    bad = (~np.isfinite(array)).reshape(len(array), -1).sum(axis=1)
    if bad.any():
        which = np.flatnonzero(bad)
        listed = ", ".join(f"image {i}: {bad[i]}" for i in which[:10]) + (", ..." if len(which) > 10 else "")
        raise ValueError(
            f"`{what}`: {len(which)} of {len(array)} images hold NaN or inf pixels ({listed} pixels); "
            "repair or drop them, or treat them as masked with lensml.models.set_masked(model, 'fill') "
            "(they then take the median of the image's finite pixels)")


def _checked_dataset(ds, expected_shape, masked):
    """``ds`` (a ``tf.data.Dataset``) with its images checked batch by batch in its own graph:
    tf.data runs TensorFlow on both Keras backends, so this is the one place TensorFlow is used."""
    tf = sys.modules["tensorflow"]

    spec = ds.element_spec
    image_spec = spec[0] if isinstance(spec, tuple) else spec
    if isinstance(image_spec, tf.TensorSpec):
        shape = tuple(image_spec.shape)
        want = tuple(expected_shape)
        if len(shape) != len(want) + 1 or any(s is not None and w is not None and s != w
                                              for s, w in zip(shape[1:], want)):
            raise ValueError(f"`x`: this model takes images of shape (batch, {', '.join(map(str, want))}), "
                             f"the dataset gives {shape}")
    if masked == "fill" or not isinstance(image_spec, tf.TensorSpec) or not image_spec.dtype.is_floating:
        return ds

    def check(*element):
        images = element[0]
        bad = tf.reduce_sum(tf.cast(~tf.math.is_finite(images), tf.int32),
                            axis=tf.range(1, tf.rank(images)))
        which = tf.where(bad > 0)[:, 0]
        assertion = tf.debugging.Assert(
            tf.size(which) == 0,
            ["`x`: images of this batch hold NaN or inf pixels (treat them as masked with "
             "lensml.models.set_masked(model, 'fill')); images:", which, "pixels:", tf.gather(bad, which)],
            summarize=10)
        with tf.control_dependencies([assertion]):
            images = tf.identity(images)
        return (images,) + tuple(element[1:]) if len(element) > 1 else images

    return ds.map(check)


@keras.saving.register_keras_serializable(package="lensml")
class LensModel(keras.Model):
    """A functional model (``LensModel(inputs, outputs, name=...)``) whose ``predict``, ``fit``
    and ``evaluate`` check their images first (module docstring). Saved and loaded as any
    functional model.

    Example:

    ```python
    import numpy as np
    import lensml.models

    model = lensml.models.build("resnet18", input_shape=(64, 64, 1), num_classes=3)  # a LensModel
    model.predict(np.random.rand(2, 64, 64, 1).astype("float32"), verbose=0)  # images checked first
    # model.predict(np.random.rand(2, 32, 32, 1)) raises a ValueError naming the expected shape
    ```
    """

    def _check(self, x, what="x"):
        if x is None or len(self.inputs) != 1:
            return x
        expected = tuple(self.inputs[0].shape[1:])
        masked = masked_policy(self)
        tf = sys.modules.get("tensorflow")  # a tf.data input means TensorFlow is loaded; never import it here
        if tf is not None and isinstance(x, tf.data.Dataset):
            return _checked_dataset(x, expected, masked)
        if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (dict, list, tuple)):
            check_images(x, expected, masked=masked, what=what)
        return x

    def predict(self, x, *args, **kwargs):
        return super().predict(self._check(x), *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        return super().evaluate(self._check(x), *args, **kwargs)

    def fit(self, x=None, *args, **kwargs):
        x = self._check(x)
        validation = kwargs.get("validation_data")
        if validation is not None:
            if isinstance(validation, tuple) and validation:
                kwargs["validation_data"] = (self._check(validation[0], "validation_data"),) + tuple(validation[1:])
            else:
                kwargs["validation_data"] = self._check(validation, "validation_data")
        return super().fit(x, *args, **kwargs)
