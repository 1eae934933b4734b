"""lensml.training: typed experiment configs and the run engine.

    >>> from lensml.training import load_config, run
    >>> config = load_config("train/resnet18_model_ii_3k.toml", {"training.epochs": 2})
    >>> result = run(config)          # trains every seed in config.seeds
    >>> result["metrics"]["val_accuracy"]

Modules, one idea each: ``config`` (the schema, loading, overrides, validation messages),
``checks`` (what a config asks of its model and data), ``runner`` (``run`` / ``run_seed``:
data, model, compile, callbacks, fit, results; ``test_metrics``, the one test evaluation),
``callbacks``, ``distribute`` (one process or several), ``warm_start`` (``model.init_from``),
``run_folder`` (one owner and one config per output folder), ``metrics``, ``toml_writer`` and
``shipped`` (the configs and scripts lensml ships), ``recipes`` (each model's training
defaults, ``recipe(name)``). What is built from runs (label efficiency,
transfer, pretraining, paper tables, studies) is :mod:`lensml.protocols`.

Importing this package does not import Keras (the CLI stays fast); ``run`` does.
"""

import importlib

from lensml.training.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    OutputConfig,
    TrainingConfig,
    TuneConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
    parse_set_option,
    save_config,
)
from lensml.training.recipes import recipe
from lensml.training.warm_start import warm_start

#: names loaded on first use (their module imports Keras)
_LAZY = {"run": "lensml.training.runner", "run_seed": "lensml.training.runner"}

__all__ = ["DataConfig", "ExperimentConfig", "ModelConfig", "OutputConfig", "TrainingConfig", "TuneConfig",
           "apply_overrides", "config_from_dict", "config_to_dict", "load_config", "parse_set_option",
           "save_config", "recipe", "warm_start", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lensml.training' has no attribute {name!r}")
