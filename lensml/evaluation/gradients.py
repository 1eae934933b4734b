"""Gradient of a scalar function of one tensor, on whichever Keras backend is active
(``lensml.physics.autodiff.gradient``, the one place that chooses the backend's autodiff)."""

from __future__ import annotations


def gradient(fn, x):
    """d fn(x) / dx for a scalar-valued ``fn``; returns a backend tensor shaped like ``x``."""
    from lensml.physics.autodiff import gradient as _gradient

    return _gradient(fn, x)
