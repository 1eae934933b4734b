"""Checks of the simulation's frozen dataclasses: one error wording for every field."""

from __future__ import annotations

import math


def _check_positive(owner: str, name: str, value, *, allow_zero: bool = False) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise TypeError(f"{owner}.{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(
            f"{owner}.{name} must be {'non-negative' if allow_zero else 'positive'}, got {value!r}"
        )


def _check_range(owner: str, name: str, value) -> None:
    if len(value) != 2 or not value[0] <= value[1]:
        raise ValueError(f"{owner}.{name} must be a (low, high) pair with low <= high, got {value!r}")
