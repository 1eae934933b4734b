"""Numerically safe float32 helpers shared by the mass profiles."""

from __future__ import annotations

from keras import ops


def safe_radius(dx, dy):
    """``(r2, r, r_safe)``: r = |(dx, dy)| with finite gradients at r = 0.

    ``r_safe`` equals r where r > 0 and 1 at r = 0, so ``f / r_safe`` never divides by
    zero; callers mask the centre with ``ops.where(r2 > 0, ..., value_at_centre)``.
    """
    r2 = dx * dx + dy * dy
    positive = r2 > 0
    r_safe = ops.sqrt(ops.where(positive, r2, ops.ones_like(r2)))
    r = ops.where(positive, r_safe, ops.zeros_like(r2))
    return r2, r, r_safe


def ellipticity_to_phi_q(e1, e2):
    """lenstronomy's ``ellipticity2phi_q``: ``phi = atan2(e2, e1) / 2``, ``c = min(|e|, 0.9999)``,
    ``q = (1 - c) / (1 + c)``. Also returns ``c`` (float32 tensors)."""
    phi = 0.5 * ops.arctan2(e2, e1)
    c2 = e1 * e1 + e2 * e2
    c = ops.sqrt(ops.where(c2 > 0, c2, ops.ones_like(c2)))
    c = ops.where(c2 > 0, c, ops.zeros_like(c2))
    c = ops.minimum(c, 0.9999)
    q = (1.0 - c) / (1.0 + c)
    return phi, q, c


def rotate(x, y, angle):
    """lenstronomy's ``util.rotate``: coordinates in a frame rotated counter-clockwise by ``angle``."""
    cos, sin = ops.cos(angle), ops.sin(angle)
    return x * cos + y * sin, -x * sin + y * cos
