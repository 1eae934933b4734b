"""Tiny Keras models and datasets for the evaluation tests."""

import numpy as np
import pytest


def build_tiny_cnn(num_classes=3, size=16, seed=0, activation="softmax"):
    """Conv -> Conv -> residual add -> pool -> Dense: a small functional classifier."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inputs)
    y = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Add(name="add")([x, y])
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="head")(x)
    return keras.Model(inputs, outputs, name="tiny_cnn")


@pytest.fixture
def tiny_cnn():
    return build_tiny_cnn()


@pytest.fixture
def make_tiny_cnn():
    """The builder itself, for tests that need other options (e.g. logits)."""
    return build_tiny_cnn


@pytest.fixture
def tiny_data(rng):
    """12 images (16x16x1) in 3 classes whose brightness encodes the class, labels (12,)."""
    labels = np.repeat(np.arange(3), 4)
    images = rng.random((12, 16, 16, 1)).astype("float32") * 0.2 + labels[:, None, None, None] * 0.4
    return images.astype("float32"), labels
