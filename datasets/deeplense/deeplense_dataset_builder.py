"""TFDS dataset folder entry point: ``tfds build datasets/deeplense --config model_ii_tiny``.

The builder lives in lensml (``lensml.datasets.deeplense.Deeplense``, registered by
``import lensml``); this thin subclass only lets the ``tfds build`` command find it from
this folder (lensml must be importable: ``pip install -e .`` or PYTHONPATH=<repo root>).
"""

from lensml.datasets.deeplense import Deeplense


class Builder(Deeplense, skip_registration=True):
    """``deeplense``, as seen from its TFDS dataset folder (see lensml.datasets.deeplense)."""
