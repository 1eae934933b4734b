"""Axion (ultralight dark matter) vortex: a straight line of mass through a centre.

Two models of the same line (as in the public DeepLense simulator):

- ``AXION_VORTEX``: ``n_points`` equal point masses evenly spaced (end points included) on
  the segment from -half_length to +half_length along the direction ``angle``.
- ``AXION_VORTEX_LINE``: the continuum limit, a uniform line density on the same segment,
  with a closed-form deflection and potential.

Shared keywords:
    theta_E: Einstein radius (arcsec, >= 0) of the *total* mass of the line, i.e. the
        theta_E a point mass of the whole line would have. Each of the n point masses has
        theta_E / sqrt(n) (deflection scales as theta_E^2, i.e. with mass).
    half_length: half-length of the segment (arcsec, >= 0).
    angle: direction of the line, radians counter-clockwise from the +x axis.
    center_x, center_y: centre of the segment (arcsec, default 0).
``AXION_VORTEX`` also takes ``n_points`` (Python int >= 1, default 100; it fixes the
computation graph, so it cannot be a tensor).

The convergence of both is a delta distribution on the points/line: 0 elsewhere, and
:meth:`convergence` returns 0 everywhere.

Point masses on one line are summed in the line's frame (u along it, v across it), where a
mass at (t_k, 0) deflects by theta_k^2 (u - t_k, v) / r^2: one rotation in, one out, and per
mass a scalar offset instead of a 2-D one. ``AxionVortex`` and the batched simulator's
axion class (``collinear_point_mass_deflection``, the vortex's masses as the scene's
``POINT_MASS`` components) both sum this way.
"""

from __future__ import annotations

from keras import ops

from lensml.physics._checks import check_positive_int, concrete_value
from lensml.physics.mass.base import MassProfile
from lensml.physics.mass.point_mass import R2_FLOOR, point_mass_potential


def to_line_frame(dx, dy, cos, sin):
    """Offsets (dx, dy) from a point of the line -> (u along the line, v across it)."""
    return dx * cos + dy * sin, dy * cos - dx * sin


def from_line_frame(alpha_u, alpha_v, cos, sin):
    """A deflection (alpha_u, alpha_v) in the line's frame -> (alpha_x, alpha_y)."""
    return alpha_u * cos - alpha_v * sin, alpha_u * sin + alpha_v * cos


def _add_point_on_line(sums, u, v2, t, theta_E_sq):
    """(sum a d, sum a) plus the mass theta_E_sq at (t, 0): d = u - t, a = theta_E^2 / r^2."""
    d = u - t
    a = theta_E_sq / ops.maximum(d * d + v2, R2_FLOOR)
    return (a * d, a) if sums is None else (sums[0] + a * d, sums[1] + a)


def _line_sum_deflection(sums, v, cos, sin):
    sum_ad, sum_a = sums
    return from_line_frame(sum_ad, sum_a * v, cos, sin)


def collinear_point_mass_deflection(x, y, angle, offsets, theta_E):
    """Deflection (arcsec) of K point masses on the line through the origin at ``angle``
    (radians), the k-th at distance ``offsets[k]`` (arcsec, signed) along it with Einstein
    radius ``theta_E[k]`` (arcsec): sum_k theta_k^2 (x - x_k) / |x - x_k|^2, summed in the
    line's frame. ``offsets`` and ``theta_E``: K tensors each broadcasting against x (e.g.
    (B, 1, 1) for a batch of lenses); the sum is unrolled over K (static), which XLA fuses with
    what uses the deflection (the batched simulator's source)."""
    if len(offsets) != len(theta_E) or not len(offsets):
        raise ValueError(f"offsets, theta_E: expected as many (>= 1) of each, got {len(offsets)} and {len(theta_E)}")
    cos, sin = ops.cos(angle), ops.sin(angle)
    u, v = to_line_frame(x, y, cos, sin)
    v2 = v * v
    sums = None
    for t, theta in zip(offsets, theta_E):
        sums = _add_point_on_line(sums, u, v2, t, theta * theta)
    return _line_sum_deflection(sums, v, cos, sin)


def _static_int(name, value):
    if isinstance(value, int):
        return check_positive_int(name, value)
    arr = concrete_value(value)
    if arr is None or arr.size != 1 or float(arr) != int(arr):
        raise TypeError(f"{name} must be a Python int (it fixes the number of point masses), got {value!r}")
    return check_positive_int(name, int(arr))


class AxionVortex(MassProfile):
    """Line of ``n_points`` equal point masses (see the module docstring for the keywords).

    Example:

    ```python
    import numpy as np
    from lensml.physics import AxionVortex

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    alpha_x, alpha_y = AxionVortex().deflection(x, y, theta_E=0.02, half_length=1.0, angle=0.4)
    kappa = AxionVortex().convergence(x, y, theta_E=0.02, half_length=1.0, angle=0.4)
    ```
    """

    name = "AXION_VORTEX"
    required = ("theta_E", "half_length", "angle")
    optional = {"center_x": 0.0, "center_y": 0.0, "n_points": 100}
    nonnegative = ("theta_E", "half_length")
    static = ("n_points",)

    @staticmethod
    def _sum_over_points(n, half_length, angle, center_x, center_y, term, init):
        """sum_k term(x_k, y_k) over the n points, as a compiled loop (not unrolled n times)."""
        cos, sin = ops.cos(angle), ops.sin(angle)
        spacing = 0.0 if n == 1 else 2.0 / (n - 1)

        def body(k, total):
            frac = -1.0 + spacing * ops.cast(k, "float32") if n > 1 else 0.0
            px = center_x + frac * half_length * cos
            py = center_y + frac * half_length * sin
            return tuple(t + v for t, v in zip(total, term(px, py)))

        # A loop over the points, not a broadcast over a new axis: (B, H, W, n)
        # intermediates are large and slower.
        return ops.fori_loop(0, n, body, init)

    def _deflection(self, x, y, theta_E, half_length, angle, center_x, center_y, n_points):
        # In the line's frame (see the module docstring), the n masses summed by a compiled loop.
        n = _static_int("n_points", n_points)
        each = theta_E * theta_E / n
        cos, sin = ops.cos(angle), ops.sin(angle)
        u, v = to_line_frame(x - center_x, y - center_y, cos, sin)
        v2 = v * v
        spacing = 0.0 if n == 1 else 2.0 / (n - 1)
        zero = ops.zeros_like(u + v + each + half_length)

        def body(k, sums):
            t = (-1.0 + spacing * ops.cast(k, "float32")) * half_length if n > 1 else 0.0 * half_length
            return _add_point_on_line(sums, u, v2, t, each)

        return _line_sum_deflection(ops.fori_loop(0, n, body, (zero, zero)), v, cos, sin)

    def _convergence(self, x, y, theta_E, half_length, angle, center_x, center_y, n_points):
        return 0.0 * (x - center_x) * (y - center_y) * theta_E * half_length * angle

    def _potential(self, x, y, theta_E, half_length, angle, center_x, center_y, n_points):
        n = _static_int("n_points", n_points)
        each = theta_E * theta_E / n
        zero = ops.zeros_like(x + y + each + half_length + angle + center_x + center_y)
        (total,) = self._sum_over_points(
            n, half_length, angle, center_x, center_y,
            lambda px, py: (point_mass_potential(x - px, y - py, each),), (zero,),
        )
        return total


class AxionVortexLine(MassProfile):
    """Uniform line density on a segment (see the module docstring for the keywords).

    With u along the line and v across it (from the centre), L = half_length and
    lambda = theta_E^2 / (2 L):
    alpha_u = lambda/2 ln(((u + L)^2 + v^2) / ((u - L)^2 + v^2)),
    alpha_v = lambda atan2(2 L v, u^2 + v^2 - L^2),
    psi = lambda/2 [F(L - u) - F(-L - u)] with F(w) = w ln(w^2 + v^2) - 2 w + 2 v atan(w / v).
    Finite everywhere (the deflection jumps across the line itself and diverges
    logarithmically at its ends, where r^2 is floored at 1e-30 arcsec^2). For
    half_length -> 0 it tends to a point mass with this theta_E.

    Example:

    ```python
    import numpy as np
    from lensml.physics import AxionVortexLine

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    alpha_x, alpha_y = AxionVortexLine().deflection(x, y, theta_E=0.02, half_length=1.0, angle=0.4)
    kappa = AxionVortexLine().convergence(x, y, theta_E=0.02, half_length=1.0, angle=0.4)
    ```
    """

    name = "AXION_VORTEX_LINE"
    required = ("theta_E", "half_length", "angle")
    optional = {"center_x": 0.0, "center_y": 0.0}
    nonnegative = ("theta_E", "half_length")

    @staticmethod
    def _frame(x, y, half_length, angle, center_x, center_y):
        cos, sin = ops.cos(angle), ops.sin(angle)
        u, v = to_line_frame(x - center_x, y - center_y, cos, sin)
        # A zero-length line is a point mass: keep L > 0 so lambda = theta_E^2 / (2 L) is finite.
        length = ops.maximum(half_length, 1e-12)
        return cos, sin, u, v, length

    def _deflection(self, x, y, theta_E, half_length, angle, center_x, center_y):
        cos, sin, u, v, length = self._frame(x, y, half_length, angle, center_x, center_y)
        density = theta_E * theta_E / (2.0 * length)
        plus = ops.maximum((u + length) ** 2 + v * v, R2_FLOOR)
        minus = ops.maximum((u - length) ** 2 + v * v, R2_FLOOR)
        short = length < 1e-6
        # For a very short line the log ratio loses all digits: use its limit 4 L u / r^2.
        r2 = ops.maximum(u * u + v * v, R2_FLOOR)
        alpha_u = ops.where(short, theta_E * theta_E * u / r2, 0.5 * density * ops.log(plus / minus))
        alpha_v = ops.where(
            short,
            theta_E * theta_E * v / r2,
            density * ops.arctan2(2.0 * length * v, u * u + v * v - length * length),
        )
        return from_line_frame(alpha_u, alpha_v, cos, sin)

    def _convergence(self, x, y, theta_E, half_length, angle, center_x, center_y):
        return 0.0 * (x - center_x) * (y - center_y) * theta_E * half_length * angle

    def _potential(self, x, y, theta_E, half_length, angle, center_x, center_y):
        _, _, u, v, length = self._frame(x, y, half_length, angle, center_x, center_y)
        density = theta_E * theta_E / (2.0 * length)
        v_safe = ops.where(v == 0, ops.ones_like(v), v)

        def antiderivative(w):
            # int ln(w^2 + v^2) dw; v atan(w / v) -> 0 on the line (v = 0).
            return w * ops.log(ops.maximum(w * w + v * v, R2_FLOOR)) - 2.0 * w + 2.0 * v * ops.arctan(w / v_safe)

        line = 0.5 * density * (antiderivative(length - u) - antiderivative(-length - u))
        short = length < 1e-6
        return ops.where(
            short,
            0.5 * theta_E * theta_E * ops.log(ops.maximum(u * u + v * v, R2_FLOOR)),
            line,
        )
