"""Point mass (lenstronomy ``POINT_MASS``)."""

from __future__ import annotations

from keras import ops

from lensml.physics.mass.base import MassProfile

# Floor of r^2 in arcsec^2: keeps 1/r^2 and log r finite at the exact centre in float32
# (lenstronomy floors r at 1e-25 in float64; both return 0 deflection there).
R2_FLOOR = 1e-30


def point_mass_deflection(dx, dy, theta_E_sq):
    """alpha = theta_E^2 (dx, dy) / r^2 for offsets (dx, dy) from the mass; 0 at r = 0."""
    r2 = ops.maximum(dx * dx + dy * dy, R2_FLOOR)
    a = theta_E_sq / r2
    return a * dx, a * dy


def point_mass_potential(dx, dy, theta_E_sq):
    """psi = theta_E^2 ln r (arcsec^2), with r^2 floored at 1e-30."""
    return 0.5 * theta_E_sq * ops.log(ops.maximum(dx * dx + dy * dy, R2_FLOOR))


class PointMass(MassProfile):
    """Point mass: alpha = theta_E^2 theta / |theta|^2, psi = theta_E^2 ln|theta|.

    Keywords: ``theta_E`` (arcsec, >= 0), ``center_x``, ``center_y`` (arcsec, default 0).
    The convergence is a delta function at the centre; off the centre it is 0, and
    :meth:`convergence` returns 0 everywhere.

    Example:

    ```python
    import numpy as np
    from lensml.physics import PointMass

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    alpha_x, alpha_y = PointMass().deflection(x, y, theta_E=0.05, center_x=0.6, center_y=-0.3)
    kappa = PointMass().convergence(x, y, theta_E=0.05, center_x=0.6, center_y=-0.3)
    ```
    """

    name = "POINT_MASS"
    required = ("theta_E",)
    optional = {"center_x": 0.0, "center_y": 0.0}
    nonnegative = ("theta_E",)

    def _deflection(self, x, y, theta_E, center_x, center_y):
        return point_mass_deflection(x - center_x, y - center_y, theta_E * theta_E)

    def _hessian(self, x, y, theta_E, center_x, center_y):
        # theta_E^2 (r^2 - 2 dx^2, -2 dx dy, -2 dx dy, r^2 - 2 dy^2) / r^4, zero at the centre
        dx, dy = x - center_x, y - center_y
        r2 = ops.maximum(dx * dx + dy * dy, R2_FLOOR)
        a = theta_E * theta_E / (r2 * r2)
        f_xy = -2.0 * a * dx * dy
        return a * (dy * dy - dx * dx), f_xy, f_xy, a * (dx * dx - dy * dy)

    def _convergence(self, x, y, theta_E, center_x, center_y):
        return 0.0 * (x - center_x) * (y - center_y) * theta_E

    def _potential(self, x, y, theta_E, center_x, center_y):
        return point_mass_potential(x - center_x, y - center_y, theta_E * theta_E)
