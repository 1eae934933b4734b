"""Training callbacks: Keras's standard ones, with checkpoints written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import keras


class DataEpoch(keras.callbacks.Callback):
    """Sets the epoch variable of an epoch-indexed training dataset (``lensml.data.pipeline(
    epoch=...)``) to ``fit``'s epoch when it begins, so the iterator a (resumed) run creates
    starts at that epoch's batches."""

    def __init__(self, variable):
        super().__init__()
        self.variable = variable

    def on_epoch_begin(self, epoch, logs=None):
        self.variable.assign(int(epoch))


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` whose restore failure (a backup truncated or damaged
    on disk) is an error that names the backup folder and what to do, not a deep h5py trace."""

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except Exception as e:  # noqa: BLE001 - any unreadable backup file
            raise RuntimeError(
                f"cannot resume from the training backup in {self.backup_dir!r}: {type(e).__name__}: {e}. "
                "The backup is damaged (e.g. truncated by a full disk); delete that folder to start this "
                "seed's run over, the rest of the run folder is kept") from e


class HistoryCSV(keras.callbacks.Callback):
    """One CSV row per epoch (``epoch`` then the logged metrics, like ``keras.callbacks.CSVLogger``),
    rewritten atomically at every epoch end, each epoch exactly once across resumes.

    Placed before ``BackupAndRestore`` in the callback list, a run killed between the two writes
    redoes that epoch on resume; the rows of epochs >= the one it resumes at are replaced, never
    duplicated, and a row is never missing (the backup is only written after the row).
    """

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)

    def on_epoch_end(self, epoch, logs=None):
        from lensml._io import read_csv_rows, write_csv_atomic

        rows = [r for r in read_csv_rows(self.path) if int(r["epoch"]) < int(epoch)]  # a redone epoch replaces its row
        rows.append({"epoch": int(epoch), **{k: float(v) for k, v in (logs or {}).items()}})
        write_csv_atomic(self.path, rows, ["epoch"] + sorted({k for r in rows for k in r if k != "epoch"}))


def monitor_mode(monitor: str) -> str:
    """"max" for metrics where larger is better (accuracy, AUC, F1, R^2), else "min" (losses, errors)."""
    return "max" if any(s in monitor for s in ("acc", "auc", "f1", "r2")) else "min"


class AtomicModelCheckpoint(keras.callbacks.Callback):
    """Saves the model (``.keras``) whenever the epoch's ``monitor`` is the best so far, like
    ``keras.callbacks.ModelCheckpoint(save_best_only=True)``, through a temporary file and a
    rename (:func:`save_model_atomic`), so a process killed while saving never leaves a
    half-written checkpoint behind (the previous one stays intact). Public Keras API only.

    ``mode``: "min" or "max" (default :func:`monitor_mode`). ``history``: the run's ``HistoryCSV``
    file. A run resumed at epoch k starts from the best monitored value of epochs < k (else its
    first epoch would overwrite a better checkpoint of the killed run), so the best checkpoint is
    the one an uninterrupted run keeps.
    """

    def __init__(self, filepath, monitor="val_loss", *, history=None, mode=None, verbose=0):
        super().__init__()
        self.filepath = Path(filepath)
        self.monitor = monitor
        self.mode = mode or monitor_mode(monitor)
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode: got {mode!r}, expected 'min' or 'max'")
        self.verbose = verbose
        self.best = None
        self._history = Path(history) if history else None
        self._started = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._started:
            return
        self._started = True
        if not epoch or self._history is None:
            return
        from lensml._io import read_csv_rows

        done = [float(r[self.monitor]) for r in read_csv_rows(self._history)
                if int(r["epoch"]) < epoch and r.get(self.monitor) not in (None, "")]
        if done:
            self.best = max(done) if self.mode == "max" else min(done)

    def on_epoch_end(self, epoch, logs=None):
        import math
        import warnings

        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"AtomicModelCheckpoint: {self.monitor!r} is not logged (logged: {sorted(logs or {})}); "
                          "no checkpoint saved", stacklevel=2)
            return
        value = float(value)
        if math.isnan(value):
            return
        if self.best is not None and not (value > self.best if self.mode == "max" else value < self.best):
            return
        self.best = value
        save_model_atomic(self.model, self.filepath)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} = {value:.5g}, saved model to {self.filepath}", flush=True)


def save_model_atomic(model, path: str | os.PathLike) -> Path:
    """``model.save(path)`` through a temporary ``.keras`` file and a rename (``lensml._io``)."""
    from lensml._io import atomic_target

    with atomic_target(path) as tmp:
        model.save(tmp, overwrite=True)
    return Path(path)
