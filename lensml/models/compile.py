"""Default compile settings per backend and device."""

from __future__ import annotations

import keras


def accelerator_available() -> bool:
    """True when the current backend sees a GPU or TPU (``keras.distribution.list_devices``
    lists accelerators first and CPUs only when there is none). False on a backend without
    a device list (e.g. NumPy)."""
    try:
        devices = keras.distribution.list_devices()
    except (AttributeError, NotImplementedError):
        return False
    return any(not d.lower().startswith("cpu") for d in devices)


def default_jit_compile(model=None) -> bool:
    """The fastest ``jit_compile`` for ``model.compile`` on this backend and device.

    Args:
      model: a registry name, a model built by ``lensml.models.build`` (its name is the
        registry's), or None for the backend's general choice.

    - JAX: always True (JAX's eager mode is far slower than its compiled one).
    - TensorFlow on GPU/TPU: True (XLA fuses the many small ops).
    - TensorFlow on CPU: False for most models: TF's graph mode runs convolutions with oneDNN,
      1.1-8x faster than XLA's CPU convolutions (ResNet-18, 64x64, batch 64:
      ``benchmarks/results/models_speed.md``). True for the models registered with
      ``xla_on_cpu=True``, whose training step that benchmark measured faster under XLA
      (attention-only Lensformer: ~1.5x).
    - Other backends: False.

    ``lensml.models.build`` makes Keras' ``jit_compile="auto"`` (the ``compile`` default) give
    this value for the model it returns, so a user who just calls ``compile`` and ``fit`` gets
    the fastest path.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return True
    if backend != "tensorflow":
        return False
    if accelerator_available():
        return True
    name = getattr(model, "name", model)
    if not isinstance(name, str):
        return False
    from lensml.models.registry import prefers_xla_on_cpu

    return prefers_xla_on_cpu(name)
