"""Shared machinery of the SSL trainers: EMA copies, the step counter (heads: ``lensml.ssl.heads``).

Trainers override ``compute_loss`` (not ``train_step``), so Keras's own TF and JAX train
steps run them; variable assignments made there (EMA targets, DINO's centre, the step
counter, seed states) are kept on JAX too.
"""

from __future__ import annotations

import keras
from keras import ops

_PKG = "lensml"


def clone_network(model, name=None, input_shape=None):
    """A structural copy of a Keras model/layer with the same weight values (an EMA target).

    input_shape: for a plain layer (not a Model), the shape of a dummy input, batch included,
    used to build the copy.
    """
    config = model.get_config()
    if name is not None:
        config = {**config, "name": name}
    copy = model.__class__.from_config(config)  # a functional model rebuilds its graph of copies
    if not isinstance(model, keras.Model) and input_shape is not None:
        copy.build(input_shape)
    if not copy.built:
        raise ValueError(f"clone_network: {model.name} must be built before it is copied")
    copy.set_weights(model.get_weights())
    copy.trainable = False
    return copy


def ema_update(target, online, momentum):
    """target <- momentum * target + (1 - momentum) * stop_gradient(online), weight by weight.

    Trainable and non-trainable weights alike (BatchNorm statistics follow the online net).
    """
    t_weights, o_weights = target.weights, online.weights
    if len(t_weights) != len(o_weights):
        raise ValueError(f"ema_update: {target.name} has {len(t_weights)} weights, "
                         f"{online.name} has {len(o_weights)}")
    for t, o in zip(t_weights, o_weights):
        t.assign(momentum * t + (1.0 - momentum) * ops.stop_gradient(o))


def replica_loss(loss):
    """``loss`` (a global-batch mean) as one replica's share under ``tf.distribute``.

    tf.distribute sums the replicas' gradients, and Keras divides only the losses it computes
    itself (``keras.losses``) by the number of replicas; a trainer computing its own loss in
    ``compute_loss`` does the same here. Identity on JAX (one global program) and on one device.
    """
    # Keras's own scaling of its losses (private: pinned by tests/test_internals.py); the public
    # alternative, tf.distribute's replica count, would import TensorFlow into lensml.ssl.
    from keras.src.losses.loss import scale_loss_for_distribution

    return scale_loss_for_distribution(loss)


def feature_dim(encoder, image_shape):
    """Width D of an encoder's features (B, D), from its output shape or a dummy call."""
    try:
        shape = encoder.compute_output_shape((None,) + tuple(image_shape))
        if shape[-1] is not None:
            return int(shape[-1])
    except Exception:  # noqa: BLE001 - fall back to running it
        pass
    out = encoder(ops.zeros((1,) + tuple(image_shape)))
    return int(out.shape[-1])


def encoder_image_shape(encoder, image_shape):
    """The (H, W, C) image shape of an encoder: the given one, else its Input's shape."""
    if image_shape is not None:
        shape = tuple(int(v) for v in image_shape)
    else:
        try:
            shape = tuple(encoder.inputs[0].shape[1:])
        except (AttributeError, IndexError, TypeError, ValueError):
            shape = ()
        if len(shape) != 3 or any(v is None for v in shape):
            raise ValueError(f"image_shape=None: the encoder {getattr(encoder, 'name', encoder)!r} "
                             "has no fixed input shape; pass image_shape=(H, W, C)")
    if len(shape) != 3:
        raise ValueError(f"image_shape={image_shape!r}: expected (height, width, channels)")
    return shape


def serialize_parts(obj, names) -> dict:
    """``{name: serialised Keras object}`` for the attributes ``names`` of ``obj`` (the
    encoder, view pipelines, tokenizers that a trainer's ``get_config`` stores whole)."""
    return {name: keras.saving.serialize_keras_object(getattr(obj, name)) for name in names}


def deserialize_parts(config, names) -> dict:
    """A copy of ``config`` with the entries ``names`` rebuilt (``from_config``'s half)."""
    config = dict(config)
    for name in names:
        config[name] = keras.saving.deserialize_keras_object(config[name])
    return config


class SSLTrainer(keras.Model):
    """Base of the trainers: holds `encoder`, a step counter and the image shape.

    call(images) returns the encoder features (B, D) (inference; the losses are in
    ``compute_loss``). Subclasses implement ``ssl_loss(images)``.
    """

    #: Constructor arguments that are Keras objects, stored whole in ``get_config``.
    keras_parts = ("encoder",)

    def __init__(self, encoder, image_shape=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(encoder, (keras.Model, keras.layers.Layer)):
            raise TypeError(f"encoder: expected a keras.Model, got {type(encoder).__name__}")
        self.encoder = encoder
        self.image_shape = encoder_image_shape(encoder, image_shape)
        self.step = self.add_weight(shape=(), dtype="float32", initializer="zeros",
                                    trainable=False, name="step")

    def build(self, input_shape=None):
        # Every part is built in __init__ (the EMA copies need built weights to copy).
        pass

    def call(self, images, training=False):
        # Train steps ignore this output (their loss is in compute_loss); training=False
        # keeps it free of side effects so the compiler prunes it.
        return self.encoder(images, training=False)

    def ssl_loss(self, images):
        raise NotImplementedError

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images = x[0] if isinstance(x, (tuple, list)) else x
        loss = self.ssl_loss(images)
        if training:
            self.step.assign_add(1.0)
        return replica_loss(loss)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                **serialize_parts(self, self.keras_parts)}

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_parts(config, cls.keras_parts))
