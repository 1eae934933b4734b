"""Writing files so that no reader, and no killed process, ever sees half of one; and the
training-history CSV every module reads (``read_history_csv``).

Every file lensml writes for a user (configs, histories, metrics, reports, figures, saved
models) goes through a temporary file in the target's folder, renamed over the target once
complete (``os.replace`` is atomic on POSIX and Windows). Imports nothing of lensml.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside ``path`` (same suffix, e.g. ``.keras`` or ``.png``, for
    writers that look at it); on success it is renamed onto ``path``, on error removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` (created with its folders) atomically, flushed to disk."""
    with atomic_target(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    return Path(path)


def write_json_atomic(path: str | os.PathLike, data: Any, **dumps_kwargs) -> Path:
    """``data`` as indented JSON (``json.dumps`` options: ``default``, ``sort_keys``...) at ``path``, atomically."""
    dumps_kwargs.setdefault("indent", 2)
    return write_text_atomic(path, json.dumps(data, **dumps_kwargs) + "\n")


def read_csv_rows(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a CSV file with a header line, as dicts of strings; [] when it does not exist."""
    import csv

    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_csv_atomic(path: str | os.PathLike, rows: list[dict], fieldnames: list[str]) -> Path:
    """``rows`` under a header of ``fieldnames`` (missing entries left blank) at ``path``, atomically."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fieldnames, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text_atomic(path, out.getvalue())


def read_history_csv(path: str | os.PathLike) -> dict[str, list[float]]:
    """A training history CSV (one row per epoch, an ``epoch`` column, as lensml's ``HistoryCSV``
    and Keras's ``CSVLogger`` write it) as ``{metric: [value per epoch]}``, NaN where a row has
    no value (so every column stays aligned with the epochs); {} when the file does not exist."""
    history: dict[str, list[float]] = {}
    for row in read_csv_rows(path):
        for key, value in row.items():
            if key == "epoch":
                continue
            try:
                history.setdefault(key, []).append(float(value))
            except (TypeError, ValueError):
                history.setdefault(key, []).append(float("nan"))
    return history
