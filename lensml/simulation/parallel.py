"""Generate examples across CPU cores, in order, with a progress bar.

Each example carries its own seed (lensml.simulation.priors), so the output is identical
for any number of workers. Workers are started with ``spawn`` (forking a process that has
TensorFlow or JAX loaded can deadlock) and import only numpy, astropy and lenstronomy.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator

#: Below this many examples the start-up of worker processes costs more than it saves.
MIN_PARALLEL = 96


def default_num_workers() -> int:
    """$LENSML_NUM_WORKERS if set, else the number of CPU cores this process may use."""
    env = os.environ.get("LENSML_NUM_WORKERS")
    if env:
        n = int(env)
        if n < 1:
            raise ValueError(f"LENSML_NUM_WORKERS must be a positive int, got {env!r}")
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def parallel_map(
    fn: Callable,
    items: Iterable,
    *,
    num_workers: int | None = None,
    progress: bool | str = False,
    total: int | None = None,
    chunksize: int = 16,
) -> Iterator:
    """``map(fn, items)`` in order, over ``num_workers`` processes (default: all cores).

    ``fn`` must be picklable (a module-level function or a ``functools.partial`` of one).
    ``progress``: False, True, or a description string for a tqdm progress bar.
    """
    items = list(items)
    total = len(items) if total is None else total
    workers = default_num_workers() if num_workers is None else int(num_workers)
    if workers < 1:
        raise ValueError(f"num_workers must be a positive int, got {num_workers!r}")
    workers = min(workers, max(1, len(items)))

    def _bar(it):
        if not progress:
            return it
        from lensml._progress import progress as show_progress

        desc = progress if isinstance(progress, str) else None
        return show_progress(it, total=total, desc=desc, unit="img")

    if workers == 1 or len(items) < MIN_PARALLEL:
        yield from _bar(map(fn, items))
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_quiet_worker) as pool:
        yield from _bar(pool.imap(fn, items, chunksize=chunksize))


def _quiet_worker():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

