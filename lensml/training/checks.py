"""Checks of an experiment config against the registries, made when it loads for training
(``lensml train``, ``--dry-run``, ``lensml tune``, ``run`` with the default model factory), so a
misspelled model, option, loss, metric or target is reported before any dataset is built.
"""

from __future__ import annotations

from lensml.simulation.targets import target_names, task_of
from lensml.training.config import ExperimentConfig

#: Which evaluation protocol a ``data.target`` is tested under (``lensml.simulation.targets``).
TASK_OF_TARGET = {name: task_of(name) for name in target_names() if task_of(name)}
CLASSIFICATION_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")
#: Metrics lensml adds to Keras' (lensml.training.runner.build_metrics).
LENSML_METRICS = ("macro_auc",)


def evaluation_task(target: str) -> str:
    """The evaluation protocol of ``data.target`` ("classification", "regression",
    "super_resolution"); ValueError for a target without one (e.g. a convergence map)."""
    if target not in TASK_OF_TARGET:
        raise ValueError(f"config key 'data.target': {target!r} has no evaluation protocol (expected one of "
                         f"{sorted(TASK_OF_TARGET)}); set data.test_split = \"\" to train without a test evaluation")
    return TASK_OF_TARGET[target]


def check_loss_and_target(config: ExperimentConfig) -> None:
    """ValueError when ``training.loss`` does not fit ``data.target`` (a class loss on a
    regression target, or a regression loss on class labels)."""
    target, loss = config.data.target, config.training.loss
    task = TASK_OF_TARGET.get(target)
    if task is None:
        return
    if loss in CLASSIFICATION_LOSSES and task != "classification":
        raise ValueError(f"config key 'training.loss': {loss!r} is a classification loss but data.target = "
                         f"{target!r} is a {task} target (use e.g. loss = \"mse\" or \"huber\")")
    if task == "classification" and loss not in CLASSIFICATION_LOSSES:
        raise ValueError(f"config key 'training.loss': {loss!r} on class labels (data.target = 'label'); "
                         f"expected one of {CLASSIFICATION_LOSSES}")


def check_names(config: ExperimentConfig) -> None:
    """ValueError naming the config key of an unknown model, model option, loss or metric, or
    a loss that does not fit the target. Imports Keras and the model registry."""
    import keras

    from lensml.models.registry import available, check_options

    m, t = config.model, config.training
    if m.name not in available():
        raise ValueError(f"config key 'model.name': unknown model {m.name!r}; known models: {', '.join(available())}")
    try:
        check_options(m.name, m.options)
    except ValueError as e:
        raise ValueError(f"config key 'model.options': {e}") from None
    try:
        keras.losses.get(t.loss)
    except ValueError:
        raise ValueError(f"config key 'training.loss': unknown loss {t.loss!r} (a keras.losses name)") from None
    for metric in t.metrics:
        if metric in LENSML_METRICS:
            continue
        try:
            keras.metrics.get(metric)
        except ValueError:
            raise ValueError(f"config key 'training.metrics': unknown metric {metric!r} (a keras.metrics name "
                             f"or one of {LENSML_METRICS})") from None
    check_loss_and_target(config)
    if config.data.test_split:
        evaluation_task(config.data.target)
