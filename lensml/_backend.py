"""The Keras backends lensml runs on, checked before Keras is imported (an unsupported
``KERAS_BACKEND`` would otherwise fail deep inside Keras, e.g. "No module named 'torch'")."""

from __future__ import annotations

import os

#: lensml's layers and training use TensorFlow's tf.data and both of these engines.
BACKENDS = ("tensorflow", "jax")


def check_backend() -> str:
    """The backend named by ``KERAS_BACKEND`` (default "tensorflow"), or ImportError naming it
    and the supported ones."""
    backend = os.environ.get("KERAS_BACKEND", "").strip() or "tensorflow"
    if backend not in BACKENDS:
        raise ImportError(f"KERAS_BACKEND={backend!r}: lensml runs on the Keras backends {', '.join(BACKENDS)}; "
                          "set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax (or `lensml --backend jax ...`)")
    return backend
