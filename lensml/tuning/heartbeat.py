"""Storages whose heartbeats fail the trials of killed workers, also before their first beat.

- :class:`HeartbeatRDBStorage`: Optuna's ``RDBStorage``, plus the rule below, and a queued trial
  popped atomically (two workers on one SQLite file could both pop it).
- :class:`HeartbeatJournalStorage`: Optuna's ``JournalStorage`` (which has no heartbeat) with one:
  each beat is a trial system attribute (``lensml:heartbeat``, Unix seconds) in the journal.

Optuna's heartbeat marks a RUNNING trial stale when its last heartbeat is older than the
grace period; a trial with *no* heartbeat is never stale. A worker has no heartbeat between
``study.ask()`` creating its trial and the heartbeat thread's first beat, so a worker killed
in that window (a preempted job, ``kill -9``) left its trial RUNNING forever and the study one
trial short. Here such a trial is stale once its start is older than the grace period: a
live worker beats within milliseconds of the start. (Optuna stamps the start with the worker's
local clock, so workers sharing a database should share a time zone, as cluster nodes do.)
Both storages carry the trial budget of ``lensml.tuning.budget``.

The journal's file lock (:class:`TimedJournalLock`) is broken after the grace period when its
holder died mid-write (a left-over lock file), and a journal that nobody could write for a
while (a stale lock, a frozen lock holder) makes no live trial stale: heartbeats are judged
from the later of their last beat and the moment the journal became writable again.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import optuna
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import TrialState

from lensml.tuning.budget import TrialBudgetMixin

BEAT_KEY = "lensml:heartbeat"


class HeartbeatRDBStorage(TrialBudgetMixin, optuna.storages.RDBStorage):
    """``optuna.storages.RDBStorage`` (same arguments) whose stale trials include RUNNING
    trials without a heartbeat that started more than ``grace_period`` seconds ago."""

    def _create_new_trial(self, study_id: int, template_trial=None):
        # Optuna's _CachedStorage (which wraps every RDBStorage a Study uses) calls this private
        # method, not create_new_trial (pinned by tests/tuning/test_storage.py::test_storage_of_a_study).
        self.refuse_unqueued(study_id, template_trial)
        return super()._create_new_trial(study_id, template_trial)

    def set_trial_state_values(self, trial_id: int, state: TrialState, values=None) -> bool:
        if state != TrialState.RUNNING or values is not None:
            return super().set_trial_state_values(trial_id, state, values)
        # Popping a queued trial (WAITING -> RUNNING) in one conditional UPDATE, atomic on every
        # database. Optuna reads the state (SELECT ... FOR UPDATE) and then writes it; SQLite has
        # no row locks and Python's sqlite3 opens the transaction only at the write, so two workers
        # could both pop one trial, run it twice, and the second fail with "Cannot tell a COMPLETE
        # trial" (seen in CI with two workers on one SQLite file).
        with _create_scoped_session(self.scoped_session) as session:
            popped = (
                session.query(models.TrialModel)
                .filter(models.TrialModel.trial_id == trial_id)
                .filter(models.TrialModel.state == TrialState.WAITING)
                .update({models.TrialModel.state: TrialState.RUNNING}, synchronize_session=False)
            )
            if popped:  # the start time through Optuna's own attribute (its time zone rule differs by version)
                models.TrialModel.find_or_raise_by_id(trial_id, session).datetime_start = datetime.now()
        if popped:
            return True
        # Not waiting: Optuna's answer (False while it runs, UpdateFinishedTrialError once finished).
        return super().set_trial_state_values(trial_id, state)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = super()._get_stale_trial_ids(study_id)
        grace = timedelta(seconds=self.grace_period or 2 * self.heartbeat_interval)
        # datetime_start is written with the worker's datetime.now() (local time), so compare
        # with the same clock rather than the database's.
        now = datetime.now()
        with _create_scoped_session(self.scoped_session) as session:
            silent = (
                session.query(models.TrialModel)
                .filter(models.TrialModel.study_id == study_id)
                .filter(models.TrialModel.state == TrialState.RUNNING)
                .filter(~models.TrialModel.heartbeats.any())
                .all()
            )
            stale += [t.trial_id for t in silent if t.datetime_start and now - t.datetime_start > grace]
        return stale


class TimedJournalLock:
    """Optuna's ``JournalFileSymlinkLock`` (broken after ``grace_period`` seconds without
    release: its holder died) that remembers when it was last got after a long wait
    (``unblocked_at``, Unix seconds): until then no process could write a heartbeat."""

    def __init__(self, path: str, grace_period: int, long_wait: float):
        import warnings

        from optuna.storages.journal import JournalFileSymlinkLock

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna warns about grace periods under 3 s (tests use 2 s)
            self._lock = JournalFileSymlinkLock(path, grace_period=max(1, int(grace_period)))
        self.long_wait = long_wait
        self.unblocked_at = 0.0

    def acquire(self) -> bool:
        start = time.time()
        got = self._lock.acquire()
        if time.time() - start > self.long_wait:
            self.unblocked_at = time.time()
        return got

    def release(self) -> None:
        self._lock.release()


class HeartbeatJournalStorage(TrialBudgetMixin, optuna.storages.JournalStorage, BaseHeartbeat):
    """``optuna.storages.JournalStorage`` on the journal file ``path``, with heartbeats.

    Args:
        path: the journal file (created if missing).
        heartbeat_interval: seconds between beats of a running trial; None: no heartbeat.
        grace_period: seconds without a beat (or, before the first, since the trial's start)
            after which the trial counts as dead (default 2 x heartbeat_interval).
        failed_trial_callback: called with each dead trial once failed, e.g.
            ``RetryHeartbeatStaleTrialCallback``.
    """

    def __init__(self, path: str | Path, *, heartbeat_interval: int | None = None, grace_period: int | None = None,
                 failed_trial_callback: Callable | None = None):
        from optuna.storages.journal import JournalFileBackend

        self.path = Path(path)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period or (2 * heartbeat_interval if heartbeat_interval else None)
        self.failed_trial_callback = failed_trial_callback
        self.lock = TimedJournalLock(str(path), self.grace_period or 30, long_wait=min(1.0, heartbeat_interval or 1.0))
        super().__init__(JournalFileBackend(str(path), lock_obj=self.lock))

    def create_new_trial(self, study_id: int, template_trial=None) -> int:
        self.refuse_unqueued(study_id, template_trial)
        return super().create_new_trial(study_id, template_trial)

    def budget_lock_path(self) -> Path:
        return self.path

    def record_heartbeat(self, trial_id: int) -> None:
        try:
            self.set_trial_system_attr(trial_id, BEAT_KEY, time.time())
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another worker judged this one dead and failed its trial: nothing to beat for

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        stale = []
        for t in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            # the journal's datetime_start is naive local time, as timestamp() reads it
            last = t.system_attrs.get(BEAT_KEY) or (t.datetime_start.timestamp() if t.datetime_start else now)
            # no beat could be written while the journal was locked: count from when it was free again
            if now - max(last, self.lock.unblocked_at) > self.grace_period:
                stale.append(t._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Callable | None:
        return self.failed_trial_callback
