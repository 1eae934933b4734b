"""lensml._io: atomic writes and the one training-history CSV reader."""

import json
import os

import numpy as np
import pytest

from lensml._io import (atomic_target, read_csv_rows, read_history_csv, write_csv_atomic, write_json_atomic,
                        write_text_atomic)


def test_atomic_writes_leave_the_old_file_or_the_new_one(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    write_json_atomic(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    with pytest.raises(RuntimeError):
        with atomic_target(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert json.loads(path.read_text()) == {"a": 1}  # the complete previous version
    assert os.listdir(path.parent) == ["metrics.json"]  # no temporary file left behind
    write_text_atomic(path, "new\n")
    assert path.read_text() == "new\n"


def test_history_csv_round_trip_keeps_epochs_aligned(tmp_path):
    path = tmp_path / "history.csv"
    assert read_csv_rows(path) == [] and read_history_csv(path) == {}
    rows = [{"epoch": 0, "loss": 1.5}, {"epoch": 1, "loss": 1.0, "val_loss": 1.2}]
    write_csv_atomic(path, rows, ["epoch", "loss", "val_loss"])
    assert [r["epoch"] for r in read_csv_rows(path)] == ["0", "1"]
    history = read_history_csv(path)
    assert history["loss"] == [1.5, 1.0] and "epoch" not in history
    assert np.isnan(history["val_loss"][0]) and history["val_loss"][1] == 1.2  # a blank is NaN, not dropped


def test_files_take_the_umask_mode_not_a_private_one(tmp_path):
    """A research group's umask decides who reads lensml's results (mkstemp alone gives 0600)."""
    old = os.umask(0o002)
    try:
        write_text_atomic(tmp_path / "group.txt", "x")
        os.umask(0o077)
        write_text_atomic(tmp_path / "private.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "group.txt").stat().st_mode & 0o777 == 0o664
    assert (tmp_path / "private.txt").stat().st_mode & 0o777 == 0o600


def test_a_full_disk_names_the_file(tmp_path, monkeypatch):
    import errno

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match=r"cannot write '.*metrics.json': the disk is full \(.* MB free\)"):
        write_json_atomic(tmp_path / "metrics.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []
