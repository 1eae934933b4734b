"""An ``RDBStorage`` that also fails the trials of workers killed before their first heartbeat.

Optuna's heartbeat marks a RUNNING trial stale when its last heartbeat is older than the
grace period; a trial with *no* heartbeat is never stale. A worker has no heartbeat between
``study.ask()`` creating its trial and the heartbeat thread's first beat, so a worker killed
in that window (a preempted job, ``kill -9``) left its trial RUNNING forever and the study one
trial short. Here such a trial is stale once its start is older than the grace period: a
live worker beats within milliseconds of the start. (Optuna stamps the start with the worker's
local clock, so workers sharing a database should share a time zone, as cluster nodes do.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

import optuna
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import TrialState


class HeartbeatRDBStorage(optuna.storages.RDBStorage):
    """``optuna.storages.RDBStorage`` (same arguments) whose stale trials include RUNNING
    trials without a heartbeat that started more than ``grace_period`` seconds ago."""

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
