"""A tiny built-in random dataset (``dataset = "synthetic:<examples>:<size>"``) for tests
and smoke runs that must not depend on a built TFDS dataset."""

from __future__ import annotations

import math
import zlib

import numpy as np


def parse_synthetic_name(name: str) -> tuple[int, int]:
    """``"synthetic:48:16"`` -> (48 examples, 16 pixels). Raises ValueError otherwise."""
    parts = name.split(":")
    try:
        if parts[0] != "synthetic" or len(parts) != 3:
            raise ValueError
        n, size = int(parts[1]), int(parts[2])
        if n < 1 or size < 4:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"data.dataset: got {name!r}, expected 'synthetic:<examples>:<size>' with examples >= 1 and size >= 4"
        ) from None
    return n, size


def synthetic_arrays(name: str, split: str, num_classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Learnable random images: class k has a ring of radius growing with k plus noise.

    Returns images (n, size, size, 1) float32 in [0, 1] and labels (n,) int32. Each split
    name gives its own fixed, reproducible examples.
    """
    n, size = parse_synthetic_name(name)
    rng = np.random.default_rng(zlib.crc32(f"{name}/{split}".encode()))
    labels = (np.arange(n) % num_classes).astype("int32")
    rng.shuffle(labels)
    c = (np.arange(size) - (size - 1) / 2) / (size / 2)
    r = np.sqrt(c[None, :] ** 2 + c[:, None] ** 2)
    radius = 0.25 + 0.5 * labels[:, None, None] / max(num_classes - 1, 1)
    rings = np.exp(-((r[None] - radius) ** 2) / 0.02)
    images = rings + 0.3 * rng.random((n, size, size))
    images = images / images.max(axis=(1, 2), keepdims=True)
    return images[..., None].astype("float32"), labels


def make_array_dataset(images, labels, batch_size: int, shuffle: bool, seed: int):
    """Wrap arrays in a ``keras.utils.PyDataset`` of (images, labels) batches."""
    import keras

    class ArrayDataset(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self._order = np.arange(len(labels))
            self._epoch = 0
            self._shuffle()

        def _shuffle(self):
            if shuffle:
                np.random.default_rng([seed, self._epoch]).shuffle(self._order)

        def __len__(self):
            return math.ceil(len(labels) / batch_size)

        def __getitem__(self, i):
            idx = self._order[i * batch_size : (i + 1) * batch_size]
            return images[idx], labels[idx]

        def on_epoch_end(self):
            self._epoch += 1
            self._shuffle()

    return ArrayDataset()
