"""Cosmology of a family: flat LambdaCDM distances and the lensing quantities built on them.

One module for what the redshifts and the cosmology decide (as caustics keeps its cosmology apart
from its lenses): the point-mass Einstein radius, the deflection scale between two source
redshifts, angular-diameter distances, the critical surface density and NFW angles. Distances come
from astropy (``FlatLambdaCDM``), NFW angles from lenstronomy's ``LensCosmo``; every quantity is
computed once per cosmology (cached) so sampling lenses never calls astropy.

Example:

```python
from lensml.simulation.cosmology import Cosmology

cosmo = Cosmology(z_lens=0.5, z_source=1.0)
cosmo.einstein_radius(1e12)        # ~1.66 arcsec
cosmo.critical_surface_density()   # Msun per arcsec^2 at the lens
```
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from lensml.simulation._validate import _check_positive


@dataclass(frozen=True)
class Cosmology:
    """Flat LambdaCDM and the lens/source redshifts.

    ``distances="angular"`` (default) uses angular-diameter distances in the point-mass
    Einstein radius (1e12 Msun -> ~1.66"); ``"luminosity"`` reproduces the public DeepLense
    simulator's quirk (luminosity distances, D_LS = D_S - D_L; 1e12 Msun -> ~1.28").
    """

    H0: float = 70.0
    Om0: float = 0.3
    z_lens: float = 0.5
    z_source: float = 1.0
    distances: str = "angular"
    z_source_convention: float | None = None

    def __post_init__(self):
        for name in ("H0", "Om0", "z_lens", "z_source"):
            _check_positive("Cosmology", name, getattr(self, name))
        if self.z_source_convention is not None:
            _check_positive("Cosmology", "z_source_convention", self.z_source_convention)
            if self.z_source_convention <= self.z_lens:
                raise ValueError(
                    f"Cosmology.z_source_convention must exceed z_lens, got {self.z_source_convention}"
                )
        if self.z_source <= self.z_lens:
            raise ValueError(
                f"Cosmology.z_source must exceed z_lens, got z_lens={self.z_lens}, z_source={self.z_source}"
            )
        if self.distances not in ("angular", "luminosity"):
            raise ValueError(
                f"Cosmology.distances must be 'angular' or 'luminosity', got {self.distances!r}"
            )

    def einstein_radius(self, mass):
        """Einstein radius (arcsec) of a point mass ``mass`` (Msun, float or array)."""
        import numpy as np

        return _einstein_radius_per_sqrt_msun(
            self.H0, self.Om0, self.z_lens, self.z_source, self.distances
        ) * np.sqrt(mass)

    @property
    def deflection_scale(self) -> float:
        """Factor on every deflection for the source at ``z_source`` when lens parameters are
        quoted for a source at ``z_source_convention`` (1 when that is None): lenstronomy's
        ``beta_double_source_plane(z_lens, z_source, z_source_convention)``, the ratio of
        D_LS / D_S at the two source redshifts (angular-diameter distances). The public
        simulator's Models II/III pass ``z_source_convention=2.5`` with the source at z=1, so
        its deflections are 0.634 of what its Einstein radii say."""
        if self.z_source_convention is None or self.z_source_convention == self.z_source:
            return 1.0
        return _deflection_scale(self.H0, self.Om0, self.z_lens, self.z_source, self.z_source_convention)

    def angular_diameter_distance(self, z1: float, z2: float | None = None) -> float:
        """Angular-diameter distance (Mpc) to ``z1``, or from ``z1`` to ``z2`` (flat LambdaCDM, astropy)."""
        return _angular_diameter_distance(self.H0, self.Om0, float(z1), None if z2 is None else float(z2))

    def critical_surface_density(self) -> float:
        """Critical surface density Sigma_crit = c^2 D_S / (4 pi G D_L D_LS) of the lens and source
        planes, in Msun per arcsec^2 at the lens (a convergence kappa is kappa * Sigma_crit of mass
        per arcsec^2; angular-diameter distances)."""
        return _critical_surface_density(self.H0, self.Om0, self.z_lens, self.z_source)

    def nfw_angles(self, mass, concentration):
        """(Rs, alpha_Rs) in arcsec of NFW halos of M200 ``mass`` (Msun, array) and ``concentration``
        at the lens (lenstronomy's ``LensCosmo.nfw_physical2angle``)."""
        return nfw_angles(self.H0, self.Om0, self.z_lens, self.z_source, mass, concentration)


@functools.lru_cache(maxsize=None)
def _deflection_scale(H0, Om0, z_lens, z_source, z_convention) -> float:
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=H0, Om0=Om0)

    def ratio(z):
        return _between(cosmo, z_lens, z) / cosmo.angular_diameter_distance(z)

    return float(ratio(z_source) / ratio(z_convention))


@functools.lru_cache(maxsize=None)
def _einstein_radius_per_sqrt_msun(H0, Om0, z_lens, z_source, distances) -> float:
    # theta_E = sqrt(4 G M / c^2 * D_LS / (D_L D_S)) is proportional to sqrt(M): compute the
    # constant once per cosmology so sampling never touches astropy.
    from astropy import constants, units
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=H0, Om0=Om0)
    if distances == "angular":
        d_l = cosmo.angular_diameter_distance(z_lens)
        d_s = cosmo.angular_diameter_distance(z_source)
        d_ls = cosmo.angular_diameter_distance(z_lens, z_source)
    else:
        d_l = cosmo.luminosity_distance(z_lens)
        d_s = cosmo.luminosity_distance(z_source)
        d_ls = d_s - d_l
    theta = (4 * constants.G * constants.M_sun / constants.c**2 * d_ls / (d_l * d_s)) ** 0.5
    return float(theta.to(units.dimensionless_unscaled).value * 180.0 / math.pi * 3600.0)


