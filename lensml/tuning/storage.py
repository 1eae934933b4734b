"""Optuna storages for lensml studies.

- ``None`` / ``""``: a SQLite file (``default_path``), e.g. next to the results. A killed
  study resumes from it; several processes on one machine can share it.
- ``sqlite:///path.db``, ``postgresql://user:pass@host/db``, ``mysql+pymysql://...``: an
  ``optuna.storages.RDBStorage``. PostgreSQL is the choice for many workers on many machines.
- ``journal:/shared/path/study.log`` (or a path ending in ``.log`` / ``.journal``): Optuna's
  ``JournalStorage`` on a ``JournalFileBackend`` - a file on a shared file system, no
  database server.

Both kinds send heartbeats (``lensml.tuning.heartbeat``), so the trial of a killed worker is
marked failed after ``grace_period`` seconds, also when it died before its first heartbeat, and
retried with its parameters (``RetryHeartbeatStaleTrialCallback``); and both keep the trial
budget (``lensml.tuning.budget``): a study ends with exactly ``n_trials`` finished trials.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

_JOURNAL_SUFFIXES = (".log", ".journal", ".jsonl")


#: Query parameters and LENSML_* variable names whose values are secrets.
_SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token")
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>[^\s'\"]+)")
_QUERY_SECRET = re.compile(r"(?i)([?&;\s]\w*(?:%s)\w*=)[^&\s'\"]*" % "|".join(_SECRET_WORDS))


def _redact_url(match: re.Match) -> str:
    rest = match["rest"]
    head, sep, query = rest.partition("?")
    if "@" in head:  # userinfo is everything before the last "@" of the authority: a password may hold "@" or ":"
        userinfo, host = head.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        head = f"{user}:***@{host}" if ":" in userinfo else f"{userinfo}@{host}"
    return match["scheme"] + head + sep + query


def redact(text: str) -> str:
    """``text`` (a storage URL, a log line, an error message) with every credential replaced by
    ``***``: the password of any URL's userinfo (whatever characters it holds), secret query
    parameters (``password=``, ``sslpassword=``, ``token=``, ...), and the value of any
    ``LENSML_*`` environment variable whose name says it is a secret (``LENSML_STORAGE_PASSWORD``,
    ``LENSML_*_TOKEN``, ...). Safe to print."""
    text = str(text)
    for name, value in os.environ.items():
        if name.startswith("LENSML_") and any(w in name.lower() for w in _SECRET_WORDS) and len(value) >= 3:
            text = text.replace(value, "***")
    text = _URL.sub(_redact_url, text)
    return _QUERY_SECRET.sub(r"\1***", text)


def resolve_storage_url(url: str | None, default_path: str | os.PathLike | None = None) -> str:
    """The storage URL lensml will use: ``url``, or ``sqlite:///<default_path>``.

    So that no password has to be typed on a command line (where ``ps`` and shell histories
    show it), ``url`` may be ``env:NAME`` (the URL is the environment variable NAME) or
    ``file:PATH`` (the first line of the file PATH, e.g. one only its owner can read); and a
    PostgreSQL URL without a password takes ``LENSML_STORAGE_PASSWORD`` when that is set (else
    libpq reads ``~/.pgpass`` or ``PGPASSFILE``, as for any PostgreSQL client).
    """
    if url and str(url).startswith("env:"):
        name = str(url)[4:]
        if not os.environ.get(name):
            raise ValueError(f"storage {url!r}: the environment variable {name} is not set (or empty)")
        url = os.environ[name].strip()
    elif url and str(url).startswith("file:"):
        path = Path(str(url)[5:]).expanduser()
        try:
            url = path.read_text().strip().splitlines()[0]
        except (OSError, IndexError) as e:
            raise ValueError(f"storage {str(url)!r}: cannot read a storage URL from {str(path)!r} "
                             f"({getattr(e, 'strerror', None) or 'empty file'})") from None
    if url:
        return _with_password(str(url))
    if default_path is None:
        raise ValueError("storage: no URL given and no default SQLite path to fall back to")
    path = Path(default_path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _with_password(url: str) -> str:
    """A PostgreSQL / MySQL URL whose userinfo has no password, given ``LENSML_STORAGE_PASSWORD``."""
    password = os.environ.get("LENSML_STORAGE_PASSWORD")
    scheme, sep, rest = url.partition("://")
    if not password or not sep or not scheme.startswith(("postgres", "mysql")):
        return url
    head, qsep, query = rest.partition("?")
    if "@" not in head or ":" in head.rsplit("@", 1)[0]:
        return url
    from urllib.parse import quote

    user, host = head.rsplit("@", 1)
    return f"{scheme}://{user}:{quote(password, safe='')}@{host}{qsep}{query}"


def is_journal(url: str) -> bool:
    return url.startswith("journal:") or ("://" not in url and url.endswith(_JOURNAL_SUFFIXES))


def make_storage(
    url: str | None = None,
    *,
    default_path: str | os.PathLike | None = None,
    heartbeat_interval: int | None = 60,
    grace_period: int | None = None,
    max_retry: int | None = 2,
) -> Any:
    """Open (creating if needed) an Optuna storage, connecting right away so that an
    unreachable database fails here, before any training, with a ``ValueError``.

    Args:
        url: storage URL (see the module docstring) or None for the default SQLite file.
        default_path: the SQLite file used when ``url`` is empty.
        heartbeat_interval: seconds between a running trial's heartbeats;
            None disables heartbeats and retries.
        grace_period: seconds without a heartbeat after which a trial counts as dead
            (default: 2 x heartbeat_interval).
        max_retry: how many times a dead worker's trial is re-queued.
    """
    import optuna

    url = resolve_storage_url(url, default_path)
    if is_journal(url):
        path = Path(url[len("journal:") :] if url.startswith("journal:") else url)
        if str(path).startswith("//"):
            path = Path(str(path)[1:])
        if not path.parent.is_dir():
            raise ValueError(f"storage {url!r}: the folder {str(path.parent)!r} does not exist")
        from lensml.tuning.heartbeat import HeartbeatJournalStorage

        _check_journal(path, url)
        try:
            return HeartbeatJournalStorage(path, **_heartbeat_kwargs(heartbeat_interval, grace_period, max_retry))
        except OSError as e:
            raise ValueError(f"storage {url!r}: cannot open the journal file ({e})") from e
        except ValueError as e:  # a journal whose lines do not parse (json.JSONDecodeError)
            raise ValueError(f"storage {url!r}: {str(path)!r} is not an Optuna journal ({e}); point the "
                             "storage at a new file or at a journal Optuna wrote") from e

    if "://" not in url:
        raise ValueError(
            f"storage: {url!r} is not a storage URL; expected e.g. 'sqlite:///study.db', "
            "'postgresql://user:pass@host/db' or 'journal:/path/study.log'"
        )
    if url.startswith("sqlite:///"):
        _check_sqlite(Path(url[len("sqlite:///"):]), url)
    url = _with_postgres_driver(url)
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # Several worker processes share one file: wait for locks instead of failing.
        engine_kwargs["connect_args"] = {"timeout": 60}
    elif url.startswith(("postgresql", "postgres")):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    kwargs = _heartbeat_kwargs(heartbeat_interval, grace_period, max_retry)
    if kwargs:
        kwargs["heartbeat_stale_trial_callback"] = kwargs.pop("failed_trial_callback")
    try:
        return _open_rdb(url, engine_kwargs, kwargs)
    except ModuleNotFoundError as e:
        raise ValueError(
            f"storage {redact(url)!r}: the database driver is not installed ({e}); "
            "e.g. `pip install 'lensml[postgres]'` for PostgreSQL"
        ) from e
    except Exception as e:  # sqlalchemy OperationalError / ArgumentError and the like
        raise ValueError(f"storage {redact(url)!r} is unreachable or invalid: {type(e).__name__}: {e}") from e


def _heartbeat_kwargs(heartbeat_interval, grace_period, max_retry) -> dict[str, Any]:
    """Heartbeat settings of a storage: none when ``heartbeat_interval`` is falsy; a dead
    worker's trial is re-queued up to ``max_retry`` times."""
    import optuna

    if not heartbeat_interval:
        return {}
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    return dict(heartbeat_interval=int(heartbeat_interval), grace_period=int(grace_period) if grace_period else None,
                failed_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry))


