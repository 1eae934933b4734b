"""lensml.protocols: what is built from training runs, one module per protocol.

    >>> from lensml.protocols import train, run_label_efficiency, pretrain_then_finetune
    >>> from lensml.training import load_config
    >>> train(load_config("train/resnet18_model_ii_3k.toml"))   # one run, or a label-efficiency curve

- ``single_run``: ``train`` (what ``lensml train`` runs: ``lensml.training.run``, or the
  label-efficiency curve when ``label_fractions`` is set) and ``report_training``;
- ``label_efficiency``: ``run_label_efficiency``, ``run_ssl_label_efficiency``;
- ``transfer``: ``run_cross_instrument``;
- ``pretraining``: ``pretrain``, ``finetune``, ``pretrain_then_finetune`` (the SSL chain);
- ``reproduce`` (a paper's table, its rows as data), ``quickstart``, ``speed``, ``tuning``
  (``tune``: an Optuna study of a config).

Every run is the engine's (:mod:`lensml.training`) and tested by its one test evaluation;
the scripts in ``train/``, ``evaluate/`` and ``benchmarks/`` and the CLI (:mod:`lensml.cli`)
wrap these functions. Importing this package imports no framework.
"""

import importlib

#: public name -> (module, attribute), loaded on first use
_LAZY = {
    "train": ("single_run", "train"),
    "report_training": ("single_run", "report_training"),
    "run_label_efficiency": ("label_efficiency", "run_label_efficiency"),
    "run_ssl_label_efficiency": ("label_efficiency", "run_ssl_label_efficiency"),
    "run_cross_instrument": ("transfer", "run_cross_instrument"),
    "pretrain": ("pretraining", "pretrain"),
    "finetune": ("pretraining", "finetune"),
    "pretrain_then_finetune": ("pretraining", "pretrain_then_finetune"),
    "tune": ("tuning", "tune_experiment"),
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(f"lensml.protocols.{module}"), attribute)
    raise AttributeError(f"module 'lensml.protocols' has no attribute {name!r}")
