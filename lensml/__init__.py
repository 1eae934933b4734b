"""lensml: physics-informed deep learning for strong gravitational lensing, on Keras 3.

Sub-packages (see DESIGN.md, section 1): ``physics``, ``simulation``, ``data``,
``datasets``, ``layers``, ``models``, ``ssl``, ``evaluation``, ``tuning``,
``experiments``. The command line is :mod:`lensml.cli`.
"""

__version__ = "0.1.0"
