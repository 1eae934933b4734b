"""optuna-integration's Keras 3 pruning callback prunes a trial fed a bad metric."""

import optuna
import pytest

from lensml.tuning import create_study, make_storage, optimize, pruning_callback


def test_median_pruner_prunes_a_trial_with_a_bad_metric(tmp_path):
    storage = make_storage(f"sqlite:///{tmp_path / 'p.db'}", heartbeat_interval=None)
    study = create_study("prune", storage, ["maximize"], pruner="median", startup_trials=2, sampler="random")
    scores = iter([0.9, 0.8, 0.95, 0.01])
    epochs_run = []

    def objective(trial):
        # What model.fit does each epoch: hand the epoch's logs to the callback.
        score = next(scores)
        callback = pruning_callback(trial, "val_score")
        for epoch in range(3):
            callback.on_epoch_end(epoch, {"val_score": score, "loss": 1.0})
            epochs_run.append(trial.number)
        return score

    optimize(study, objective, 4)
    states = [t.state for t in study.trials]
    assert states[:3] == [optuna.trial.TrialState.COMPLETE] * 3
    assert states[3] == optuna.trial.TrialState.PRUNED
    # Pruned after its first epoch, not trained to the end.
    assert study.trials[3].last_step == 0
    assert epochs_run.count(3) == 0 and epochs_run.count(2) == 3


def test_pruning_callback_is_the_keras_callback_of_optuna_integration(tmp_path):
    import keras
    from optuna_integration import KerasPruningCallback

    study = optuna.create_study()
    cb = pruning_callback(study.ask(), "val_loss")
    assert isinstance(cb, KerasPruningCallback) and isinstance(cb, keras.callbacks.Callback)
    with pytest.warns(UserWarning, match="not in the evaluation logs"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_hyperband_pruner_is_selectable(tmp_path):
    storage = make_storage(f"sqlite:///{tmp_path / 'h.db'}", heartbeat_interval=None)
    study = create_study("hb", storage, ["minimize"], pruner="hyperband", max_resource=3)
    assert isinstance(study.pruner, optuna.pruners.HyperbandPruner)
