"""Composite lens model: a sum of analytic mass profiles (lenstronomy's ``LensModel``)."""

from __future__ import annotations

from lensml.physics.composite import ProfileSum
from lensml.physics.mass import PROFILES
from lensml.physics.mass.base import as_float32


class MassModel(ProfileSum):
    """A sum of mass profiles with lenstronomy's API.

    Args:
        profile_names: list of lenstronomy profile names, e.g. ``["SIE", "SHEAR"]``;
            available: see ``lensml.physics.PROFILES``.

    Methods: ``deflection``, ``potential``, ``hessian``, ``convergence``, ``magnification``,
    ``ray_shoot``. Every method takes positions ``x, y`` (arcsec, float32, any broadcastable shape) and
    ``kwargs_list``, one dict of keyword parameters per profile (lenstronomy's names).
    Parameter values are floats or tensors that broadcast against x: x (H, W) or (1, H, W)
    with theta_E (B, 1, 1) evaluates B lenses in one call, giving (B, H, W).

    Example:

    ```python
    from lensml.physics import MassModel, pixel_grid

    model = MassModel(["SIE", "SHEAR"])
    x, y = pixel_grid(64, 0.101)
    ax, ay = model.deflection(x, y, [
        {"theta_E": 1.2, "e1": 0.1, "e2": 0.0},
        {"gamma1": 0.05, "gamma2": 0.0},
    ])
    ```
    """

    registry = PROFILES
    kind = "mass"

    def deflection(self, x, y, kwargs_list):
        """Total deflection ``(alpha_x, alpha_y)`` in arcsec at (x, y)."""
        total_x = total_y = None
        for profile, kwargs in self._pairs(kwargs_list):
            ax, ay = profile.deflection(x, y, **kwargs)
            total_x = ax if total_x is None else total_x + ax
            total_y = ay if total_y is None else total_y + ay
        if total_x is None:
            zero = 0.0 * as_float32(x) * as_float32(y)
            return zero, zero
        return total_x, total_y

    def convergence(self, x, y, kwargs_list):
        """Total convergence kappa (dimensionless) at (x, y)."""
        return self._sum("convergence", x, y, kwargs_list)

    def potential(self, x, y, kwargs_list):
        """Total lensing potential psi (arcsec^2) at (x, y)."""
        return self._sum("potential", x, y, kwargs_list)

    def hessian(self, x, y, kwargs_list):
        """Total ``(f_xx, f_xy, f_yx, f_yy)`` at (x, y), lenstronomy's order (dimensionless)."""
        total = None
        for profile, kwargs in self._pairs(kwargs_list):
            h = profile.hessian(x, y, **kwargs)
            total = h if total is None else tuple(t + v for t, v in zip(total, h))
        if total is None:
            zero = 0.0 * as_float32(x) * as_float32(y)
            return zero, zero, zero, zero
        return total

    def magnification(self, x, y, kwargs_list):
        """Signed magnification mu = 1 / det(A), A = 1 - hessian (lenstronomy's); +-inf on
        the critical curves."""
        f_xx, f_xy, f_yx, f_yy = self.hessian(x, y, kwargs_list)
        return 1.0 / ((1.0 - f_xx) * (1.0 - f_yy) - f_xy * f_yx)

    def ray_shoot(self, x, y, kwargs_list):
        """Source-plane positions ``(beta_x, beta_y) = theta - alpha(theta)`` in arcsec."""
        ax, ay = self.deflection(x, y, kwargs_list)
        return as_float32(x) - ax, as_float32(y) - ay

    def _sum(self, method, x, y, kwargs_list):
        total = None
        for profile, kwargs in self._pairs(kwargs_list):
            value = getattr(profile, method)(x, y, **kwargs)
            total = value if total is None else total + value
        if total is None:
            return 0.0 * as_float32(x) * as_float32(y)
        return total