def _with_postgres_driver(url: str) -> str:
    """``postgresql://...`` with the driver that is installed (psycopg 3, else psycopg2): SQLAlchemy's
    default driver for a bare ``postgresql://`` is psycopg2 in 2.0 and psycopg in 2.1."""
    scheme, sep, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres"):
        return url
    import importlib.util

    for driver, module in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://{rest}"
    raise ValueError(f"storage {redact(url)!r}: no PostgreSQL driver is installed; "
                     "`pip install 'lensml[postgres]'` (psycopg 3) or `pip install psycopg2-binary`")


def _check_journal(path: Path, url: str) -> None:
    """ValueError when ``path`` exists, is not empty and its first line is not an Optuna
    journal record (a JSON object with an ``op_code``)."""
    import json

    if not path.is_file() or path.stat().st_size == 0:
        return
    with open(path, "rb") as f:
        first = f.readline()
    try:
        record = json.loads(first)
        ok = isinstance(record, dict) and "op_code" in record
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"storage {url!r}: {str(path)!r} exists but is not an Optuna journal (its first line is "
                         f"{first[:60]!r}); point the storage at a new file or at a journal Optuna wrote")


def _check_sqlite(path: Path, url: str) -> None:
    """ValueError when the SQLite file ``path`` exists and holds tables but not Optuna's: lensml
    does not add a study to another program's database."""
    import sqlite3

    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise ValueError(f"storage {url!r}: {str(path)!r} is not a SQLite database ({e}); point the storage at "
                         "a new file or at an Optuna study database") from e
    if tables and "studies" not in tables:
        raise ValueError(f"storage {url!r}: {str(path)!r} is a SQLite database of something else (tables: "
                         f"{', '.join(sorted(tables)[:5])}), not an Optuna study database; lensml will not add "
                         "Optuna's tables to it. Point the storage at a new file or at an Optuna database")


# Errors of two workers creating the same fresh database at once (the loser finds the
# tables half made); trying again a moment later finds them complete.
_RACE_MESSAGES = ("UNIQUE constraint", "already exists", "database is locked", "duplicate key")


def _open_rdb(url: str, engine_kwargs: dict, kwargs: dict, attempts: int = 5):
    import time

    # Heartbeat off (no kwargs), it is a plain RDBStorage.
    from lensml.tuning.heartbeat import HeartbeatRDBStorage

    for attempt in range(attempts):
        try:
            return HeartbeatRDBStorage(url, engine_kwargs=engine_kwargs, **kwargs)
        except Exception as e:
            if attempt == attempts - 1 or not any(m in str(e) for m in _RACE_MESSAGES):
                raise
            time.sleep(0.2 * (attempt + 1))
