"""``lensml train`` killed with SIGKILL in the middle of an epoch and started again with the same
command: it resumes from its last completed epoch, its history has every epoch exactly once and
its final metrics equal those of an uninterrupted run of the same seed."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
name = "killed"
seeds = [0]
[data]
dataset = "deeplense/model_ii_published_tiny"
data_dir = "{data_dir}"
batch_size = 6
augment = "d4"
steps_per_epoch = 30
[model]
name = "resnet18"
options = {{ width = 4, stage_blocks = [1, 1, 1, 1] }}
[training]
epochs = 6
learning_rate = 3e-3
verbose = 0
[output]
dir = "{out}"
"""


def _train(config: Path, **popen):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "lensml", "train", "--config", str(config)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen)


def _rows(path: Path):
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_train_sigkilled_mid_epoch_resumes_every_epoch_once_with_equal_metrics(tmp_path):
    data_dir = tmp_path / "tfds"
    configs = {}
    for name in ("straight", "killed"):
        configs[name] = tmp_path / f"{name}.toml"
        configs[name].write_text(CONFIG.format(data_dir=data_dir, out=tmp_path / name))
    straight = _train(configs["straight"])  # also builds the tiny dataset
    assert straight.wait(timeout=600) == 0, straight.stderr.read()[-3000:]

    history = tmp_path / "killed" / "history.csv"
    proc = _train(configs["killed"], start_new_session=True)
    deadline = time.time() + 600
    while len(_rows(history)) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert len(_rows(history)) == 2, "the run never finished two epochs"
    time.sleep(0.4)  # inside epoch 3 (30 steps of a few tens of ms)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (tmp_path / "killed" / "backup").exists() and not (tmp_path / "killed" / "metrics.json").exists()
    resumed = _train(configs["killed"])
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()[-3000:]

    rows = _rows(history)
    assert [int(r["epoch"]) for r in rows] == list(range(6))  # every epoch exactly once
    reference = _rows(tmp_path / "straight" / "history.csv")
    # Same seed, same batches from the resumed epoch on (the data sequence is indexed by epoch),
    # same weights and optimizer state (BackupAndRestore): equal up to float round-off of
    # oneDNN's multi-threaded CPU kernels.
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose([float(r[key]) for r in rows], [float(r[key]) for r in reference], rtol=1e-4,
                                   err_msg=key)
    final = json.loads((tmp_path / "killed" / "metrics.json").read_text())["metrics"]
    expected = json.loads((tmp_path / "straight" / "metrics.json").read_text())["metrics"]
    for key in ("val_loss", "test_accuracy", "test_macro_auc"):
        assert final[key] == pytest.approx(expected[key], rel=1e-4), key
    assert not (tmp_path / "killed" / "backup").exists()  # removed once the run finished
