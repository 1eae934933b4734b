"""Composite lens model: a sum of analytic mass profiles (lenstronomy's ``LensModel``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lensml.physics.mass import PROFILES
from lensml.physics.mass.base import as_float32


class MassModel:
    """A sum of mass profiles with lenstronomy's API.

    Args:
        profile_names: list of lenstronomy profile names, e.g. ``["SIE", "SHEAR"]``;
            available: see ``lensml.physics.PROFILES``.

    Methods: ``deflection``, ``potential``, ``hessian``, ``convergence``, ``magnification``,
    ``ray_shoot``. Every method takes positions ``x, y`` (arcsec, float32, any broadcastable shape) and
    ``kwargs_list``, one dict of keyword parameters per profile (lenstronomy's names).
    Parameter values are floats or tensors that broadcast against x: x (H, W) or (1, H, W)
    with theta_E (B, 1, 1) evaluates B lenses in one call, giving (B, H, W).

    Example::

        model = MassModel(["SIE", "SHEAR"])
        x, y = pixel_grid(64, 0.101)
        ax, ay = model.deflection(x, y, [
            {"theta_E": 1.2, "e1": 0.1, "e2": 0.0},
            {"gamma1": 0.05, "gamma2": 0.0},
        ])
    """

    def __init__(self, profile_names: Sequence[str]):
        if isinstance(profile_names, str) or not isinstance(profile_names, Sequence):
            raise TypeError(
                f"profile_names must be a list of profile names, got {profile_names!r}"
            )
        for name in profile_names:
            if name not in PROFILES:
                raise ValueError(
                    f"profile_names: unknown mass profile {name!r}; known profiles are {sorted(PROFILES)}"
                )
        self.profile_names = list(profile_names)
        self.profiles = [PROFILES[name]() for name in self.profile_names]

    def _pairs(self, kwargs_list):
        if isinstance(kwargs_list, Mapping) or not isinstance(kwargs_list, Sequence):
            raise TypeError(
                f"kwargs_list must be a list of dicts (one per profile), got {type(kwargs_list).__name__}"
            )
        if len(kwargs_list) != len(self.profiles):
            raise ValueError(
                f"kwargs_list has {len(kwargs_list)} entries but the model has "
                f"{len(self.profiles)} profiles {self.profile_names}"
            )
        for i, kwargs in enumerate(kwargs_list):
            if not isinstance(kwargs, Mapping):
                raise TypeError(f"kwargs_list[{i}] must be a dict, got {type(kwargs).__name__}")
        return zip(self.profiles, kwargs_list)

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

    def __repr__(self) -> str:
        return f"MassModel({self.profile_names!r})"
