"""Every layer inside a Keras model or layer, nested models and sub-layers included.

Keras 3 has no public recursive walk (``model.layers`` stops at the first level, and misses
layers held as attributes of custom layers); ``Layer._flatten_layers`` is the one Keras uses
itself. lensml calls it here only (pinned by tests/test_internals.py).
"""

from __future__ import annotations

from typing import Iterator

import keras


def iter_layers(model: keras.layers.Layer, include_self: bool = False) -> Iterator[keras.layers.Layer]:
    """All layers of ``model``, depth first, each once; ``model`` itself first if ``include_self``."""
    yield from model._flatten_layers(include_self=include_self, recursive=True)