def _between(cosmo, z1, z2):
    try:  # astropy >= 7: the two-redshift form (angular_diameter_distance_z1z2 is deprecated)
        return cosmo.angular_diameter_distance(z1, z2)
    except TypeError:  # older astropy: one redshift only
        return cosmo.angular_diameter_distance_z1z2(z1, z2)


@functools.lru_cache(maxsize=None)
def _angular_diameter_distance(H0, Om0, z1, z2) -> float:
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=H0, Om0=Om0)
    d = cosmo.angular_diameter_distance(z1) if z2 is None else _between(cosmo, z1, z2)
    return float(d.to("Mpc").value)


@functools.lru_cache(maxsize=None)
def _critical_surface_density(H0, Om0, z_lens, z_source) -> float:
    from astropy import constants, units
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=H0, Om0=Om0)
    d_l = cosmo.angular_diameter_distance(z_lens)
    sigma = constants.c**2 * cosmo.angular_diameter_distance(z_source) / (
        4 * math.pi * constants.G * d_l * _between(cosmo, z_lens, z_source))
    per_arcsec2 = (d_l * (math.pi / 180.0 / 3600.0)) ** 2  # the area one arcsec^2 spans at the lens
    return float((sigma * per_arcsec2).to(units.Msun).value)


@functools.lru_cache(maxsize=None)
def _lens_cosmo(H0, Om0, z_lens, z_source):
    from astropy.cosmology import FlatLambdaCDM
    from lenstronomy.Cosmo.lens_cosmo import LensCosmo

    return LensCosmo(z_lens=z_lens, z_source=z_source, cosmo=FlatLambdaCDM(H0=H0, Om0=Om0))


def nfw_angles(H0, Om0, z_lens, z_source, mass, concentration):
    """(Rs, alpha_Rs) in arcsec of NFW halos of M200 ``mass`` (Msun, array) and concentration."""
    import numpy as np

    rs, alpha_rs = _lens_cosmo(float(H0), float(Om0), float(z_lens), float(z_source)).nfw_physical2angle(
        np.asarray(mass, np.float64), float(concentration))
    return np.asarray(rs, np.float64), np.asarray(alpha_rs, np.float64)
