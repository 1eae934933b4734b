"""NFW and truncated NFW (Baltz, Marshall & Oguri 2009) profiles, lenstronomy ``NFW`` / ``TNFW``.

Keywords (lenstronomy's): ``Rs`` (scale radius, arcsec, > 0), ``alpha_Rs`` (deflection at
Rs, arcsec, >= 0), ``r_trunc`` (TNFW truncation radius, arcsec, > 0), ``center_x``,
``center_y`` (arcsec, default 0).

The closed forms contain differences of large terms near x = R / Rs -> 0 and 1; in float32
they are evaluated in rearranged forms (log1p, atanh/atan over their argument, short Taylor
series) so that they stay within ~1e-5 of lenstronomy's float64 values.
"""

from __future__ import annotations

import math

from keras import ops

from lensml.physics.mass.base import MassProfile

_LN_HALF = math.log(0.5)
# lenstronomy floors: NFW x >= 1e-6 (in g and h) and Rs >= 1e-7; TNFW x >= 1e-3.
_NFW_X_FLOOR = 1e-6
_NFW_RS_FLOOR = 1e-7
_TNFW_X_FLOOR = 1e-3


def _where(cond, a, b):
    return ops.where(cond, a, b)


def _big_g(x):
    """G(x) = arccosh(1/x)/sqrt(1-x^2) (x < 1), arccos(1/x)/sqrt(x^2-1) (x > 1), 1 at x = 1.

    Also returns s = 1 - x^2 (computed as (1-x)(1+x), exact near x = 1).
    """
    s = (1.0 - x) * (1.0 + x)
    small = ops.abs(s) < 1e-3
    t = ops.sqrt(_where(small, ops.ones_like(s), ops.abs(s)))
    g_lower = ops.log1p((t + (1.0 - x)) / x) / t  # arccosh(1/x) = log((1 + t) / x)
    g_upper = ops.arctan(t) / t  # arccos(1/x) = atan(sqrt(x^2 - 1))
    series = 1.0 + s / 3.0 + s * s / 5.0  # both branches: sum_k s^k / (2k + 1)
    return _where(small, series, _where(s > 0, g_lower, g_upper)), s


def _nfw_f(x):
    """(1 - G(x)) / (x^2 - 1): the NFW convergence shape; 1/3 at x = 1."""
    big_g, s = _big_g(x)
    small = ops.abs(s) < 0.1
    series = 0.0
    for k in range(7, -1, -1):  # (G - 1) / s = sum_k s^k / (2k + 3)
        series = series * s + 1.0 / (2 * k + 3)
    return _where(small, series, (big_g - 1.0) / _where(small, ops.ones_like(s), s))


def _nfw_g_over_x2(x):
    """g(x) / x^2 with g = ln(x/2) + G(x), the NFW enclosed-mass shape."""
    big_g, _ = _big_g(x)
    direct = (ops.log(0.5 * x) + big_g) / (x * x)
    # x < 0.5: g = ln(2/x) (1/t - 1) + ln((1 + t)/2) / t without cancellation, t = sqrt(1 - x^2).
    xs = ops.minimum(x, 0.5)
    x2 = xs * xs
    t = ops.sqrt((1.0 - xs) * (1.0 + xs))
    small = ops.log(2.0 / xs) / (t * (1.0 + t)) + ops.log1p(-x2 / (2.0 * (1.0 + t))) / (t * x2)
    return _where(x < 0.5, small, direct)


def _nfw_h(x):
    """h(x) = ln(x/2)^2 - arccosh(1/x)^2 (x < 1), ln(x/2)^2 + arccos(1/x)^2 (x >= 1)."""
    xl = ops.minimum(x, 1.0)
    t = ops.sqrt((1.0 - xl) * (1.0 + xl))
    m = ops.log1p(-xl * xl / (2.0 * (1.0 + t)))  # ln((1 + t)/2) = arccosh(1/x) - ln(2/x)
    lower = -m * (2.0 * ops.log(2.0 / xl) + m)
    xu = ops.maximum(x, 1.0)
    upper = ops.log(0.5 * xu) ** 2 + ops.arctan(ops.sqrt((xu - 1.0) * (xu + 1.0))) ** 2
    return _where(x < 1.0, lower, upper)


