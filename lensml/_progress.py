"""Progress of long loops: a tqdm bar on a terminal, plain lines in a log file.

A bar's carriage returns and escape codes make a log unreadable, and no output at all makes a
long step look hung; off a terminal :func:`progress` prints one line about every ``every``
seconds (and at the end) instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator


def progress(iterable: Iterable, total: int | None = None, desc: str | None = None, unit: str = "it",
             every: float = 30.0, stream=None) -> Iterator:
    """Yield from ``iterable``, showing progress on ``stream`` (default stderr)."""
    stream = sys.stderr if stream is None else stream
    if getattr(stream, "isatty", lambda: False)():
        from tqdm.auto import tqdm

        yield from tqdm(iterable, total=total, desc=desc, unit=unit, file=stream)
        return
    start = last = time.monotonic()
    done = 0
    label = f"{desc}: " if desc else ""
    of = f"/{total}" if total is not None else ""
    for item in iterable:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= every or (total is not None and done == total):
            rate = done / max(now - start, 1e-9)
            print(f"{label}{done}{of} {unit} ({rate:.1f} {unit}/s, {now - start:.0f} s)", file=stream, flush=True)
            last = now
