"""A run folder survives a kill at any of an epoch's writes, a full disk, a second process,
a changed config and a diverging run (``lensml.training.run_folder``, ``runner.run_seed``).

The kills are emulated in-process: the write in question raises a BaseException (as SIGKILL, it
skips every ``except Exception`` and the end-of-training clean-up) after leaving what a killed
writer leaves (a temporary file), then the same config runs again in the same folder.
"""

import fcntl
import json
from pathlib import Path

import numpy as np
import pytest

from lensml.training import load_config, run_seed
from lensml.training.run_folder import RunFolderError

CONFIG = """
[data]
dataset = "synthetic:24:12"
batch_size = 8
shuffle = false
[model]
name = "tiny"
[training]
epochs = 4
learning_rate = 0.02
verbose = 0
run_eagerly = true
metrics = ["accuracy"]
"""


class Killed(BaseException):
    """What SIGKILL is to a process: nothing after it runs."""


def _config(write_config, name, text=CONFIG):
    return load_config(write_config(text, name=name))


def _summary(result):
    import keras

    best = keras.saving.load_model(result["paths"]["checkpoint"])
    probe = np.linspace(0, 1, 2 * 12 * 12, dtype="float32").reshape(2, 12, 12, 1)
    return result["history"], result["metrics"], np.asarray(best.predict(probe, verbose=0))


def _kill_at(monkeypatch, where, tmp_path):
    """Make the second write of ``where`` (the first one after epoch 0's) die like SIGKILL."""
    import keras

    from lensml import _io
    from lensml.training import callbacks

    calls = []

    def dying(real, leave=None):
        def write(*args, **kwargs):
            calls.append(where)
            if len(calls) == 2:
                if leave is not None:
                    leave(args)
                raise Killed(where)
            return real(*args, **kwargs)

        return write

    if where == "checkpoint":
        def leave_tmp(args):  # the half-written temporary file a SIGKILL leaves beside the target
            path = Path(args[1])
            path.parent.mkdir(parents=True, exist_ok=True)
            (path.parent / f".{path.stem}.abc123.tmp.keras").write_bytes(b"")

        monkeypatch.setattr(callbacks, "save_model_atomic", dying(callbacks.save_model_atomic, leave_tmp))
    elif where == "history":
        monkeypatch.setattr(_io, "write_csv_atomic", dying(_io.write_csv_atomic))
    elif where == "backup_metadata":  # the backup's weights written, its epoch number not yet
        monkeypatch.setattr(_io, "write_json_atomic", dying(_io.write_json_atomic))
    else:
        base = keras.callbacks.BackupAndRestore
        monkeypatch.setattr(base, "on_epoch_end", dying(base.on_epoch_end))
    return calls


@pytest.mark.slow
@pytest.mark.parametrize("where", ["checkpoint", "history", "backup", "backup_metadata"])
def test_a_kill_at_each_write_resumes_to_the_uninterrupted_result(where, write_config, model_factory,
                                                                  monkeypatch, tmp_path):
    straight = _summary(run_seed(_config(write_config, "straight"), 0, model_factory=model_factory))
    config = _config(write_config, "killed")
    with monkeypatch.context() as patch:
        calls = _kill_at(patch, where, tmp_path)
        with pytest.raises(Killed):
            run_seed(config, 0, model_factory=model_factory)
    assert len(calls) == 2, f"the {where} write was never reached a second time"
    resumed = run_seed(config, 0, model_factory=model_factory)
    history, metrics, predictions = _summary(resumed)
    assert sorted(history) == sorted(straight[0])
    for key, values in straight[0].items():
        np.testing.assert_allclose(history[key], values, rtol=1e-4, err_msg=key)
    for key in ("best_val_loss", "best_epoch", "test_accuracy", "test_macro_auc"):
        assert metrics[key] == pytest.approx(straight[1][key], rel=1e-4), key
    np.testing.assert_allclose(predictions, straight[2], rtol=1e-4, atol=1e-6)  # the same best checkpoint
    out = Path(resumed["paths"]["dir"])
    assert not [p for p in out.rglob("*") if ".tmp" in p.name] and not (out / "backup").exists()


