"""The test harness a new model or self-supervised method calls, in the style of keras-hub's
``run_backbone_test``: one call builds (or takes) it, fits a step on the backend of the run,
checks that it trained and that its outputs are sane, and round-trips it through a ``.keras``
file loaded with ``safe_mode``. lensml's own tests call it for every registered model
(``lensml.models.available()``) and every SSL method (``lensml.ssl.TRAINERS``), so a new model
is its module plus its import, and its test is free; run the suite under
``KERAS_BACKEND=tensorflow`` and ``KERAS_BACKEND=jax`` for both backends.

    from lensml.testing import run_model_test, run_ssl_trainer_test

    def test_my_model(tmp_path):
        run_model_test("my_model", tmp_path=tmp_path)           # its registered "tiny" size

    def test_my_method(tmp_path):
        images = np.random.default_rng(0).random((8, 32, 32, 1), "float32")
        run_ssl_trainer_test(MyMethod(encoder, seed=0), images, tmp_path=tmp_path)

Each function raises ``AssertionError`` saying what failed, and returns what it built.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

__all__ = ["run_model_test", "run_ssl_trainer_test"]


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _weights(model) -> list[np.ndarray]:
    return [_numpy(w) for w in model.trainable_weights]


def _infer(model, x):
    """Inference the fast way per backend: an eager call on TensorFlow, a jitted predict on JAX
    (whose eager mode compiles every primitive on its own)."""
    if keras.backend.backend() == "jax":
        return model.predict(x, verbose=0)
    return _numpy(model(x, training=False))


def _assert_trained(before, after, what: str) -> None:
    assert any(not np.array_equal(a, b) for a, b in zip(before, after)), f"{what}: no trainable weight changed in a step"


def run_model_test(name: str, *, tmp_path, options: dict | None = None, size: str = "tiny",
                   input_shape=(64, 64, 1), num_classes: int = 3, other_input_shapes=((150, 150, 1),),
                   eager: bool = False, seed: int = 0):
    """Build registered model ``name`` at the named ``size`` (``lensml.models.size``) with
    ``options`` over it; fit one epoch of four images (two steps) and check that the loss is
    finite and the weights moved; check the class probabilities sum to one; save to
    ``tmp_path`` and load with ``safe_mode`` (the same outputs); build it at each of
    ``other_input_shapes`` (the output shape). ``eager``: train eagerly (TensorFlow's graph of a
    large ``keras.applications`` backbone takes a minute to trace on a small CPU; the maths are
    the same). Returns the trained model."""
    import lensml.models as M
    from lensml.models.budget import build_without_weights

    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    options = M.size(name, size, base_options=options)
    model = M.build(name, input_shape=tuple(input_shape), num_classes=num_classes, **options)
    assert model.output_shape == (None, num_classes), f"{name}: output shape {model.output_shape}"
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  jit_compile=M.default_jit_compile() and not eager, run_eagerly=eager)
    x = rng.random((4,) + tuple(input_shape)).astype("float32")
    y = np.arange(4) % num_classes
    before = _weights(model)
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]), f"{name}: loss {history.history['loss'][0]}"
    _assert_trained(before, _weights(model), name)
    probs = _infer(model, x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5, err_msg=f"{name}: probabilities")
    path = Path(tmp_path) / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_infer(loaded, x), probs, rtol=1e-5, atol=1e-6, err_msg=f"{name}: after .keras")
    for shape in other_input_shapes:  # its shapes only: no weights drawn (seconds a model on JAX)
        other = build_without_weights(lambda: M.build(name, input_shape=tuple(shape), num_classes=num_classes,
                                                      **options))
        assert other.output_shape == (None, num_classes), f"{name} at {shape}: output shape {other.output_shape}"
    return model


def run_ssl_trainer_test(trainer, images, *, tmp_path, steps: int = 2, jit_compile: bool | None = None):
    """Train ``trainer`` (a ``lensml.ssl`` trainer or a new method's ``keras.Model``) for
    ``steps`` batches of ``images`` ``(B, H, W, C)`` (compiled with Adam first if it is not;
    ``jit_compile`` None: XLA on JAX, TensorFlow's graph mode on TensorFlow, whose XLA compiles
    slowly on a CPU); check every loss is finite and that the weights moved; save the trainer and
    load it with ``safe_mode`` (its weights and its features on ``images`` unchanged); save its
    pretrained encoder (``lensml.ssl.factory.pretrained_encoder``) and load it the same way.
    Returns ``(trainer, losses)``."""
    from lensml.ssl.factory import pretrained_encoder

    what = type(trainer).__name__
    if getattr(trainer, "optimizer", None) is None or not getattr(trainer, "compiled", False):
        trainer.compile(optimizer=keras.optimizers.Adam(3e-3),
                        jit_compile=keras.backend.backend() == "jax" if jit_compile is None else jit_compile)
    before = _weights(trainer)
    losses = [float(trainer.train_on_batch(images, return_dict=True)["loss"]) for _ in range(int(steps))]
    assert np.all(np.isfinite(losses)), f"{what}: losses {losses}"
    if steps:
        _assert_trained(before, _weights(trainer), what)
    path = Path(tmp_path) / f"{what}.keras"
    trainer.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert type(loaded) is type(trainer), f"{what}: loaded as {type(loaded).__name__}"
    assert len(loaded.weights) == len(trainer.weights), f"{what}: {len(loaded.weights)} weights after .keras"
    for a, b in zip(loaded.weights, trainer.weights):
        np.testing.assert_allclose(_numpy(a), _numpy(b), err_msg=f"{what}: weight {b.path} after .keras")
    encoder = pretrained_encoder(trainer)
    features = _numpy(encoder(images))
    np.testing.assert_allclose(_numpy(pretrained_encoder(loaded)(images)), features, rtol=1e-5, atol=1e-5,
                               err_msg=f"{what}: features of the loaded trainer")
    encoder_path = Path(tmp_path) / f"{what}_encoder.keras"
    encoder.save(encoder_path)
    reloaded = keras.saving.load_model(encoder_path, safe_mode=True)
    np.testing.assert_allclose(_numpy(reloaded(images)), features, rtol=1e-5, atol=1e-5,
                               err_msg=f"{what}: its saved encoder")
    return trainer, losses
