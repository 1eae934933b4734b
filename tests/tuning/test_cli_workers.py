"""Three ``lensml tune`` processes (the real CLI) share one study through journal storage,
as workers on several machines would through PostgreSQL or a journal file on a shared disk."""

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from lensml.tuning import make_storage
from tests.tuning.cli_config import write_tune_config

ROOT = Path(__file__).resolve().parents[2]



@pytest.mark.slow
def test_three_cli_workers_share_one_journal_study(tmp_path):
    config = write_tune_config(tmp_path, "cli_workers")
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