def test_a_full_disk_is_one_clear_error_and_the_run_resumes(write_config, model_factory, monkeypatch):
    import shutil

    from lensml.training import callbacks

    config = _config(write_config, "full")
    real = shutil.disk_usage
    monkeypatch.setattr(callbacks.shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    # the epoch's first write, its best checkpoint, finds too little space (the backup checks the same way)
    with pytest.raises(OSError, match=r"not enough disk space to write '.*full/checkpoints': 0\.0 MB free, about "):
        run_seed(config, 0, model_factory=model_factory)
    monkeypatch.setattr(callbacks.shutil, "disk_usage", real)
    out = Path(config.output.dir.format(name="full"))
    assert not (out / "model.keras").exists() and not (out / "metrics.json").exists()
    result = run_seed(config, 0, model_factory=model_factory)  # space freed: the same command goes on
    assert len(result["history"]["loss"]) == 4


def test_one_owner_one_config(write_config, model_factory, tmp_path):
    config = _config(write_config, "owned")
    out = Path(config.output.dir.format(name="owned"))
    out.mkdir(parents=True)
    # another process holds the folder: refused at once, nothing written
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        with pytest.raises(RunFolderError, match=r"in use by another lensml process \(pid 4242\)"):
            run_seed(config, 0, model_factory=model_factory)
    assert sorted(p.name for p in out.iterdir()) == [".lock"]

    # an interrupted run resumes only with its own config
    from lensml.training.config import apply_overrides

    with pytest.raises(KeyboardInterrupt):
        run_seed(config, 0, model_factory=model_factory, callbacks=[_Interrupt(1)])
    changed = apply_overrides(config, {"training.learning_rate": 0.5, "training.epochs": 3})
    with pytest.raises(RunFolderError, match=r"training.epochs: 4 -> 3; training.learning_rate: 0.02 -> 0.5"):
        run_seed(changed, 0, model_factory=model_factory)
    assert load_config(out / "config.toml").training.learning_rate == 0.02  # not overwritten by the refusal
    moved = apply_overrides(config, {"description": "same run, new words"})
    with pytest.raises(RunFolderError, match="--resume-with-changes allows"):
        run_seed(moved, 0, model_factory=model_factory)
    result = run_seed(apply_overrides(moved, {"output.resume_with_changes": True}), 0, model_factory=model_factory)
    assert len(result["history"]["loss"]) == 4

    # a finished run is never overwritten silently; --overwrite starts afresh
    with pytest.raises(RunFolderError, match="already holds a finished run"):
        run_seed(config, 0, model_factory=model_factory)
    (out / "notes.txt").write_text("mine")
    fresh = run_seed(apply_overrides(changed, {"output.overwrite": True}), 0, model_factory=model_factory)
    assert len(fresh["history"]["loss"]) == 3 and (out / "notes.txt").read_text() == "mine"
    assert "overwrite" not in (out / "config.toml").read_text()  # how it was invoked is not the run's config


class _Interrupt:
    def __new__(cls, at):
        import keras

        class Interrupt(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == at:
                    raise KeyboardInterrupt

        return Interrupt()


def test_a_diverging_run_is_an_error_not_a_result(write_config, model_factory, tmp_path):
    from lensml.cli import main

    registry = (CONFIG.replace("learning_rate = 0.02", "learning_rate = 1e30").replace("synthetic:24:12", "synthetic:24:32")
                .replace('name = "tiny"', 'name = "resnet18"\noptions = { width = 4, stage_blocks = [1, 1, 1, 1] }'))
    assert main(["train", "--config", str(write_config(registry, name="diverged"))]) == 1
    out = tmp_path / "runs" / "diverged"
    assert not (out / "model.keras").exists() and not (out / "metrics.json").exists()
    assert not (out / "checkpoints").exists() and not (out / "backup").exists()
    from lensml.training.runner import TrainingDiverged

    path = write_config(CONFIG.replace("learning_rate = 0.02", "learning_rate = 1e30"), name="diverged_tiny")
    with pytest.raises(TrainingDiverged, match=r"training diverged \(a batch loss became NaN or inf in epoch"):
        run_seed(load_config(path), 0, model_factory=model_factory)


def test_locks_are_not_followed_through_symbolic_links(write_config, model_factory, tmp_path):
    """A lock path that is a symbolic link (planted to make lensml truncate or create another
    file) is refused, for the run folder and for a dataset build."""
    config = _config(write_config, "linked")
    out = Path(config.output.dir.format(name="linked"))
    out.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / ".lock").symlink_to(victim)
    with pytest.raises(RunFolderError, match="a symbolic link there is refused"):
        run_seed(config, 0, model_factory=model_factory)
    assert victim.read_text() == "keep me"

    import tensorflow_datasets as tfds

    import lensml  # noqa: F401  (registers deeplense)

    config_dir = tmp_path / "tfds" / "deeplense" / "model_ii_n5"
    config_dir.mkdir(parents=True)
    (config_dir / ".build.lock").symlink_to(victim)
    with pytest.raises(PermissionError, match="a symbolic link there is refused"):
        tfds.builder("deeplense/model_ii_n5", data_dir=str(tmp_path / "tfds")).download_and_prepare()
    assert victim.read_text() == "keep me"
