"""A study's trial budget: exactly ``n_trials`` finished trials, however many workers share it.

Optuna's own stopping rule (``MaxTrialsCallback``) is checked after a trial, so ``k`` workers
sharing a study end with up to ``n + k - 1`` finished trials. lensml queues the budget
instead: before its first trial a worker takes the study's *budget lock* and enqueues as many
empty WAITING trials as the study lacks (``n_trials`` minus finished, running and waiting
ones); ``study.ask()`` pops a WAITING trial atomically (Optuna's compare-and-set on the trial
state, in the database or the journal), and the storage refuses to create a trial that was not
queued (:class:`NoTrialLeft`), which closes the race of two workers seeing the last slot.

A killed worker's trial is failed by the heartbeat and re-queued by
``RetryHeartbeatStaleTrialCallback`` with its parameters and user attributes (the seed), so it
re-enters the queue without adding to it; that is why a worker with nothing to pop waits while
other workers' trials run (one may die) instead of leaving.

The budget lock: a PostgreSQL advisory lock, MySQL ``GET_LOCK``, or a lock file beside a SQLite
database or journal (Optuna's ``JournalFileOpenLock``, also safe on NFS).
"""

from __future__ import annotations

import contextlib
import zlib
from pathlib import Path
from typing import Iterator

import optuna

# Study system attribute: set once the study's trials are queued, so the storage refuses others.
BUDGET_KEY = "lensml:trial_budget"
# First key of lensml's PostgreSQL advisory locks (the second is the study name's CRC-32).
_PG_LOCK_SPACE = 0x1E45


class NoTrialLeft(RuntimeError):
    """Raised by a budgeted storage asked for a trial when the study's queue is empty."""


class TrialBudgetMixin:
    """For an Optuna storage class: :meth:`refuse_unqueued` (the storage calls it when creating
    a trial) and :meth:`budget_lock`."""

    def refuse_unqueued(self, study_id: int, template_trial) -> None:
        """Raise :class:`NoTrialLeft` for a trial without a template (what ``study.ask()``
        creates when no trial is waiting) in a study whose trials are queued. Enqueued and
        retried trials come with a template."""
        if template_trial is None and self.get_study_system_attrs(study_id).get(BUDGET_KEY):
            raise NoTrialLeft(f"study {self.get_study_name_from_id(study_id)!r} has no queued trial left")

    @contextlib.contextmanager
    def budget_lock(self, study_name: str) -> Iterator[None]:
        """Held by one process at a time (across machines for server databases)."""
        url = str(getattr(self, "url", ""))
        if url.startswith(("postgresql", "postgres")):
            from sqlalchemy import text

            key = dict(a=_PG_LOCK_SPACE, b=zlib.crc32(study_name.encode()) - 2**31)
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), key)
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), key)
            return
        if url.startswith("mysql"):
            from sqlalchemy import text

            name = f"lensml:{zlib.crc32(study_name.encode()):08x}"
            with self.engine.connect() as conn:
                conn.execute(text("SELECT GET_LOCK(:n, 600)"), dict(n=name))
                try:
                    yield
                finally:
                    conn.execute(text("SELECT RELEASE_LOCK(:n)"), dict(n=name))
            return
        path = self.budget_lock_path()
        if path is None:  # in-memory database: one process
            yield
            return
        from optuna.storages.journal import JournalFileOpenLock

        lock = JournalFileOpenLock(f"{path}.{zlib.crc32(study_name.encode()):08x}.budget")
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def budget_lock_path(self) -> Path | None:
        url = str(getattr(self, "url", ""))
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            return Path(url[len("sqlite:///"):])
        return None


def storage_of(study):
    """The storage an ``optuna.Study`` was opened with. Optuna has no public accessor: it keeps
    ``Study._storage``, wrapping an RDB storage in a ``_CachedStorage`` whose ``_backend`` is the
    storage given (both pinned by tests/tuning/test_storage.py::test_storage_of_a_study)."""
    from optuna.storages._cached_storage import _CachedStorage

    storage = study._storage
    return storage._backend if isinstance(storage, _CachedStorage) else storage


def queue_trials(study, n_trials: int) -> int:
    """Enqueue the empty trials ``study`` lacks to reach ``n_trials``; returns how many.

    Counts finished (COMPLETE, PRUNED), RUNNING and WAITING trials under the budget lock, after
    failing stale trials (their retries are WAITING, so they are counted once). With a storage
    that is not budgeted (not made by :func:`lensml.tuning.make_storage`) the queue is still
    filled, but a second process could add trials of its own.
    """
    from optuna.trial import TrialState

    storage = storage_of(study)
    if heartbeat_interval(storage):
        optuna.storages.fail_stale_trials(study)
    lock = storage.budget_lock(study.study_name) if hasattr(storage, "budget_lock") else contextlib.nullcontext()
    with lock:
        states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
        have = len(study.get_trials(deepcopy=False, states=states))
        missing = max(0, int(n_trials) - have)
        for _ in range(missing):
            study.enqueue_trial({}, skip_if_exists=False)
        storage.set_study_system_attr(storage.get_study_id_from_name(study.study_name), BUDGET_KEY, True)
    return missing


def heartbeat_interval(storage) -> int | None:
    """Seconds between heartbeats of ``storage``'s running trials, None when it has none."""
    get = getattr(storage, "get_heartbeat_interval", None)
    return get() if callable(get) else None
