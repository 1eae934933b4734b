"""Isothermal profiles: singular isothermal sphere (SIS) and ellipsoid (SIE).

Conventions are lenstronomy's: theta_E is the Einstein radius in arcsec; for the SIE it is
the product-averaged (circularised) Einstein radius, and (e1, e2) are the eccentricity
components with ``phi = atan2(e2, e1) / 2`` and ``q = (1 - |e|) / (1 + |e|)``.
lenstronomy's ``SIE`` evaluates the non-singular isothermal ellipsoid (NIE, Keeton &
Kochanek 1998) with a core of 1e-10 arcsec; :class:`SIE` does the same, so the two agree
everywhere, including (to float32 precision) the centre.
"""

from __future__ import annotations

from keras import ops

from lensml.physics.mass._math import ellipticity_to_phi_q, rotate, safe_radius
from lensml.physics.mass.base import MassProfile

#: lenstronomy's SIE core (``SIE._s_scale``) in arcsec.
SIE_CORE = 1e-10
# sqrt(1 - q^2) below this is treated as this value: lenstronomy clamps q < 1 by setting
# q = 0.99999999 (sqrt(1 - q^2) = 1.4e-4); the deflection is insensitive to the exact value.
_MIN_SQRT_1MQ2 = 1.4142e-4


class SIS(MassProfile):
    """Singular isothermal sphere: kappa = theta_E / (2 r), alpha = theta_E * theta / |theta|.

    Keywords: ``theta_E`` (arcsec, >= 0), ``center_x``, ``center_y`` (arcsec, default 0).
    At the exact centre the deflection and convergence are 0 (as in lenstronomy).

    Example:

    ```python
    import numpy as np
    from lensml.physics import SIS

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    alpha_x, alpha_y = SIS().deflection(x, y, theta_E=1.2)
    kappa = SIS().convergence(x, y, theta_E=1.2)
    ```
    """

    name = "SIS"
    required = ("theta_E",)
    optional = {"center_x": 0.0, "center_y": 0.0}
    nonnegative = ("theta_E",)

    def _deflection(self, x, y, theta_E, center_x, center_y):
        dx, dy = x - center_x, y - center_y
        r2, _, r_safe = safe_radius(dx, dy)
        a = ops.where(r2 > 0, theta_E / r_safe, ops.zeros_like(r2))
        return a * dx, a * dy

    def _hessian(self, x, y, theta_E, center_x, center_y):
        # theta_E (dy^2, -dx dy, -dx dy, dx^2) / r^3
        dx, dy = x - center_x, y - center_y
        r2, _, r_safe = safe_radius(dx, dy)
        a = ops.where(r2 > 0, theta_E / (r_safe * r_safe * r_safe), ops.zeros_like(r2))
        f_xy = -a * dx * dy
        return a * dy * dy, f_xy, f_xy, a * dx * dx

    def _convergence(self, x, y, theta_E, center_x, center_y):
        dx, dy = x - center_x, y - center_y
        r2, _, r_safe = safe_radius(dx, dy)
        return ops.where(r2 > 0, 0.5 * theta_E / r_safe, ops.zeros_like(r2))

    def _potential(self, x, y, theta_E, center_x, center_y):
        _, r, _ = safe_radius(x - center_x, y - center_y)
        return theta_E * r


class SIE(MassProfile):
    """Singular isothermal ellipsoid in lenstronomy's conventions (NIE with a 1e-10" core).

    kappa = b / (2 sqrt(q^2 (s^2 + x'^2) + y'^2)) in the frame of the major axis, with
    b = theta_E sqrt(q) and s = 1e-10 / sqrt(q).

    Keywords: ``theta_E`` (arcsec, >= 0), ``e1``, ``e2``, ``center_x``, ``center_y``
    (arcsec, default 0). Finite everywhere (the convergence at the exact centre is large,
    ~theta_E * 1e10, as in lenstronomy).

    Example:

    ```python
    import numpy as np
    from lensml.physics import SIE

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    alpha_x, alpha_y = SIE().deflection(x, y, theta_E=1.2, e1=0.1, e2=-0.05)
    kappa = SIE().convergence(x, y, theta_E=1.2, e1=0.1, e2=-0.05)
    ```
    """

    name = "SIE"
    required = ("theta_E", "e1", "e2")
    optional = {"center_x": 0.0, "center_y": 0.0}
    nonnegative = ("theta_E",)

    @staticmethod
    def _frame(x, y, theta_E, e1, e2, center_x, center_y):
        phi, q, c = ellipticity_to_phi_q(e1, e2)
        b = theta_E * ops.sqrt(q)
        s = SIE_CORE / ops.sqrt(q)
        # sqrt(1 - q^2) = 2 sqrt(c) / (1 + c), exact in float32 even when q is close to 1.
        sq = ops.maximum(2.0 * ops.sqrt(c) / (1.0 + c), _MIN_SQRT_1MQ2)
        xr, yr = rotate(x - center_x, y - center_y, phi)
        psi = ops.sqrt(q * q * (s * s + xr * xr) + yr * yr)
        return phi, q, b, s, sq, xr, yr, psi

    @staticmethod
    def _major_axis_deflection(b, s, q, sq, xr, yr, psi):
        fx = b / sq * ops.arctan(sq * xr / (psi + s))
        fy = b / sq * ops.arctanh(sq * yr / (psi + q * q * s))
        return fx, fy

    def _deflection(self, x, y, theta_E, e1, e2, center_x, center_y):
        phi, q, b, s, sq, xr, yr, psi = self._frame(x, y, theta_E, e1, e2, center_x, center_y)
        fx, fy = self._major_axis_deflection(b, s, q, sq, xr, yr, psi)
        return rotate(fx, fy, -phi)

    def _convergence(self, x, y, theta_E, e1, e2, center_x, center_y):
        _, _, b, _, _, _, _, psi = self._frame(x, y, theta_E, e1, e2, center_x, center_y)
        return 0.5 * b / psi

    def _potential(self, x, y, theta_E, e1, e2, center_x, center_y):
        _, q, b, s, sq, xr, yr, psi = self._frame(x, y, theta_E, e1, e2, center_x, center_y)
        fx, fy = self._major_axis_deflection(b, s, q, sq, xr, yr, psi)
        core = 0.5 * b * s * ops.log((psi + s) ** 2 + sq * sq * xr * xr)
        return xr * fx + yr * fy - core
