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
def locked_file(path: str | os.PathLike, *, blocking: bool = True) -> Iterator[Any]:
    """Hold an exclusive ``fcntl`` lock on ``path`` (created) for the block; yields the open file
    (read/write). The OS releases the lock when the holder dies, so a killed process never leaves
    a stale lock. ``path`` is opened without following a symbolic link: one planted there is a
    ``PermissionError``, not a way to make lensml create or truncate another file.
    ``blocking=False``: ``BlockingIOError`` at once when another process holds the lock."""
    import fcntl

    path = Path(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    except OSError as e:
        raise PermissionError(e.errno, f"cannot open the lock file {str(path)!r} ({e.strerror}); a symbolic "
                                       "link there is refused: remove it") from None
    with os.fdopen(fd, "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        yield lock


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (os.umask can only
    be read by setting it, which races with other threads creating files)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yields a temporary path beside ``path`` (same suffix, e.g. ``.keras`` or ``.png``, for
    writers that look at it; ``suffix`` for longer ones such as ``.weights.h5``); on success it
    is renamed onto ``path``, on error removed.

    The file gets the mode a plain ``open(path, "w")`` would (0666 less the umask), not
    mkstemp's private 0600, so a research group's umask decides who reads the results. A full
    disk is an ``OSError`` that names ``path`` and the free space."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{suffix or path.suffix}")
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        import errno
        import shutil

        if e.errno not in (errno.ENOSPC, errno.EDQUOT) or str(path) in str(e):
            raise
        free = shutil.disk_usage(path.parent).free
        raise OSError(e.errno, f"cannot write {str(path)!r}: the disk is full ({free / 1e6:,.1f} MB free); "
                               "free some space and run again") from None
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike) -> Iterator[Path]:
    """A whole folder written atomically: yields an empty folder ``.<out>.staging-<pid>`` beside
    ``out``, renamed to ``out`` when the block ends without error (an existing ``out`` is
    replaced: moved aside, then removed; the caller decides whether that is allowed), removed on
    error. Staging folders of dead processes (SIGKILLed writers) are removed first."""
    import shutil

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{out.name}.staging-"
    for stale in out.parent.glob(prefix + "*"):
        pid = stale.name[len(prefix):]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    stage = out.parent / f"{prefix}{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
        if out.exists():
            old = out.parent / f".{out.name}.replaced-{os.getpid()}"
            os.replace(out, old)
            os.replace(stage, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` (created with its folders) atomically, flushed to disk."""
    with atomic_target(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    return Path(path)


def json_safe(obj):
    """``obj`` with what JSON cannot hold made plain: numpy scalars and 0-d arrays as numbers,
    NaN / inf as None, paths as strings, tuples as lists, keys as strings."""
    import math

    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        try:
            return json_safe(obj.item())
        except (ValueError, TypeError):
            return str(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


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


def source_commit() -> str | None:
    """The git commit of the lensml checkout when lensml runs from one (``"<sha>+local changes"``
    when tracked files differ from it), else None (an installed wheel)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=root, capture_output=True, timeout=10).returncode
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return (sha + ("+local changes" if dirty == 1 else "")) or None
