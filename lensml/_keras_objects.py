"""Registering lensml's Keras classes, so ``keras.saving.load_model`` finds them after a plain
``import lensml`` (which itself imports neither Keras nor TensorFlow).

Keras looks serialised classes up by their registered name ("lensml>InverseLens") among the
classes registered so far; a class is registered when its module is imported. So when Keras is
loaded, lensml imports the modules that define registered classes: at once if Keras was
already imported before ``import lensml``, otherwise right after Keras finishes importing (a
``sys.meta_path`` finder that wraps Keras' loader). When it was a lensml module that imported
Keras, that module is still half-initialised at that moment; the registration then waits for
the end of the lensml sub-package being imported (``register_if_keras_loaded`` at its end).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: Modules that define classes registered with ``keras.saving.register_keras_serializable``.
MODULES = ("lensml.physics.inverse_lensing", "lensml.physics.lens_equation", "lensml.physics.poisson",
           "lensml.physics.preprocessing", "lensml.physics.sis_deflection", "lensml.layers",
           "lensml.models", "lensml.training.metrics", "lensml.ssl")

_done = False


def _lensml_initialising(finishing: str | None) -> bool:
    return any(getattr(getattr(m, "__spec__", None), "_initializing", False)
               for name, m in list(sys.modules.items())
               if (name == "lensml" or name.startswith("lensml.")) and name != finishing)


def register_if_keras_loaded(finishing: str | None = None) -> bool:
    """Import every module with registered Keras classes, once, if Keras is loaded and no lensml
    module is mid-import (``finishing``: the module calling this at the end of its own body,
    whose names are all defined). Returns whether the classes are registered."""
    global _done
    if _done:
        return True
    if "keras" not in sys.modules or _lensml_initialising(finishing):
        return False
    _done = True
    for module in MODULES:
        importlib.import_module(module)
    return True


class _AfterKeras(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of ``keras`` to register lensml's classes after it."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec("keras")
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_register(module):
            exec_module(module)
            sys.modules["keras"] = module
            register_if_keras_loaded()

        loader.exec_module = exec_and_register
        return spec


def install() -> None:
    """Register now (Keras already loaded) or after Keras' import. Called at the end of
    ``lensml/__init__.py``."""
    if register_if_keras_loaded(finishing="lensml"):
        return
    if "keras" not in sys.modules and not any(isinstance(f, _AfterKeras) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())
