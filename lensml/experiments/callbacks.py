"""Training callbacks: Keras's standard ones, with checkpoints written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import keras


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """``keras.callbacks.ModelCheckpoint`` that saves to a temporary ``.keras`` file and
    renames it over the target, so a process killed while saving never leaves a
    half-written checkpoint behind (the previous one stays intact)."""

    def _save_model(self, epoch, batch, logs):
        if self.save_weights_only or not hasattr(self, "_should_save_model"):
            return super()._save_model(epoch, batch, logs)
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        target = Path(filepath)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.keras")
        try:
            self.model.save(tmp, overwrite=True)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saved model to {target}", flush=True)


def save_model_atomic(model, path: str | os.PathLike) -> Path:
    """``model.save(path)`` through a temporary file and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(tmp, overwrite=True)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
