"""lensml's tuning on a real PostgreSQL server (tests/tuning/conftest.py starts or finds it):
workers sharing one study with heartbeats, one SIGKILLed in the middle of a trial. The study
ends with exactly the budget of finished trials; the killed trial is failed and retried once,
with its parameters and seed; trial numbers run 0..N-1 with none lost or repeated."""

import functools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path

import optuna
import pytest

from lensml.tuning import create_study, make_storage, optimize
from lensml.tuning.budget import _PG_LOCK_SPACE, BUDGET_KEY, NoTrialLeft, queue_trials, storage_of
from tests.tuning.cli_config import write_tune_config

ROOT = Path(__file__).resolve().parents[2]
WORKER = str(Path(__file__).with_name("worker.py"))
TS = optuna.trial.TrialState


@functools.lru_cache(maxsize=None)
def _storage(url):
    # one storage (one connection pool) per server: a new one per look would hold its own
    # connections until collected, and a long poll would exhaust the server's max_connections
    return make_storage(url, heartbeat_interval=None)


def _study(url, name):
    return optuna.load_study(study_name=name, storage=_storage(url))


def _kill_one_mid_trial(url, name, workers, owner_attr, started, after_a_finished_trial=True, timeout=300):
    """SIGKILL the worker running a trial that has its parameters (once one trial has finished,
    if ``after_a_finished_trial``); returns that trial. ``owner_attr(trial)`` gives the pid of the
    trial's worker, ``started(trial)`` whether its objective is under way and not finishing."""
    pids = {w.pid: w for w in workers}
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.05)
        try:
            trials = _study(url, name).get_trials(deepcopy=False)
        except KeyError:  # not created yet
            continue
        done = [t for t in trials if t.state == TS.COMPLETE]
        for t in trials:
            if (done or not after_a_finished_trial) and t.state == TS.RUNNING and t.params and started(t) and owner_attr(t) in pids:
                victim = pids[owner_attr(t)]
                assert victim.poll() is None
                # Freeze it, then make sure its trial is still running (a loaded machine may have let it
                # finish since we looked): only then is the SIGKILL in the middle of a trial.
                victim.send_signal(signal.SIGSTOP)
                now = _study(url, name).trials[t.number]
                if now.state != TS.RUNNING or not started(now):
                    victim.send_signal(signal.SIGCONT)
                    break
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                return now, victim
        assert all(w.poll() in (None, 0) for w in workers), [w.stderr.read() for w in workers if w.poll()]
    raise AssertionError("no trial was seen running")


def _check_exact(url, name, n, killed):
    trials = _study(url, name).get_trials(deepcopy=False)
    table = [(t.number, t.state.name, t.params, t.user_attrs, t.system_attrs) for t in trials]
    assert sum(t.state == TS.COMPLETE for t in trials) == n, table
    assert [t.number for t in trials] == list(range(n + 1)), "a trial number is lost or repeated"
    failed = [t for t in trials if t.state == TS.FAIL]
    assert [t.number for t in failed] == [killed.number]
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1 and retries[0].state == TS.COMPLETE
    assert retries[0].params == killed.params
    assert retries[0].user_attrs["seed"] == killed.user_attrs["seed"]
    assert not [t for t in trials if t.state in (TS.RUNNING, TS.WAITING)]
    return trials, retries[0]


