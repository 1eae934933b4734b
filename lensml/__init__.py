"""lensml: physics-informed deep learning for strong gravitational lensing, on Keras 3.

Sub-packages (see DESIGN.md, section 1): ``physics``, ``simulation``, ``data``,
``datasets``, ``layers``, ``models``, ``ssl``, ``evaluation``, ``tuning``,
``experiments``. The command line is :mod:`lensml.cli`.
"""

__version__ = "0.1.0"

# Registers the TFDS builders (``tfds.load("deeplense/...")``). This imports
# tensorflow_datasets only: not TensorFlow, JAX or lenstronomy.
from lensml import datasets as _datasets  # noqa: E402,F401