class NFW(MassProfile):
    """Navarro-Frenk-White profile with lenstronomy's (Rs, alpha_Rs) parametrisation.

    rho0 = alpha_Rs / (4 Rs^2 (1 + ln 1/2)); kappa = 2 rho0 Rs F(R/Rs),
    alpha = 4 rho0 Rs g(x) / x^2 (theta - centre), psi = 2 rho0 Rs^3 h(x).

    Example:

    ```python
    import numpy as np
    from lensml.physics import NFW

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    alpha_x, alpha_y = NFW().deflection(x, y, Rs=0.2, alpha_Rs=0.01, center_x=0.6)
    kappa = NFW().convergence(x, y, Rs=0.2, alpha_Rs=0.01, center_x=0.6)
    ```
    """

    name = "NFW"
    required = ("Rs", "alpha_Rs")
    optional = {"center_x": 0.0, "center_y": 0.0}
    nonnegative = ("alpha_Rs",)
    positive = ("Rs",)

    @staticmethod
    def _scaled(x, y, Rs, center_x, center_y):
        rs = ops.maximum(Rs, _NFW_RS_FLOOR)
        dx, dy = x - center_x, y - center_y
        radius = ops.sqrt(ops.maximum(dx * dx + dy * dy, 1e-30))
        return rs, dx, dy, ops.maximum(radius / rs, _NFW_X_FLOOR)

    def _deflection(self, x, y, Rs, alpha_Rs, center_x, center_y):
        rs, dx, dy, xs = self._scaled(x, y, Rs, center_x, center_y)
        a = alpha_Rs / (rs * (1.0 + _LN_HALF)) * _nfw_g_over_x2(xs)
        return a * dx, a * dy

    def _convergence(self, x, y, Rs, alpha_Rs, center_x, center_y):
        rs, _, _, xs = self._scaled(x, y, Rs, center_x, center_y)
        return alpha_Rs / (2.0 * rs * (1.0 + _LN_HALF)) * _nfw_f(xs)

    def _potential(self, x, y, Rs, alpha_Rs, center_x, center_y):
        rs, _, _, xs = self._scaled(x, y, Rs, center_x, center_y)
        return alpha_Rs * rs / (2.0 * (1.0 + _LN_HALF)) * _nfw_h(xs)


def _log_l(x, tau, q):
    """L(x, tau) = ln(x / (tau + sqrt(tau^2 + x^2))), accurate also for x >> tau."""
    # tau + q - x = tau + tau^2 / (q + x) has no cancellation, so log1p keeps all digits.
    return -ops.log1p((tau + tau * tau / (q + x)) / x)


def _tnfw_g(x, tau):
    """Baltz et al. enclosed-mass function g(x, tau) (lenstronomy ``TNFW._g``)."""
    t2 = tau * tau
    big_g, _ = _big_g(x)
    q = ops.sqrt(t2 + x * x)
    log_l = _log_l(x, tau, q)
    direct = (t2 + 1.0 + 2.0 * (x * x - 1.0)) * big_g + tau * math.pi + (t2 - 1.0) * ops.log(tau) + q * (
        -math.pi + log_l * (t2 - 1.0) / tau
    )
    # x < 0.5: the O(1) terms cancel analytically; the rearranged sum is O(x^2) term by term.
    xs = ops.minimum(x, 0.5)
    x2 = xs * xs
    qs = ops.sqrt(t2 + x2)
    t = ops.sqrt((1.0 - xs) * (1.0 + xs))
    l2 = ops.log(2.0 / xs)
    a1_over_x2 = l2 / (t * (1.0 + t)) + ops.log1p(-x2 / (2.0 * (1.0 + t))) / (t * x2)
    n_over_x2 = ops.log1p(x2 / (2.0 * tau * (qs + tau))) / x2
    big_gs, _ = _big_g(xs)
    small = x2 * (
        -math.pi / (qs + tau)
        + 2.0 * big_gs
        + (t2 - 1.0) * (-(l2 + ops.log(tau)) / (tau * (qs + tau)) + a1_over_x2 - qs / tau * n_over_x2)
    )
    bracket = _where(x < 0.5, small, direct)
    return t2 / (t2 + 1.0) ** 2 * bracket


def _tnfw_f(x, tau):
    """Baltz et al. convergence shape (lenstronomy ``TNFW._F``)."""
    t2 = tau * tau
    big_g, _ = _big_g(x)
    q = ops.sqrt(t2 + x * x)
    log_e = (t2 - 1.0) / (tau * q) * _log_l(x, tau, q)
    direct = (t2 + 1.0) * _nfw_f(x) + 2.0 * big_g - math.pi / q + log_e
    # x > 2: the O(1/x) terms 2 G and -pi/q cancel; with G = (pi/2 - atan(1/t))/t their sum is
    # pi (tau^2 + 1) / (t q (q + t)) - 2 atan(1/t)/t, t = sqrt(x^2 - 1), free of cancellation.
    xu = ops.maximum(x, 2.0)
    qu = ops.sqrt(t2 + xu * xu)
    tu = ops.sqrt((xu - 1.0) * (xu + 1.0))
    inv = ops.arctan(1.0 / tu) / tu
    one_minus_g = 1.0 - (0.5 * math.pi / tu - inv)
    far = (
        (t2 + 1.0) * one_minus_g / (tu * tu)
        + math.pi * (t2 + 1.0) / (tu * qu * (qu + tu))
        - 2.0 * inv
        + (t2 - 1.0) / (tau * qu) * _log_l(xu, tau, qu)
    )
    return t2 / (t2 + 1.0) ** 2 * _where(x > 2.0, far, direct)


