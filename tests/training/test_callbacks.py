"""lensml's checkpoint callback (public Keras API only): keeps the best epoch's model, written
atomically, and a resumed run starts from the best value its history recorded."""

import keras
import numpy as np
import pytest

from lensml.training.callbacks import AtomicModelCheckpoint


def _model():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1, name="d")(inputs))
    model.compile(loss="mse")
    return model


def _epochs(callback, model, values, start=0):
    callback.set_model(model)
    for epoch, v in enumerate(values, start):
        callback.on_epoch_begin(epoch)
        model.get_layer("d").bias.assign([float(epoch)])  # tells which epoch's model was saved
        callback.on_epoch_end(epoch, {"val_loss": v, "val_accuracy": -v})


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
def test_keeps_the_best_epoch(tmp_path, monitor):
    path = tmp_path / "ckpt" / "best.keras"
    cb = AtomicModelCheckpoint(path, monitor=monitor)
    assert cb.mode == ("max" if monitor == "val_accuracy" else "min")
    _epochs(cb, _model(), [3.0, 1.0, 2.0, float("nan"), 1.5])
    saved = keras.saving.load_model(path)
    assert float(saved.get_layer("d").bias.numpy()[0]) == 1.0  # epoch 1 was the best
    assert cb.best == (1.0 if monitor == "val_loss" else -1.0)
    assert [p.name for p in path.parent.iterdir()] == ["best.keras"]  # no temporary file left


def test_resumed_run_starts_from_the_recorded_best(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("epoch,val_loss\n0,3.0\n1,0.5\n2,2.0\n")  # epochs of the killed run
    path = tmp_path / "best.keras"
    cb = AtomicModelCheckpoint(path, monitor="val_loss", history=history)
    _epochs(cb, _model(), [1.0], start=2)  # resumed at epoch 2: worse than epoch 1's 0.5
    assert not path.exists() and cb.best == 0.5


def test_missing_metric_and_bad_mode(tmp_path):
    cb = AtomicModelCheckpoint(tmp_path / "m.keras", monitor="val_auc")
    cb.set_model(_model())
    with pytest.warns(UserWarning, match="'val_auc' is not logged"):
        cb.on_epoch_end(0, {"val_loss": np.float32(1.0)})
    with pytest.raises(ValueError, match="mode: got 'up'"):
        AtomicModelCheckpoint(tmp_path / "m.keras", mode="up")
