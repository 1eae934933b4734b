"""TOML writing for experiment configs (``tomli_w``; the standard library only reads TOML),
written atomically (``lensml._io``).

``dumps`` / ``dump`` take what configs hold: strings, booleans, ints, floats, lists and nested
tables; ``None`` values are dropped (TOML has no null), tuples become arrays and numpy scalars
Python numbers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import tomli_w

from lensml._io import write_text_atomic


def _plain(v: Any) -> Any:
    """``v`` with None dropped, tuples as lists and numpy scalars as Python scalars."""
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v if x is not None]
    if isinstance(v, (bool, int, float, str)):
        return v
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    raise TypeError(f"cannot write {v!r} of type {type(v).__name__} to TOML")


def dumps(data: Mapping[str, Any]) -> str:
    """Serialise a nested dict to TOML text (scalars first, then ``[tables]``)."""
    return tomli_w.dumps(_plain(data))


def dump(data: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``data`` as TOML to ``path`` atomically."""
    return write_text_atomic(path, dumps(data))