def _tnfw_h(x, tau):
    """Baltz et al. potential shape (lenstronomy ``TNFW._h``)."""
    u = x * x
    t2 = tau * tau
    q = ops.sqrt(t2 + u)
    log_l = _log_l(x, tau, q)
    big_g, _ = _big_g(x)
    xl = ops.minimum(x, 1.0)
    xu = ops.maximum(x, 1.0)
    cos_term = _where(
        x < 1.0,
        -ops.log1p((ops.sqrt((1.0 - xl) * (1.0 + xl)) + (1.0 - xl)) / xl) ** 2,  # -arccosh(1/x)^2
        ops.arctan(ops.sqrt((xu - 1.0) * (xu + 1.0))) ** 2,  # arccos(1/x)^2
    )
    log_tau = ops.log(tau)
    return (t2 + 1.0) ** -2 * (
        2.0 * t2 * math.pi * (tau - q + tau * ops.log(tau + q))
        + 2.0 * (t2 - 1.0) * tau * q * log_l
        + t2 * (t2 - 1.0) * log_l**2
        + 4.0 * t2 * (u - 1.0) * big_g
        + t2 * (t2 - 1.0) * cos_term
        + t2 * ((t2 - 1.0) * log_tau - t2 - 1.0) * ops.log(u)
        - t2 * ((t2 - 1.0) * log_tau * ops.log(4.0 * tau) + 2.0 * ops.log(0.5 * tau) - 2.0 * tau * (tau - math.pi) * ops.log(2.0 * tau))
    )


class TNFW(NFW):
    """Truncated NFW (Baltz et al. 2009): rho = rho_NFW * r_trunc^2 / (r_trunc^2 + r^2).

    lenstronomy's ``TNFW`` conventions: tau = r_trunc / Rs, x floored at 1e-3, rho0 from
    alpha_Rs as for the NFW (alpha_Rs is the deflection at Rs of the untruncated NFW).

    Example:

    ```python
    import numpy as np
    from lensml.physics import TNFW

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    alpha_x, alpha_y = TNFW().deflection(x, y, Rs=0.2, alpha_Rs=0.01, r_trunc=1.0, center_x=0.6)
    kappa = TNFW().convergence(x, y, Rs=0.2, alpha_Rs=0.01, r_trunc=1.0, center_x=0.6)
    ```
    """

    name = "TNFW"
    required = ("Rs", "alpha_Rs", "r_trunc")
    optional = {"center_x": 0.0, "center_y": 0.0}
    nonnegative = ("alpha_Rs",)
    positive = ("Rs", "r_trunc")

    @staticmethod
    def _scaled_t(x, y, Rs, r_trunc, center_x, center_y):
        dx, dy = x - center_x, y - center_y
        radius = ops.sqrt(ops.maximum(dx * dx + dy * dy, 1e-30))
        return dx, dy, ops.maximum(radius / Rs, _TNFW_X_FLOOR), r_trunc / Rs

    def _deflection(self, x, y, Rs, alpha_Rs, r_trunc, center_x, center_y):
        dx, dy, xs, tau = self._scaled_t(x, y, Rs, r_trunc, center_x, center_y)
        a = alpha_Rs / (Rs * (1.0 + _LN_HALF)) * _tnfw_g(xs, tau) / (xs * xs)
        return a * dx, a * dy

    def _convergence(self, x, y, Rs, alpha_Rs, r_trunc, center_x, center_y):
        _, _, xs, tau = self._scaled_t(x, y, Rs, r_trunc, center_x, center_y)
        return alpha_Rs / (2.0 * Rs * (1.0 + _LN_HALF)) * _tnfw_f(xs, tau)

    def _potential(self, x, y, Rs, alpha_Rs, r_trunc, center_x, center_y):
        _, _, xs, tau = self._scaled_t(x, y, Rs, r_trunc, center_x, center_y)
        return alpha_Rs * Rs / (2.0 * (1.0 + _LN_HALF)) * _tnfw_h(xs, tau)
