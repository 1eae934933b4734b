"""Tiny encoders and images shared by the SSL tests."""

import keras
import numpy as np


def tiny_cnn(shape=(32, 32, 1), batch_norm=True, name="tiny_cnn"):
    """A two-conv encoder images (B, 32, 32, 1) -> (B, 16)."""
    inputs = keras.Input(shape)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    if batch_norm:
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, x, name=name)


def blob_images(n=8, size=32, seed=0):
    """n distinct images: 1-3 Gaussian blobs (arcs stand-ins) of random width and place."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype("float32")
    out = np.zeros((n, size, size, 1), "float32")
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(4, size - 4, 2)
            w = rng.uniform(1.5, 5.0)
            out[i, :, :, 0] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * w * w))
    return out / out.max(axis=(1, 2, 3), keepdims=True)


