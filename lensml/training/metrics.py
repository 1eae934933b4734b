"""Keras metrics that training needs and Keras lacks in sparse-label form."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lensml")
class SparseMacroAUC(keras.metrics.AUC):
    """Macro one-vs-rest ROC AUC for integer labels, streamed over batches.

    Args:
        num_classes: number of classes C.
        from_logits: whether predictions are logits (softmax is not applied; a sigmoid
            is, as in ``keras.metrics.AUC``, which leaves the ranking unchanged).

    Inputs: ``y_true`` (batch,) or (batch, 1) integer labels; ``y_pred`` (batch, C)
    probabilities. Logged as ``macro_auc`` / ``val_macro_auc``.
    """

    def __init__(self, num_classes=3, name="macro_auc", num_thresholds=200, from_logits=False, dtype=None, **kwargs):
        kwargs.pop("multi_label", None)
        kwargs.pop("num_labels", None)
        super().__init__(
            num_thresholds=num_thresholds,
            curve="ROC",
            name=name,
            dtype=dtype,
            multi_label=True,
            num_labels=int(num_classes),
            from_logits=from_logits,
            **kwargs,
        )
        self.num_classes = int(num_classes)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        y_true = ops.one_hot(y_true, self.num_classes, dtype="float32")
        y_pred = ops.cast(y_pred, "float32")
        return super().update_state(y_true, y_pred, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.pop("multi_label", None)
        config.pop("num_labels", None)
        config.pop("curve", None)
        config.pop("summation_method", None)
        config.pop("label_weights", None)
        config.pop("thresholds", None)
        config["num_classes"] = self.num_classes
        return config
