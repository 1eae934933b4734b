"""Base classes of the analytic profiles: ``Profile`` (lenstronomy keywords) and ``MassProfile``.

A profile is stateless: parameters come as keyword arguments with lenstronomy's names
(``theta_E``, ``e1``, ``e2``, ``center_x``, ...). Each value is a Python float or a
tensor that broadcasts against the positions, so a batch of lenses is one call
(x of shape (H, W) or (1, H, W) and theta_E of shape (B, 1, 1) give (B, H, W)).
Angles are in arcsec, computations in float32.
"""

from __future__ import annotations

from keras import ops

from lensml.physics._checks import check_nonnegative_values, check_positive_values


def as_float32(value):
    """A float32 tensor from a Python number, numpy array or tensor."""
    return ops.cast(ops.convert_to_tensor(value), "float32")


class Profile:
    """A parametric profile with lenstronomy's keyword conventions (the base of the mass and the
    light profiles): subclasses set ``name`` (lenstronomy's profile name), ``required``
    (parameter names without default), ``optional`` (name -> default), ``nonnegative`` /
    ``positive`` (checked when the value is known) and ``static`` (Python-int parameters that
    fix the computation graph)."""

    name: str = ""
    required: tuple[str, ...] = ()
    optional: dict = {}
    nonnegative: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    static: tuple[str, ...] = ()

    @property
    def param_names(self) -> list[str]:
        """All accepted keyword names, required first."""
        return list(self.required) + list(self.optional)

    def parse_kwargs(self, kwargs: dict) -> dict:
        """Validate keyword names and values; fill defaults; cast to float32 tensors.

        Raises:
            ValueError: an unknown or missing keyword, or a negative value of a parameter
                that must be >= 0 (theta_E, Rs, ...).
        """
        known = set(self.param_names)
        for key in kwargs:
            if key not in known:
                raise ValueError(
                    f"{self.name}: unknown keyword {key!r}; expected keywords are {self.param_names}"
                )
        missing = [k for k in self.required if k not in kwargs]
        if missing:
            raise ValueError(
                f"{self.name}: missing keyword(s) {missing}; expected keywords are {self.param_names}"
            )
        params = dict(self.optional)
        params.update(kwargs)
        out = {}
        for key, value in params.items():
            if key in self.nonnegative:
                check_nonnegative_values(f"{self.name} {key}", value)
            if key in self.positive:
                check_positive_values(f"{self.name} {key}", value)
            out[key] = value if key in self.static else as_float32(value)
        return out

    @staticmethod
    def _positions(x, y):
        return as_float32(x), as_float32(y)

class MassProfile(Profile):
    """Analytic lens mass profile with lenstronomy's method set: potential, deflection,
    hessian, convergence.

    Subclasses declare their keywords (:class:`Profile`) and implement ``_deflection``,
    ``_convergence``, ``_potential``, and ``_hessian`` where a closed form is written (else it
    is the deflection's Jacobian by automatic differentiation, ``lensml.physics.autodiff``).

    Example:

    ```python
    import numpy as np
    from lensml.physics import SIS

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    profile = SIS()                                  # every profile has this interface
    alpha_x, alpha_y = profile.deflection(x, y, theta_E=1.2)
    kappa = profile.convergence(x, y, theta_E=1.2)
    psi = profile.potential(x, y, theta_E=1.2)
    ```
    """

    def deflection(self, x, y, **kwargs):
        """Deflection angle at (x, y).

        Args:
            x, y: positions in arcsec, float32 tensors of any (broadcastable) shape.
            **kwargs: profile parameters (lenstronomy names), floats or broadcastable tensors.

        Returns:
            ``(alpha_x, alpha_y)`` in arcsec, the broadcast shape of positions and parameters.
        """
        x, y = self._positions(x, y)
        return self._deflection(x, y, **self.parse_kwargs(kwargs))

    def convergence(self, x, y, **kwargs):
        """Convergence kappa (dimensionless) at (x, y); same shapes as :meth:`deflection`."""
        x, y = self._positions(x, y)
        return self._convergence(x, y, **self.parse_kwargs(kwargs))

    def potential(self, x, y, **kwargs):
        """Lensing potential psi in arcsec^2 at (x, y); same shapes as :meth:`deflection`."""
        x, y = self._positions(x, y)
        return self._potential(x, y, **self.parse_kwargs(kwargs))

    def hessian(self, x, y, **kwargs):
        """Second derivatives of the potential at (x, y), lenstronomy's order:
        ``(f_xx, f_xy, f_yx, f_yy)`` (dimensionless; f_xy = d alpha_x / dy); same shapes as
        :meth:`deflection`. The convergence is (f_xx + f_yy) / 2, the magnification
        1 / ((1 - f_xx)(1 - f_yy) - f_xy f_yx) (``MassModel.magnification``)."""
        x, y = self._positions(x, y)
        return self._hessian(x, y, **self.parse_kwargs(kwargs))

    def _hessian(self, x, y, **p):
        from lensml.physics.autodiff import field_jacobian

        return field_jacobian(lambda u, v: self._deflection(u, v, **p), x, y)

    def _deflection(self, x, y, **p):
        raise NotImplementedError

    def _convergence(self, x, y, **p):
        raise NotImplementedError

    def _potential(self, x, y, **p):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
