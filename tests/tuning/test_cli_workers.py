"""Three ``lensml tune`` processes (the real CLI) share one study through journal storage,
as workers on several machines would through PostgreSQL or a journal file on a shared disk."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest

from lensml.tuning import make_storage

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
name = "cli_workers"
[data]
dataset = "synthetic:12:8"
batch_size = 6
[model]
name = "vit"
[model.options]
patch_size = 4
embed_dim = 4
depth = 1
num_heads = 1
mlp_dim = 4
dropout = 0.0
[training]
epochs = 1
verbose = 0
run_eagerly = EAGER
[output]
dir = "OUT/runs/{name}"
save_model = false
[tune]
objectives = ["val_loss"]
sampler = "random"
pruner = "none"
seed_policy = "per_trial"
[tune.params."training.learning_rate"]
type = "float"
low = 1e-3
high = 1e-1
log = true
"""


@pytest.mark.slow
def test_three_cli_workers_share_one_journal_study(tmp_path):
    config = tmp_path / "cli_workers.toml"
    # Eager is fastest for a few tiny steps on TF; JAX's eager mode compiles every primitive apart.
    eager = "true" if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" else "false"
    config.write_text(textwrap.dedent(CONFIG.replace("OUT", str(tmp_path)).replace("EAGER", eager)))
    url = f"journal:{tmp_path / 'study.log'}"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    n = 3
    command = [sys.executable, "-m", "lensml", "tune", "--config", str(config), "--storage", url,
               "--study", "shared", "--n-trials", str(n), "--no-report"]
    workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(3)]
    for w in workers:
        out, err = w.communicate(timeout=400)
        assert w.returncode == 0, out[-2000:] + err[-4000:]
    study = optuna.load_study(study_name="shared", storage=make_storage(url))
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # The budget is queued (lensml.tuning.budget): exactly n trials, numbered 0..n-1.
    assert len(done) == n
    assert [t.number for t in study.trials] == list(range(n))
    assert len({t.params["training.learning_rate"] for t in done}) == len(done)
    assert all(t.values is not None and len(t.values) == 1 for t in done)
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
