"""D4 test-time augmentation for any model."""

from __future__ import annotations

import keras
from keras import ops

from lensml.layers.d4 import ORDER, d4_transform, group_inverse


@keras.saving.register_keras_serializable(package="lensml")
class D4TTA(keras.Model):
    """Average a model's predictions over the 8 rotations/reflections of the input.

    For vector outputs (class probabilities, regression) the average is exactly
    D4-invariant. With ``spatial_output=True`` (outputs ``(batch, H, W, C)``, e.g.
    super-resolution or convergence maps) each prediction is transformed back before
    averaging, so the result is D4-equivariant. The 8 copies run as one batch of 8 * B.

    Args:
      model: any Keras model taking square images ``(batch, H, H, C)``.
      spatial_output: see above.

    Call: images ``(batch, H, H, C)`` -> averaged model output.

    Example:

    ```python
    import numpy as np
    import lensml.models

    model = lensml.models.build("resnet18", input_shape=(64, 64, 1), num_classes=3)
    tta = lensml.models.D4TTA(model)  # the mean of the 8 D4 copies' predictions
    probabilities = tta(np.random.rand(2, 64, 64, 1).astype("float32"))  # (2, 3)
    ```
    """

    def __init__(self, model: keras.Model, spatial_output: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.spatial_output = bool(spatial_output)

    def call(self, images, training=None):
        batch = ops.shape(images)[0]
        stacked = ops.concatenate([d4_transform(images, g) for g in range(ORDER)], axis=0)
        out = self.model(stacked, training=training)
        outs = [out[g * batch:(g + 1) * batch] for g in range(ORDER)] if self.spatial_output else None
        if self.spatial_output:
            outs = [d4_transform(o, group_inverse(g)) for g, o in enumerate(outs)]
            return ops.mean(ops.stack(outs, axis=0), axis=0)
        out = ops.reshape(out, (ORDER, batch) + tuple(out.shape[1:]))
        return ops.mean(out, axis=0)

    def get_config(self):
        return {**super().get_config(), "model": keras.saving.serialize_keras_object(self.model),
                "spatial_output": self.spatial_output}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(config["model"],
                                                                custom_objects=custom_objects)
        return cls(**config)
