"""lensml: physics-informed deep learning for strong gravitational lensing, on Keras 3.

Sub-packages: ``physics``, ``simulation``, ``data``,
``datasets``, ``layers``, ``models``, ``ssl``, ``evaluation``, ``tuning``,
``training`` (configs and the run engine) and ``protocols`` (what is made of runs: label
efficiency, transfer, pretraining, paper tables, the quickstart, studies) and ``testing`` (the harness a new
model's or SSL method's test calls), each loaded on first use (``import lensml; lensml.models.build(...)``).
The command line is :mod:`lensml.cli`. ``lensml.predict(model, images_or_paths)`` applies a
trained model to your own images (``lensml.evaluation.predict``).

``import lensml`` is light: it registers the TFDS builders (``tfds.load("deeplense/...")``,
through tensorflow_datasets) and imports neither Keras, TensorFlow, JAX nor lenstronomy. Once
Keras is loaded, lensml's Keras classes are registered, so ``keras.saving.load_model`` reads a
saved lensml model after a plain ``import lensml`` (lensml._keras_objects).
"""

import importlib

__version__ = "0.1.0"

SUBPACKAGES = ("physics", "simulation", "data", "datasets", "layers", "models", "ssl", "evaluation",
               "tuning", "training", "protocols", "testing")

from lensml import datasets as _datasets  # noqa: E402,F401


def __getattr__(name):
    if name in SUBPACKAGES:
        return importlib.import_module(f"lensml.{name}")
    if name == "predict":  # lensml.predict(model, images_or_paths) -> a DataFrame, one row per image
        from lensml.evaluation.predict import predict

        return predict
    raise AttributeError(f"module 'lensml' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(SUBPACKAGES) | {"predict"})


from lensml import _keras_objects  # noqa: E402

_keras_objects.install()  # last: lensml's own names are all defined by now
