"""External shear (lenstronomy ``SHEAR``)."""

from __future__ import annotations

from keras import ops

from lensml.physics.mass.base import MassProfile


class Shear(MassProfile):
    """Constant external shear: psi = (gamma1 (x^2 - y^2) + 2 gamma2 x y) / 2.

    Keywords (lenstronomy's names): ``gamma1``, ``gamma2`` (dimensionless), ``ra_0``,
    ``dec_0`` (arcsec, the origin of the expansion; default 0). Convergence is 0.

    Example:

    ```python
    import numpy as np
    from lensml.physics import Shear

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    alpha_x, alpha_y = Shear().deflection(x, y, gamma1=0.03, gamma2=-0.01)
    kappa = Shear().convergence(x, y, gamma1=0.03, gamma2=-0.01)
    ```
    """

    name = "SHEAR"
    required = ("gamma1", "gamma2")
    optional = {"ra_0": 0.0, "dec_0": 0.0}

    def _deflection(self, x, y, gamma1, gamma2, ra_0, dec_0):
        dx, dy = x - ra_0, y - dec_0
        return gamma1 * dx + gamma2 * dy, gamma2 * dx - gamma1 * dy

    def _hessian(self, x, y, gamma1, gamma2, ra_0, dec_0):
        zero = ops.zeros_like(x - ra_0) + 0.0 * (y - dec_0)
        return zero + gamma1, zero + gamma2, zero + gamma2, zero - gamma1

    def _convergence(self, x, y, gamma1, gamma2, ra_0, dec_0):
        return ops.zeros_like(x - ra_0) + 0.0 * (gamma1 + gamma2 + dec_0 + y)

    def _potential(self, x, y, gamma1, gamma2, ra_0, dec_0):
        dx, dy = x - ra_0, y - dec_0
        return 0.5 * (gamma1 * (dx * dx - dy * dy) + 2.0 * gamma2 * dx * dy)
