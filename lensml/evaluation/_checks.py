"""Input validation shared by the evaluation modules (clear errors naming the argument)."""

from __future__ import annotations

import numpy as np


def as_float_array(value, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Convert ``value`` to a float64 numpy array, checking rank, emptiness and finiteness.

    Raises:
        ValueError: naming ``name`` when the rank is wrong, the array is empty or holds NaN/inf.
    """
    array = np.asarray(_to_numpy(value), dtype=np.float64)
    _check_rank(array, name, ndim)
    if array.size == 0:
        raise ValueError(f"`{name}` is empty (shape {array.shape}); expected at least one example.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or inf values; expected finite numbers.")
    return array


def as_label_array(value, name: str, num_classes: int | None = None) -> np.ndarray:
    """Convert integer class labels ``(n,)`` (or one-hot ``(n, C)``) to an int64 array ``(n,)``."""
    array = np.asarray(_to_numpy(value))
    if array.ndim == 2 and array.shape[1] > 1:
        array = np.argmax(array, axis=1)
    array = array.reshape(-1) if array.ndim == 2 else array
    _check_rank(array, name, 1)
    if array.size == 0:
        raise ValueError(f"`{name}` is empty; expected at least one label.")
    if not np.all(np.equal(np.mod(array, 1), 0)):
        raise ValueError(f"`{name}` must hold integer class indices, got values like {array[:3]!r}.")
    array = array.astype(np.int64)
    if num_classes is not None and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"`{name}` holds class indices in [{array.min()}, {array.max()}], expected [0, {num_classes - 1}] "
            f"for {num_classes} classes."
        )
    return array


def _check_rank(array: np.ndarray, name: str, ndim) -> None:
    if ndim is None:
        return
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if array.ndim not in allowed:
        raise ValueError(f"`{name}` must have rank {' or '.join(map(str, allowed))}, got shape {array.shape}.")


def _to_numpy(value):
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy") and not isinstance(value, (list, tuple)):
        try:
            return value.numpy()
        except Exception:  # noqa: BLE001 - fall back to np.asarray below
            pass
    return np.asarray(value)
