"""Training callbacks: Keras's standard ones, with checkpoints written atomically."""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path

import keras


class FirstStepNotice(keras.callbacks.Callback):
    """Say when training starts and when its first step is done: the first step traces and
    compiles the training graph, which can take a minute or two on a CPU (LensPINN, JAX) before
    Keras's progress shows anything. ``say`` is a callable taking one message."""

    def __init__(self, say):
        super().__init__()
        self.say, self._start = say, None

    def on_train_begin(self, logs=None):
        self._start = time.monotonic()
        self.say("compiling the training step (the first step can take a minute or two on a CPU) ...")

    def on_train_batch_end(self, batch, logs=None):
        if self._start is not None:
            self.say(f"first training step done after {time.monotonic() - self._start:.0f} s")
            self._start = None


class WallTimeBudget(keras.callbacks.Callback):
    """Stop training once ``seconds`` of wall time have passed since it began (compilation
    included), after the step that crossed it: the epoch ends there, is validated and
    checkpointed as usual. ``steps`` counts the optimizer steps taken; ``stopped`` says whether
    the budget ended the run (False: it finished its schedule first)."""

    def __init__(self, seconds: float):
        super().__init__()
        if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0):
            raise ValueError(f"seconds: expected a number > 0, got {seconds!r}")
        self.seconds = float(seconds)
        self.steps, self.stopped, self._start = 0, False, None

    def on_train_begin(self, logs=None):
        self._start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if time.monotonic() - self._start > self.seconds:
            self.stopped = True
            self.model.stop_training = True


class StopOnNonFinite(keras.callbacks.TerminateOnNaN):
    """``keras.callbacks.TerminateOnNaN`` that remembers where it stopped (``stopped_at``:
    (epoch, batch), None if it never did), so the run can report divergence instead of success."""

    def __init__(self):
        super().__init__()
        self.stopped_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = int(epoch)

    def on_batch_end(self, batch, logs=None):
        super().on_batch_end(batch, logs)
        if getattr(self.model, "stop_training", False) and self.stopped_at is None:
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.stopped_at = (self._epoch, int(batch))


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` whose backup is consistent at every moment and whose
    restore failure (a backup truncated or damaged on disk) is an error that names the backup
    folder and what to do, not a deep h5py trace.

    Keras writes the weights file in place and then ``training_metadata.json`` (the epoch to
    resume at): a process that dies between the two (a SIGKILL, or a multi-process job whose
    collective fails while the weights are saved) leaves the next epoch's weights with the
    previous epoch's number, or with none, and the resumed run trains from the wrong state.
    Here the weights file carries its own epoch (an HDF5 attribute, read first on restore) and
    replaces the previous one in a single rename.
    """

    def _save_model(self):
        import h5py

        from lensml._io import atomic_target, write_json_atomic

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for current, previous in ((self._weights_path, self._prev_weights_path),
                                      (self._training_metadata_path, self._prev_training_metadata_path)):
                if os.path.exists(current):
                    with atomic_target(previous) as tmp:
                        shutil.copyfile(current, tmp)
        with atomic_target(self._weights_path, suffix=".weights.h5") as tmp:
            self.model.save_weights(filepath=str(tmp), overwrite=True)
            with h5py.File(tmp, "a") as f:
                f.attrs["lensml_epoch"], f.attrs["lensml_batch"] = self._current_epoch, self._last_batch_seen
        write_json_atomic(self._training_metadata_path, {"epoch": self._current_epoch, "batch": self._last_batch_seen})

    def _load_model(self):
        epoch = None
        if os.path.exists(self._weights_path):
            import h5py

            with h5py.File(self._weights_path, "r") as f:  # OSError if damaged: Keras falls back to the previous
                epoch = f.attrs.get("lensml_epoch")
        super()._load_model()
        if epoch is not None:  # the weights' own epoch (a backup from before lensml wrote it: Keras's metadata)
            self.model._initial_epoch = int(epoch)

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except Exception as e:  # noqa: BLE001 - any unreadable backup file
            raise RuntimeError(
                f"cannot resume from the training backup in {self.backup_dir!r}: {type(e).__name__}: {e}. "
                "The backup is damaged (e.g. truncated by a full disk); delete that folder to start this "
                "seed's run over, the rest of the run folder is kept") from e

    def on_epoch_end(self, epoch, logs=None):
        # The backup holds the model's and the optimizer's variables twice (double_checkpoint);
        # h5py fails on a full disk in ways that can crash the interpreter, so check first.
        check_free_space(self.backup_dir, 2 * variables_bytes(self.model) + (1 << 20))
        try:
            super().on_epoch_end(epoch, logs)
        except OSError as e:
            raise OSError(e.errno, f"cannot write the training backup in {self.backup_dir!r}: {e}") from None


def variables_bytes(model) -> int:
    """Bytes of ``model``'s variables and its optimizer's (what a weights file holds)."""
    variables = list(model.variables) + list(getattr(getattr(model, "optimizer", None), "variables", []) or [])
    return int(sum(math.prod(v.shape) * _itemsize(v.dtype) for v in variables))


def _itemsize(dtype) -> int:
    import numpy as np

    try:
        return np.dtype(keras.backend.standardize_dtype(dtype)).itemsize
    except TypeError:  # bfloat16 and other dtypes numpy does not name
        return 2


def check_free_space(folder, needed: int) -> None:
    """OSError(ENOSPC) naming ``folder`` and both sizes when its disk has less than ``needed``
    bytes free (checked before a write that a full disk would leave half-done)."""
    import errno

    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise OSError(errno.ENOSPC, f"not enough disk space to write {str(folder)!r}: {free / 1e6:,.1f} MB free, "
                                    f"about {needed / 1e6:,.1f} MB needed; free some space and run the same "
                                    "command again (it resumes from the last complete backup)")


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
    """``model.save(path)`` through a temporary ``.keras`` file and a rename (``lensml._io``),
    after checking that the disk holds the model's variables (h5py on a full disk can crash)."""
    from lensml._io import atomic_target

    check_free_space(Path(path).parent, variables_bytes(model) + (1 << 20))
    with atomic_target(path) as tmp:
        model.save(tmp, overwrite=True)
    return Path(path)
