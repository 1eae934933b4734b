"""lensml.experiments: typed experiment configs and the one ``run(config)``.

    >>> from lensml.experiments import load_config, run
    >>> config = load_config("train/resnet18_model_ii_3k.toml", {"training.epochs": 2})
    >>> result = run(config)          # trains every seed in config.seeds
    >>> result["metrics"]["val_accuracy"]
    >>> pretrain_then_finetune(load_config("train/ssl/pretrain_byol_resnet50_model_ii.toml"),
    ...                        load_config("train/ssl/finetune_byol_resnet50_model_ii.toml"), seed=0)

Protocols built from runs: ``train`` (one run, or a label-efficiency curve), the
self-supervised chain (``lensml.experiments.pretraining``: ``pretrain``, ``finetune``,
``pretrain_then_finetune``), the many-run protocols (``lensml.experiments.protocols``:
``run_label_efficiency``, ``run_ssl_label_efficiency``, ``run_cross_instrument``), ``tune``
(Optuna) and ``lensml.experiments.reproduce`` (a paper's table). Every run is tested by the
one test evaluation ``lensml.experiments.runner.test_metrics``; the scripts in ``train/``,
``evaluate/`` and ``benchmarks/`` and the CLI commands wrap these functions.

Importing this package does not import Keras (the CLI stays fast); ``run`` does.
"""

from lensml.experiments.config import (
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
)
from lensml.experiments.warm_start import warm_start

__all__ = [
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "OutputConfig",
    "TrainingConfig",
    "TuneConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "parse_set_option",
    "finetune",
    "pretrain",
    "pretrain_then_finetune",
    "run",
    "run_cross_instrument",
    "run_label_efficiency",
    "run_seed",
    "run_ssl_label_efficiency",
    "report_training",
    "save_config",
    "train",
    "tune",
    "warm_start",
]


def run(config, **kwargs):
    """Train ``config`` (see :func:`lensml.experiments.runner.run`)."""
    from lensml.experiments.runner import run as _run

    return _run(config, **kwargs)


def train(config, **kwargs):
    """One experiment as ``lensml train`` and ``train/train.py`` run it: the label-efficiency
    protocol (:func:`run_label_efficiency`) when ``config.label_fractions`` is set, else
    :func:`run`. Returns that function's result."""
    if config.label_fractions:
        return run_label_efficiency(config, **kwargs)
    return run(config, **kwargs)


def report_training(config, result) -> str:
    """What ``lensml train`` prints of a :func:`train` result: the label-efficiency summary and
    the curve's path, or the run summary (JSON)."""
    import json

    if config.label_fractions:
        return (json.dumps(result["summary"], indent=2, default=str)
                + f"\nlabel-efficiency curve: {result['paths']['summary']}")
    return json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2, default=str)


def run_seed(config, seed, **kwargs):
    """Train one seed of ``config`` (see :func:`lensml.experiments.runner.run_seed`)."""
    from lensml.experiments.runner import run_seed as _run_seed

    return _run_seed(config, seed, **kwargs)


def run_label_efficiency(config, fractions=None, **kwargs):
    """Label-efficiency curve (see :func:`lensml.experiments.protocols.run_label_efficiency`)."""
    from lensml.experiments.protocols import run_label_efficiency as _rle

    return _rle(config, fractions, **kwargs)


def run_cross_instrument(source, target, out_dir, **kwargs):
    """Cross-instrument transfer (see :func:`lensml.experiments.protocols.run_cross_instrument`)."""
    from lensml.experiments.protocols import run_cross_instrument as _rci

    return _rci(source, target, out_dir, **kwargs)


def run_ssl_label_efficiency(pretrain_config, finetune_config, fractions=None, **kwargs):
    """SSL-pretrained vs from-scratch at each label fraction (see
    :func:`lensml.experiments.protocols.run_ssl_label_efficiency`)."""
    from lensml.experiments.protocols import run_ssl_label_efficiency as _rsle

    return _rsle(pretrain_config, finetune_config, fractions, **kwargs)


def pretrain(config):
    """Pretrain every seed of an SSL config (see :func:`lensml.experiments.pretraining.pretrain`)."""
    from lensml.experiments.pretraining import pretrain as _pretrain

    return _pretrain(config)


def finetune(config):
    """Fine-tune every seed of a downstream config (see :func:`lensml.experiments.pretraining.finetune`)."""
    from lensml.experiments.pretraining import finetune as _finetune

    return _finetune(config)


def pretrain_then_finetune(pretrain_config, finetune_config, seed, **kwargs):
    """One seed of an SSL row, pretraining then fine-tuning (see
    :func:`lensml.experiments.pretraining.pretrain_then_finetune`)."""
    from lensml.experiments.pretraining import pretrain_then_finetune as _chain

    return _chain(pretrain_config, finetune_config, seed, **kwargs)


def save_config(config, path):
    """Write ``config`` as a TOML file that :func:`load_config` reads back."""
    from lensml.experiments.toml_writer import dump

    return dump(config_to_dict(config), path)


def tune(config, **kwargs):
    """Run the Optuna study in ``config.tune`` (see :func:`lensml.experiments.tuning_study.tune_experiment`)."""
    from lensml.experiments.tuning_study import tune_experiment

    return tune_experiment(config, **kwargs)
