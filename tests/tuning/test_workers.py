"""Fault tolerance and sharing: a study killed mid-run resumes from its SQLite file; two
worker processes share one study (SQLite and journal storage)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from lensml.tuning import create_study, make_storage, optimize

ROOT = Path(__file__).resolve().parents[2]
WORKER = str(Path(__file__).with_name("worker.py"))


def _spawn(url, study, n_trials, sleep_s, *barrier):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, WORKER, url, study, str(n_trials), str(sleep_s), *map(str, barrier)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _trials(url, study, states=None):
    storage = make_storage(url, heartbeat_interval=None)
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False, states=states)


def _complete(url, study):
    return _trials(url, study, (optuna.trial.TrialState.COMPLETE,))


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_killed_study_resumes_without_repeating(tmp_path, kind):
    # Both storages have heartbeats (the journal's are lensml's, lensml.tuning.heartbeat).
    url = f"sqlite:///{tmp_path / 'study.db'}" if kind == "sqlite" else f"journal:{tmp_path / 'study.log'}"
    n = 4
    first = _spawn(url, "resume", n, 0.5)
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.05)
        try:
            trials = _trials(url, "resume")
        except (KeyError, ValueError):  # study not created yet
            continue
        done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        running = [t for t in trials if t.state == optuna.trial.TrialState.RUNNING and t.params]
        if len(done) >= 2 and running:  # kill in the middle of a trial with its parameters:
            first.send_signal(signal.SIGSTOP)  # frozen, and its trial still running (not finished since)
            if _trials(url, "resume")[running[0].number].state == optuna.trial.TrialState.RUNNING:
                break
            first.send_signal(signal.SIGCONT)
    assert first.poll() is None, first.stderr.read().decode()
    first.send_signal(signal.SIGKILL)
    first.wait()
    before = {t.number: t.params for t in _complete(url, "resume")}
    assert 2 <= len(before) < n
    time.sleep(2.5)  # longer than the grace period: the killed trial is stale
    second = _spawn(url, "resume", n, 0.1)
    assert second.wait(timeout=60) == 0, second.stderr.read().decode()

    trials = _trials(url, "resume")
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == n
    # Completed trials of the first run are kept unchanged, none is run again.
    for t in complete:
        if t.number in before:
            assert t.params == before[t.number]
    new = [t for t in complete if t.user_attrs["pid"] == second.pid]
    assert len(new) == n - len(before)
    # The trial that was running when the worker died is failed and retried with its params and seed.
    # (A worker killed between creating a trial and suggesting its parameters leaves a trial
    # with no parameters and no seed: its retry draws both afresh.)
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    # the kill landed inside a trial: exactly that one is failed, and the checks below run on it
    assert len(failed) == 1, [(t.number, t.state) for t in trials]
    for f in failed:
        retries = [t for t in trials if t.system_attrs.get("failed_trial") == f.number]
        assert retries
        if f.params:
            assert retries[0].params == f.params
        if "seed" in f.user_attrs:
            assert retries[0].user_attrs["seed"] == f.user_attrs["seed"]
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_trial_killed_before_its_first_heartbeat_is_failed_and_retried(tmp_path):
    # study.ask() creates a RUNNING trial before the heartbeat thread's first beat; a worker
    # killed in between left that trial RUNNING forever (seen in CI as a flaky kill test).
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = make_storage(url, heartbeat_interval=1, grace_period=1, max_retry=1)
    study = create_study("silent", storage, ["minimize"], sampler="random", pruner="none")
    orphan = study.ask()  # what the killed worker left: RUNNING, no heartbeat, no params
    assert study.trials[orphan.number].state == optuna.trial.TrialState.RUNNING
    # The orphan holds one of the 3 trials of the budget, so optimize waits until it is stale
    # (its start older than the grace period), fails it and runs its retry: 3 trials, not 4.
    start = time.monotonic()
    assert optimize(study, lambda t: t.suggest_float("x", -1, 1) ** 2, 3) == 3
    assert time.monotonic() - start >= 1.0
    trials = study.trials
    assert trials[orphan.number].state == optuna.trial.TrialState.FAIL
    assert [t for t in trials if t.system_attrs.get("failed_trial") == orphan.number]
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials) == 3
    assert [t.number for t in trials] == list(range(4))


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_two_workers_share_a_study(tmp_path, kind):
    # Journal storage is the one for several processes on one machine; SQLite works too (the
    # README says so), its file locks only make concurrent workers slower.

    url = f"sqlite:///{tmp_path / 'shared.db'}" if kind == "sqlite" else f"journal:{tmp_path / 'shared.log'}"
    n = 4
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    workers = [_spawn(url, "shared", n, 0.3, barrier, 2) for _ in range(2)]
    for w in workers:
        assert w.wait(timeout=90) == 0, w.stderr.read().decode()
    complete = _complete(url, "shared")
    # The budget is queued: the workers end with exactly n trials between them.
    assert len(complete) == n
    assert [t.number for t in _trials(url, "shared")] == list(range(n))
    pids = {t.user_attrs["pid"] for t in complete}
    assert pids == {w.pid for w in workers}
    assert len({t.number for t in complete}) == len(complete)


def _wait_for(predicate, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
        except (KeyError, ValueError):  # study not created yet
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_a_worker_whose_trial_was_failed_as_stale_goes_on(tmp_path):
    """A frozen worker (SIGSTOP, longer than the grace period) has its trial failed and retried
    by the other; thawed, it cannot tell that trial and goes on with the next one (exit 0)."""
    url = f"journal:{tmp_path / 'frozen.log'}"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    n = 5
    a, b = (_spawn(url, "frozen", n, 1.5, barrier, 2) for _ in range(2))
    running = _wait_for(lambda: [t for t in _trials(url, "frozen", (optuna.trial.TrialState.RUNNING,))
                                 if t.user_attrs.get("pid") == a.pid])
    a.send_signal(signal.SIGSTOP)
    frozen = running[0].number
    _wait_for(lambda: _trials(url, "frozen")[frozen].state == optuna.trial.TrialState.FAIL, timeout=30)
    a.send_signal(signal.SIGCONT)
    for w in (a, b):
        assert w.wait(timeout=90) == 0, w.stderr.read().decode()[-2000:]
    trials = _trials(url, "frozen")
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials) == n
    assert [t for t in trials if t.system_attrs.get("failed_trial") == frozen]  # retried


@pytest.mark.slow
def test_a_left_over_journal_lock_is_broken_without_failing_live_trials(tmp_path):
    """A lock file left by a writer killed mid-write blocks the journal: after the grace period
    it is broken, and the live workers' trials, whose heartbeats could not be written
    meanwhile, are not judged stale."""
    journal = tmp_path / "locked.log"
    url = f"journal:{journal}"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    n = 4
    workers = [_spawn(url, "locked", n, 2.0, barrier, 2) for _ in range(2)]
    _wait_for(lambda: len([t for t in _trials(url, "locked", (optuna.trial.TrialState.RUNNING,))
                           if t.user_attrs.get("pid")]) == 2)
    # What optuna's JournalFileSymlinkLock leaves when its writer is killed. A live worker may
    # hold the lock this instant (heartbeats): take it the moment it is free, as a writer would.
    deadline = time.time() + 30
    while True:
        try:
            os.symlink(journal, f"{journal}.lock")
            break
        except FileExistsError:
            assert time.time() < deadline, "the workers never released the journal lock"
            time.sleep(0.001)
    locked_at = time.time()
    for w in workers:
        assert w.wait(timeout=90) == 0, w.stderr.read().decode()[-2000:]
    waited = time.time() - locked_at
    assert 2.0 < waited < 20.0  # broken after the storage's grace period (2 s), not Optuna's default 30 s
    trials = _trials(url, "locked")
    assert [t.state.name for t in trials] == ["COMPLETE"] * n  # none failed, none retried
