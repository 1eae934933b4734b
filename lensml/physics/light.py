"""Light profiles (lenstronomy ``LightModel``): elliptical Sersic and Gaussian.

Surface brightness is per arcsec^2 in the units of ``amp`` (lenstronomy's conventions).
"""

from __future__ import annotations

from keras import ops

from lensml.physics.composite import ProfileSum
from lensml.physics.mass.base import Profile, as_float32

# lenstronomy's SersicUtil smoothing: radii are floored at 1e-4 arcsec.
_SERSIC_SMOOTHING = 1e-4
# lenstronomy zeroes a Sersic beyond max_R_frac = 1000 Sersic radii.
_SERSIC_MAX_R_FRAC = 1000.0


class LightProfile(Profile):
    """Base of light profiles: lenstronomy's keywords (:class:`Profile`), one method."""

    def surface_brightness(self, x, y, **kwargs):
        """Surface brightness at (x, y) (arcsec); the broadcast shape of positions and parameters."""
        x, y = self._positions(x, y)
        return self._surface_brightness(x, y, **self.parse_kwargs(kwargs))

    def _surface_brightness(self, x, y, **p):
        raise NotImplementedError


class SersicEllipse(LightProfile):
    """lenstronomy ``SERSIC_ELLIPSE``: I = amp exp(-b_n ((R / R_sersic)^(1/n) - 1)).

    R is the product-averaged elliptical radius (lenstronomy's
    ``transform_e1e2_product_average``), b_n = 1.9992 n - 0.3271 (floored at 1e-5), radii
    floored at 1e-4 arcsec; beyond 1000 R_sersic lenstronomy's zero is the value at 1000 R_sersic
    here (below 1e-16 of the peak).

    Keywords: ``amp``, ``R_sersic`` (arcsec, > 0), ``n_sersic`` (> 0), ``e1``, ``e2``,
    ``center_x``, ``center_y`` (arcsec, default 0).

    Example:

    ```python
    import numpy as np
    from lensml.physics import SersicEllipse

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    flux = SersicEllipse().surface_brightness(x, y, amp=20.0, R_sersic=0.3, n_sersic=1.5, e1=0.1, e2=0.0)
    ```
    """

    name = "SERSIC_ELLIPSE"
    required = ("amp", "R_sersic", "n_sersic", "e1", "e2")
    optional = {"center_x": 0.0, "center_y": 0.0}
    nonnegative = ("R_sersic",)
    positive = ("n_sersic",)

    def _surface_brightness(self, x, y, amp, R_sersic, n_sersic, e1, e2, center_x, center_y):
        # Written for speed (the simulators' hot loop). Per-image constants first, so the
        # per-pixel work is multiplies and adds: the ellipse's normalisation and 1 / R_s are
        # folded into the quadratic form's coefficients, and (R / R_s)^(1/n) is
        # exp(log((R / R_s)^2) / (2n)), no per-pixel sqrt, divide or power. (R / R_s)^2 has a
        # single consumer: a second one (e.g. a where() for the 1000 R_s cut) made XLA recompute
        # the whole ray-tracing chain behind it per use (25 point masses: 20x slower;
        # benchmarks/results/simulation_speed.md). So the cut is a clamp of R at 1000 R_s, where
        # lenstronomy gives 0 and this keeps the value there, < exp(-b_n 1000^(1/n)) of the
        # peak (below 1e-16 for every n up to 10).
        r_sersic = ops.maximum(R_sersic, _SERSIC_SMOOTHING)
        scale = 1.0 / (ops.sqrt(ops.maximum(ops.abs(1.0 - e1 * e1 - e2 * e2), 1e-6)) * r_sersic)
        a, b, c = (1.0 - e1) * scale, e2 * scale, (1.0 + e1) * scale
        dx, dy = x - center_x, y - center_y
        xe, ye = a * dx - b * dy, c * dy - b * dx
        # lenstronomy's radius floor (1e-4 arcsec) and the 1000 R_s clamp
        ratio2 = ops.clip(xe * xe + ye * ye, (_SERSIC_SMOOTHING / r_sersic) ** 2, _SERSIC_MAX_R_FRAC**2)
        bn = ops.maximum(1.9992 * n_sersic - 0.3271, 1e-5)
        powered = ops.exp((0.5 / n_sersic) * ops.log(ratio2))
        return amp * ops.exp(bn - bn * powered)


class Gaussian(LightProfile):
    """lenstronomy ``GAUSSIAN``: I = amp / (2 pi sigma^2) exp(-r^2 / (2 sigma^2)); amp is the total flux.

    Keywords: ``amp``, ``sigma`` (arcsec, > 0), ``center_x``, ``center_y`` (arcsec, default 0).

    Example:

    ```python
    import numpy as np
    from lensml.physics import Gaussian

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    flux = Gaussian().surface_brightness(x, y, amp=1.0, sigma=0.2, center_x=0.3)
    ```
    """

    name = "GAUSSIAN"
    required = ("amp", "sigma")
    optional = {"center_x": 0.0, "center_y": 0.0}
    positive = ("sigma",)

    def _surface_brightness(self, x, y, amp, sigma, center_x, center_y):
        dx, dy = x - center_x, y - center_y
        inv = 1.0 / (sigma * sigma)
        return amp * inv / (2.0 * 3.141592653589793) * ops.exp(-0.5 * (dx * dx + dy * dy) * inv)


#: lenstronomy light profile name -> class.
LIGHT_PROFILES: dict[str, type[LightProfile]] = {
    cls.name: cls for cls in (SersicEllipse, Gaussian)
}


class LightModel(ProfileSum):
    """A sum of light profiles with lenstronomy's API.

    Args:
        profile_names: e.g. ``["SERSIC_ELLIPSE"]``; available: ``LIGHT_PROFILES``.

    ``surface_brightness(x, y, kwargs_list)`` takes positions in arcsec (float32, any
    broadcastable shape) and one dict of parameters per profile (floats or tensors that
    broadcast against x, e.g. center_x of shape (B, 1, 1) for a batch of sources).

    Example:

    ```python
    import numpy as np
    from lensml.physics import LightModel

    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 64), np.linspace(-2.5, 2.5, 64))  # arcsec
    light = LightModel(["SERSIC_ELLIPSE", "GAUSSIAN"])
    flux = light.surface_brightness(x, y, [
        dict(amp=20.0, R_sersic=0.3, n_sersic=1.5, e1=0.1, e2=0.0, center_x=0.1),
        dict(amp=1.0, sigma=0.2)])
    ```
    """

    registry = LIGHT_PROFILES
    kind = "light"

    def surface_brightness(self, x, y, kwargs_list):
        """Total surface brightness at (x, y)."""
        total = None
        for profile, kwargs in self._pairs(kwargs_list):
            value = profile.surface_brightness(x, y, **kwargs)
            total = value if total is None else total + value
        if total is None:
            return 0.0 * as_float32(x) * as_float32(y)
        return total

