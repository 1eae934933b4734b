"""Test-wide settings: quiet TensorFlow, a default backend, and fixed seeds.

CI runs the whole suite twice, with ``KERAS_BACKEND=tensorflow`` and ``KERAS_BACKEND=jax``.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    """A numpy Generator with a fixed seed."""
    return np.random.default_rng(1234)


@pytest.fixture
def backend():
    import keras

    return keras.backend.backend()
