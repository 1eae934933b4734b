"""A small TOML writer for experiment configs (the standard library only reads TOML).

Handles what configs hold: strings, booleans, ints, floats, lists of those, and nested
tables. ``None`` values are dropped (TOML has no null).
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE_KEY.match(k) else json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v if x is not None) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None) + "}"
    # numpy scalars and similar
    if hasattr(v, "item"):
        return _value(v.item())
    raise TypeError(f"cannot write {v!r} of type {type(v).__name__} to TOML")


def dumps(data: Mapping[str, Any]) -> str:
    """Serialise a nested dict to TOML text (scalars first, then ``[tables]``)."""
    lines: list[str] = []

    def emit(table: Mapping[str, Any], prefix: list[str]) -> None:
        scalars = {k: v for k, v in table.items() if v is not None and not isinstance(v, Mapping)}
        tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
        if prefix and (scalars or not tables):
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in prefix) + "]")
        for k, v in scalars.items():
            lines.append(f"{_key(k)} = {_value(v)}")
        for k, v in tables.items():
            emit(v, prefix + [k])

    emit(data, [])
    return "\n".join(lines).lstrip("\n") + "\n"


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename, so a reader (or
    a killed process) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def dump(data: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``data`` as TOML to ``path`` atomically."""
    return write_text_atomic(path, dumps(data))
