"""Momentum schedules for EMA targets, as keras.ops functions of a step tensor.

They are evaluated inside the compiled train step from a step counter held in a variable,
so they advance on JAX too (Python state would be frozen at trace time).
"""

from __future__ import annotations

import math

from keras import ops


def cosine_momentum(step, total_steps, base=0.996, final=1.0):
    """BYOL / DINO schedule: m = final - (final - base) * (cos(pi * step / total) + 1) / 2.

    step: scalar (int or float tensor), clipped to [0, total_steps]. Returns float32.
    """
    t = ops.clip(ops.cast(step, "float32") / float(max(total_steps, 1)), 0.0, 1.0)
    return final - (final - base) * (ops.cos(math.pi * t) + 1.0) / 2.0


def linear_ramp(step, total_steps, start, end):
    """start + (end - start) * step / total_steps, constant at `end` from total_steps on
    (at once when total_steps <= 0: no ramp). Returns float32."""
    if total_steps <= 0:
        return ops.convert_to_tensor(end, "float32")
    t = ops.clip(ops.cast(step, "float32") / float(total_steps), 0.0, 1.0)
    return start + (end - start) * t


def linear_momentum(step, total_steps, base=0.996, final=1.0):
    """I-JEPA schedule: m = base + (final - base) * step / total, clipped at total_steps."""
    return linear_ramp(step, total_steps, base, final)


SCHEDULES = {"cosine": cosine_momentum, "linear": linear_momentum}


def get_schedule(name):
    """Schedule function by name: "cosine" or "linear"."""
    if name not in SCHEDULES:
        raise ValueError(f"momentum_schedule={name!r}: expected one of {sorted(SCHEDULES)}")
    return SCHEDULES[name]