def test_four_workers_one_killed_mid_trial(postgres_url):
    name = f"pg_kill_{uuid.uuid4().hex[:8]}"
    n = 8
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    workers = [subprocess.Popen([sys.executable, WORKER, postgres_url, name, str(n), "0.6"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    killed, victim = _kill_one_mid_trial(postgres_url, name, workers, lambda t: t.user_attrs.get("pid"),
                                         lambda t: "pid" in t.user_attrs)
    for w in workers:
        if w is not victim:
            assert w.wait(timeout=120) == 0, w.stderr.read()[-3000:]
    trials, retry = _check_exact(postgres_url, name, n, killed)
    assert retry.user_attrs["pid"] != victim.pid




@pytest.mark.slow
def test_four_lensml_tune_workers_one_killed_mid_trial(postgres_url, tmp_path):
    # The real CLI: four `lensml tune` processes on one PostgreSQL study with heartbeats.
    config = write_tune_config(tmp_path, "pg_workers", examples=24, epochs=3,
                               extra="heartbeat_interval = 1\ngrace_period = 3\nmax_retry = 1")
    name, n = f"pg_cli_{uuid.uuid4().hex[:8]}", 6
    command = [sys.executable, "-m", "lensml", "tune", "--config", str(config), "--storage", postgres_url,
               "--study", name, "--n-trials", str(n), "--no-report"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True) for _ in range(4)]
    pid = lambda t: int(t.user_attrs["worker"].rsplit(":", 1)[1]) if "worker" in t.user_attrs else None  # noqa: E731
    # "num_params" is recorded once the trial's training is over: kill before that. Not waiting for a finished
    # trial: the CLI's trials are short once a worker has traced its model, and a loaded machine (one look at
    # the study can take a second) missed every later trial's window; a worker's first trial (model built and
    # traced) leaves seconds to see it.
    killed, victim = _kill_one_mid_trial(postgres_url, name, workers, pid, lambda t: "num_params" not in t.user_attrs,
                                         after_a_finished_trial=False)
    for w in workers:
        if w is not victim:
            _, err = w.communicate(timeout=400)
            assert w.returncode == 0, err[-4000:]
    trials, retry = _check_exact(postgres_url, name, n, killed)
    assert pid(retry) != victim.pid
    assert all(len(t.values) == 1 for t in trials if t.state == TS.COMPLETE)


def test_budget_guard_and_lock(postgres_url):
    storage = make_storage(postgres_url, heartbeat_interval=None)
    study = create_study(f"pg_budget_{uuid.uuid4().hex[:8]}", storage, ["minimize"], sampler="random", pruner="none")
    assert storage_of(study) is storage
    assert queue_trials(study, 2) == 2 and queue_trials(study, 2) == 0
    assert storage.get_study_system_attrs(study._study_id)[BUDGET_KEY] is True
    assert optimize(study, lambda t: t.suggest_float("x", 0, 1), 2) == 2
    with pytest.raises(NoTrialLeft):
        study.ask()  # nothing queued: the storage refuses a trial outside the budget
    # The budget lock is PostgreSQL's advisory lock, held across connections.
    from sqlalchemy import text

    held, released = threading.Event(), threading.Event()

    def hold():
        with storage.budget_lock(study.study_name):
            held.set()
            released.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    key = dict(a=_PG_LOCK_SPACE, b=zlib.crc32(study.study_name.encode()) - 2**31)
    with storage.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), key).scalar() is False
        released.set()
        thread.join(10)
        assert conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), key).scalar() is True
        conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), key)


def test_password_from_pgpass_or_the_environment_not_the_command_line(postgres_url, tmp_path, monkeypatch):
    """A URL without its password connects with libpq's password file (PGPASSFILE / ~/.pgpass)
    or with LENSML_STORAGE_PASSWORD, and the password is in no message lensml prints."""
    from urllib.parse import urlsplit

    from lensml.tuning import make_storage, redact

    parts = urlsplit(postgres_url)
    bare = f"postgresql://{parts.username}@{parts.hostname}:{parts.port}{parts.path}"
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{parts.hostname}:{parts.port}:*:{parts.username}:{parts.password}\n")
    pgpass.chmod(0o600)  # libpq ignores a password file others can read
    monkeypatch.delenv("LENSML_STORAGE_PASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    make_storage(bare, heartbeat_interval=None)  # connects: the password came from the file
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(ValueError, match="unreachable or invalid"):
        make_storage(bare, heartbeat_interval=None)
    monkeypatch.setenv("LENSML_STORAGE_PASSWORD", parts.password)
    make_storage(bare, heartbeat_interval=None)
    monkeypatch.setenv("LENSML_STORAGE_PASSWORD", parts.password + "-wrong")
    with pytest.raises(ValueError) as error:
        make_storage(bare, heartbeat_interval=None)
    assert parts.password + "-wrong" not in redact(str(error.value))
