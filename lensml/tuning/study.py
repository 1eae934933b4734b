"""Create, resume and run Optuna studies; pruners, samplers and per-trial seeds.

``lensml.tuning`` knows nothing about experiments: it runs an objective callable
``objective(trial) -> float | tuple[float, ...]``. ``lensml.protocols.tune`` (lensml.protocols.tuning) wires
``run(config)`` into one.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterable, Sequence

PRUNERS = ("median", "hyperband", "none")
SAMPLERS = ("tpe", "random", "nsgaii")
DIRECTIONS = ("minimize", "maximize")
# Trials that count towards a study's ``n_trials`` (a killed worker's trial is retried).
_FINISHED = ("COMPLETE", "PRUNED")

log = logging.getLogger("lensml.tuning")


def make_pruner(name: str = "median", *, startup_trials: int = 5, warmup_steps: int = 0, max_resource: int | str = "auto"):
    """Optuna pruner by name: ``"median"`` (MedianPruner), ``"hyperband"`` (HyperbandPruner
    over epochs, ``max_resource`` = epochs per trial) or ``"none"``."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=warmup_steps)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_resource)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner: got {name!r}, expected one of {PRUNERS}")


def make_sampler(name: str = "tpe", *, seed: int | None = 0, startup_trials: int = 5):
    """Optuna sampler by name: ``"tpe"``, ``"random"`` or ``"nsgaii"`` (multi-objective)."""
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "nsgaii":
        return optuna.samplers.NSGAIISampler(seed=seed)
    raise ValueError(f"sampler: got {name!r}, expected one of {SAMPLERS}")


def check_directions(directions: Sequence[str]) -> list[str]:
    """Validate ``["maximize", ...]``; raises ValueError naming the bad entry."""
    if isinstance(directions, str):
        directions = [directions]
    if not directions:
        raise ValueError("directions: expected at least one of 'minimize' / 'maximize', got []")
    for d in directions:
        if d not in DIRECTIONS:
            raise ValueError(f"directions: got {d!r}, expected 'minimize' or 'maximize'")
    return list(directions)


def count_finished(study) -> int:
    """Trials that are COMPLETE or PRUNED."""
    import optuna

    states = tuple(getattr(optuna.trial.TrialState, s) for s in _FINISHED)
    return len(study.get_trials(deepcopy=False, states=states))


def pruning_callback(trial, monitor: str, interval: int = 1):
    """The Keras 3 pruning callback of optuna-integration: reports ``logs[monitor]`` after
    every ``interval``-th epoch and raises ``optuna.TrialPruned`` when the pruner says so.
    Works with ``model.fit`` on TensorFlow and JAX."""
    from optuna_integration import KerasPruningCallback

    return KerasPruningCallback(trial, monitor, interval=interval)


def trial_seed(trial, base_seed: int = 0, policy: str = "fixed") -> int:
    """The training seed of ``trial``, recorded as the user attribute ``"seed"``.

    ``policy="fixed"``: every trial trains with ``base_seed`` (trials differ only by their
    parameters). ``"per_trial"``: ``base_seed + trial.number``. A retried trial (worker
    killed) inherits its user attributes and so keeps the seed it had.
    """
    if "seed" in trial.user_attrs:
        return int(trial.user_attrs["seed"])
    if policy == "fixed":
        seed = int(base_seed)
    elif policy == "per_trial":
        seed = int(base_seed) + int(trial.number)
    else:
        raise ValueError(f"seed policy: got {policy!r}, expected 'fixed' or 'per_trial'")
    trial.set_user_attr("seed", seed)
    return seed


