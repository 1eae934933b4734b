"""Input validation shared by the physics modules.

Every check raises ``ValueError``/``TypeError`` naming the argument, the value and what
was expected.
"""

from __future__ import annotations

import math

import numpy as np


def concrete_value(value):
    """Return ``value`` as a numpy array if it is known now, else ``None``.

    Symbolic tensors (a JAX tracer under ``jit``, a TensorFlow graph tensor) have no value
    yet; checks on them are skipped rather than forcing a host transfer or failing.
    """
    if isinstance(value, (int, float, np.ndarray, np.generic)):
        return np.asarray(value)
    try:
        return np.asarray(value)
    except Exception:  # noqa: BLE001 - tracer/graph tensors raise backend-specific errors
        return None


def check_positive_number(name: str, value, *, allow_zero: bool = False) -> float:
    """A finite Python number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {expected}, got {value!r}")
    return value


def check_positive_int(name: str, value, *, minimum: int = 1) -> int:
    """A Python int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_nonnegative_values(name: str, value) -> None:
    """Raise if a concrete parameter value has a negative (or NaN) entry."""
    arr = concrete_value(value)
    if arr is None or arr.size == 0:
        return
    if arr.dtype.kind not in "fiub":
        return
    if np.any(np.isnan(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def check_positive_values(name: str, value) -> None:
    """Raise if a concrete parameter value has an entry <= 0 (or NaN)."""
    arr = concrete_value(value)
    if arr is None or arr.size == 0:
        return
    if arr.dtype.kind not in "fiub":
        return
    if np.any(np.isnan(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")


def check_shape(name: str, shape, *, rank: int, channels: int | None = None, what: str = "") -> None:
    """Check the rank and (optionally) the last dimension of a tensor shape."""
    shape = tuple(shape)
    if len(shape) != rank:
        raise ValueError(
            f"{name} must have rank {rank}{' ' + what if what else ''}, got shape {shape}"
        )
    if channels is not None and shape[-1] is not None and shape[-1] != channels:
        raise ValueError(
            f"{name} must have {channels} channel(s) in its last axis{' ' + what if what else ''}, "
            f"got shape {shape}"
        )
