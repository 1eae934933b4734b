"""Analytic lens mass profiles with lenstronomy's names and keyword conventions."""

from lensml.physics.mass.axion import AxionVortex, AxionVortexLine
from lensml.physics.mass.base import MassProfile
from lensml.physics.mass.isothermal import SIE, SIS
from lensml.physics.mass.nfw import NFW, TNFW
from lensml.physics.mass.point_mass import PointMass
from lensml.physics.mass.shear import Shear

#: lenstronomy profile name -> profile class.
PROFILES: dict[str, type[MassProfile]] = {
    cls.name: cls for cls in (SIS, SIE, Shear, PointMass, NFW, TNFW, AxionVortex, AxionVortexLine)
}

__all__ = ["MassProfile", "PROFILES", "SIS", "SIE", "Shear", "PointMass", "NFW", "TNFW", "AxionVortex", "AxionVortexLine"]