def create_study(
    study_name: str,
    storage,
    directions: Sequence[str],
    *,
    sampler: str = "tpe",
    pruner: str = "median",
    seed: int | None = 0,
    startup_trials: int = 5,
    warmup_steps: int = 0,
    max_resource: int | str = "auto",
):
    """Create the study, or load it when it exists (resume; another worker).

    Pruning is turned off for multi-objective studies (Optuna cannot prune them). Raises
    ValueError when an existing study has other directions.
    """
    import optuna

    directions = check_directions(directions)
    if pruner not in PRUNERS:
        raise ValueError(f"pruner: got {pruner!r}, expected one of {PRUNERS}")
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler: got {sampler!r}, expected one of {SAMPLERS}")
    if len(directions) > 1 and pruner != "none":
        log.info("multi-objective study: pruning disabled (Optuna prunes single-objective studies only)")
        pruner = "none"
    def check_existing(study):
        have = [d.name.lower() for d in study.directions]
        if have != directions:
            raise ValueError(
                f"study {study_name!r} already exists with directions {have}, but {directions} were requested"
            )

    def build(seed):
        return dict(
            sampler=make_sampler(sampler, seed=seed, startup_trials=startup_trials),
            pruner=make_pruner(pruner, startup_trials=startup_trials, warmup_steps=warmup_steps,
                               max_resource=max_resource),
        )

    try:
        check_existing(optuna.load_study(study_name=study_name, storage=storage))
    except KeyError:
        try:
            # Only one process can create the study (the storage refuses a duplicate name);
            # it keeps the configured seed, so a single-worker study is reproducible.
            return optuna.create_study(study_name=study_name, storage=storage, directions=directions,
                                       load_if_exists=False, **build(seed))
        except optuna.exceptions.DuplicatedStudyError:
            check_existing(optuna.load_study(study_name=study_name, storage=storage))
    # A worker that joins (or resumes) a study draws its own random numbers, else workers
    # started with one seed would propose the same parameters.
    if seed is not None:
        seed = (int(seed) * 1_000_003 + os.getpid()) % (2**31)
    study = optuna.load_study(study_name=study_name, storage=storage, **build(seed))
    return study


def _told_a_failed_trial(error: BaseException) -> bool:
    """Whether ``error`` is Optuna's refusal to tell a trial that is FAIL already: its
    ``ValueError("Cannot tell a FAIL trial.")``, which Optuna 4's ``_run_trial`` re-raises as
    an ``AssertionError`` from its clean-up (pinned by tests/tuning/test_workers.py)."""
    while error is not None:
        if isinstance(error, ValueError) and str(error).startswith("Cannot tell a FAIL trial"):
            return True
        error = error.__context__
    return False


def optimize(
    study,
    objective: Callable[[Any], float | Sequence[float]],
    n_trials: int,
    *,
    timeout: float | None = None,
    callbacks: Iterable[Callable] = (),
    catch: tuple[type[BaseException], ...] = (),
    poll_interval: float = 0.5,
) -> int:
    """Run ``objective`` until the study holds exactly ``n_trials`` finished (complete or
    pruned) trials, counting those from earlier runs and other workers. Returns the number of
    trials this call ran.

    The budget is queued first (``lensml.tuning.budget``): workers pop queued trials, so a
    resumed study only runs what is missing and workers sharing a storage never overshoot.
    With nothing left to pop, a worker on a storage with heartbeats waits (``poll_interval``
    seconds between looks) while other workers' trials run: if one of them dies its trial is
    re-queued and this worker runs it. A trial failed by its objective is not re-run here
    (``catch`` decides whether the worker goes on); running the command again queues it anew.
    ``timeout``: seconds after which no new trial starts.
    """
    import time

    import optuna

    from lensml.tuning.budget import NoTrialLeft, heartbeat_interval, queue_trials, storage_of

    if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
        raise ValueError(f"n_trials: got {n_trials!r}, expected a positive integer")
    if count_finished(study) >= n_trials:
        log.info("study %r already has %d finished trials; nothing to do", study.study_name, n_trials)
        return 0
    queue_trials(study, n_trials)
    beats = heartbeat_interval(storage_of(study))
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    ran = 0

    def tally():  # (finished, waiting, running) in one read of the study
        states = [t.state.name for t in study.get_trials(deepcopy=False)]
        return sum(s in _FINISHED for s in states), states.count("WAITING"), states.count("RUNNING")

    while deadline is None or time.monotonic() < deadline:
        finished, waiting, running = tally()
        if finished >= n_trials:
            break
        try:
            if not waiting:
                raise NoTrialLeft  # (checked first: a storage without the budget would add a trial)
            study.optimize(objective, n_trials=1, callbacks=list(callbacks), catch=catch, gc_after_trial=True)
            ran += 1
        except NoTrialLeft:
            if not (beats and running):
                break
            time.sleep(poll_interval)
            optuna.storages.fail_stale_trials(study)  # a dead worker's trial is re-queued
        except (ValueError, AssertionError) as e:
            # Optuna's tell of a trial another worker failed as stale while this one ran it (this
            # process was frozen or cut off longer than the grace period): its retry is queued
            # and runs elsewhere or here; this worker goes on with the next trial.
            if not _told_a_failed_trial(e):
                raise
            log.warning("a trial of this worker was failed as stale by another worker while it ran (frozen or "
                        "cut off for longer than the grace period); its retry is queued; going on")
    finished, waiting, running = tally()
    if finished < n_trials and not (waiting or running):
        log.warning("study %r ends %d trial(s) short of %d: their objective failed; run again to re-run them",
                    study.study_name, n_trials - finished, n_trials)
    return ran
