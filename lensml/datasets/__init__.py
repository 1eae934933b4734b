"""lensml.datasets: TFDS builders. Importing this module registers ``deeplense`` with TFDS
(``import lensml`` does it), so ``tfds.load("deeplense/model_ii_tiny")`` works.

Importing it imports tensorflow_datasets (not TensorFlow, not lenstronomy).
"""

from lensml.datasets.deeplense import Deeplense, DeeplenseConfig, sized_config, split_sizes

__all__ = ["Deeplense", "DeeplenseConfig", "sized_config", "split_sizes"]
