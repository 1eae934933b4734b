"""The substructure of a family's classes, as lenstronomy profiles: what both simulators render.

A family (``lensml.simulation.families``) fixes the main lens (SIE + SHEAR), the source and,
for each class, a *substructure sampler*. A sampler draws its parameters for a batch of
lenses and names them as lenstronomy profiles: ``count`` components of one profile
(``profile``, e.g. "POINT_MASS" or "TNFW"), whose keywords (``keys``: lenstronomy keyword ->
parameter key, ``key_map`` as pairs) are ``(B, count)`` arrays. The lenstronomy reference renders
``LensModel(["SIE", "SHEAR"] + [profile] * count)`` (``ReferenceSimulator.lens_profiles``); the
batched simulator sums ``lensml.physics.PROFILES[profile]`` over the same components (point masses
on a line through the centre, a batch that carries ``vortex_angle`` as ``VortexPoints`` draws it,
it evaluates in that line's frame).

Adding a class, or a family with other classes, is a sampler here and a
``Family(substructure=...)`` entry in ``FAMILIES``: nothing else in lensml names classes. A class
that carries its own target (the axion mass) lists it in ``targets`` (``lensml.simulation.targets``). Draw order inside a sampler is
part of the dataset (the same seed gives the same lenses): change it only with a new version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Parameter keys of point-mass components: (lenstronomy keyword, key) pairs.
POINT_MASS_KEYS = (("theta_E", "sub_theta_E"), ("center_x", "sub_x"), ("center_y", "sub_y"))


@dataclass(frozen=True)
class Substructure:
    """A class's substructure sampler (see the module docstring). Subclasses set ``profile``,
    ``keys`` and implement ``draw``."""

    name: str
    profile: str = "POINT_MASS"
    key_map: tuple = POINT_MASS_KEYS  # (lenstronomy keyword, parameter key) pairs: hashable
    #: The class-specific targets (``lensml.simulation.targets``) that ``draw`` returns per lens.
    targets = ()

    @property
    def keys(self) -> dict:
        """lenstronomy keyword -> parameter key of the components."""
        return dict(self.key_map)

    def count(self) -> int:
        """Components per lens (a static shape of the batched simulator)."""
        return 0

    def draw(self, family, rng: np.random.Generator, batch: int) -> dict:
        """``{key: (B, count) array, ...}`` plus any per-lens values of the class
        (e.g. ``log10_axion_mass``), drawn from ``rng`` in a fixed order."""
        empty = np.zeros((batch, 0))
        return {key: empty for key in self.keys.values()}


@dataclass(frozen=True)
class NoSubstructure(Substructure):
    """No substructure: the main lens alone (empty point-mass arrays keep the keys of the others)."""

    name: str = "no_sub"


@dataclass(frozen=True)
class PointMassSubhalos(Substructure):
    """'Old CDM' subhalos as point masses (``families.CDMSubhalos``): masses from
    p(m) ~ m^beta, radius U(radius_range), angle U(0, 2 pi); x = r sin(phi), y = r cos(phi)."""

    name: str = "cdm"
    config: object = None

    def count(self) -> int:
        return self.config.count

    def draw(self, family, rng, batch):
        c = self.config
        masses, x, y = sample_subhalos(rng, (batch, c.count), c.mass_range, c.beta, c.radius_range)
        return {"sub_theta_E": family.point_mass_einstein_radius(masses), "sub_x": x, "sub_y": y}


@dataclass(frozen=True)
class VortexPoints(Substructure):
    """An axion vortex (``families.AxionVortex``): ``count`` equal point masses evenly spaced on
    a line through the lens centre at a random angle, its half-length set by the axion mass
    log10(m_a / eV) ~ U(log10_mass_range) (also drawn: ``log10_axion_mass``, ``vortex_angle``)."""

    name: str = "axion"
    config: object = None
    targets = ("log10_axion_mass",)

    def count(self) -> int:
        return self.config.count

    def draw(self, family, rng, batch):
        v = self.config
        log10_m = rng.uniform(*v.log10_mass_range, size=batch)
        angle = rng.uniform(0.0, 2.0 * np.pi, size=batch)
        t = np.linspace(-1.0, 1.0, v.count)[None, :] * v.half_length(log10_m)[:, None]
        theta_sub = float(family.point_mass_einstein_radius(v.total_mass / v.count))
        return {"sub_theta_E": np.full((batch, v.count), theta_sub), "sub_x": t * np.cos(angle)[:, None],
                "sub_y": t * np.sin(angle)[:, None], "log10_axion_mass": log10_m, "vortex_angle": angle}


@dataclass(frozen=True)
class TNFWSubhalos(Substructure):
    """CDM subhalos as truncated NFW halos (lenstronomy ``TNFW``, a DeepLense Model IV-like
    substructure): masses M200 from p(m) ~ m^beta on ``mass_range`` (Msun), concentration
    ``concentration``, truncation radius ``truncation`` x Rs; positions as ``PointMassSubhalos``.
    Rs and alpha_Rs (arcsec) from lenstronomy's ``LensCosmo.nfw_physical2angle`` at the
    family's lens and source redshifts (angular-diameter distances)."""

    name: str = "cdm"
    profile: str = "TNFW"
    key_map: tuple = (("Rs", "sub_Rs"), ("alpha_Rs", "sub_alpha_Rs"), ("r_trunc", "sub_r_trunc"),
                      ("center_x", "sub_x"), ("center_y", "sub_y"))
    count_: int = 25
    mass_range: tuple = (1e6, 1e10)
    beta: float = -0.9
    radius_range: tuple = (0.25, 2.0)
    concentration: float = 15.0
    truncation: float = 5.0

    def __post_init__(self):
        if not isinstance(self.count_, int) or self.count_ < 0:
            raise ValueError(f"TNFWSubhalos.count_ must be a non-negative int, got {self.count_!r}")
        if not (0 < self.mass_range[0] <= self.mass_range[1]):
            raise ValueError(f"TNFWSubhalos.mass_range must be a positive (low, high) pair, got {self.mass_range}")
        if not (self.concentration > 0 and self.truncation > 0):
            raise ValueError("TNFWSubhalos.concentration and truncation must be positive")

    def count(self) -> int:
        return self.count_

    def draw(self, family, rng, batch):
        masses, x, y = sample_subhalos(rng, (batch, self.count_), self.mass_range, self.beta, self.radius_range)
        cosmo = family.cosmology
        rs, alpha_rs = cosmo.nfw_angles(masses, self.concentration)
        return {"sub_Rs": rs, "sub_alpha_Rs": alpha_rs, "sub_r_trunc": self.truncation * rs, "sub_x": x, "sub_y": y}


@dataclass(frozen=True)
class PyLensingPointMasses(Substructure):
    """The substructure of the public PyLensing scripts (the D4LensPINN paper's data):
    ``count_`` point masses of M ~ U(mass_range) Msun each, with the family's point-mass Einstein
    radius (PyLensing's ``ER``: luminosity distances, ``Cosmology(distances="luminosity")``).
    The scripts draw one set of masses for a whole dataset; here each lens draws its own.
    Subclasses place them within ``size`` arcsec (a disk's radius, a line's length)."""

    count_: int = 25
    mass_range: tuple = (0.8e10, 1.2e10)
    size: float = 1.0

    def __post_init__(self):
        owner = type(self).__name__
        if not isinstance(self.count_, int) or self.count_ < 1:
            raise ValueError(f"{owner}.count_ must be a positive int, got {self.count_!r}")
        if not (0 < self.mass_range[0] <= self.mass_range[1]) or not self.size > 0:
            raise ValueError(f"{owner}: mass_range must be a positive (low, high) pair and size positive, "
                             f"got {self.mass_range}, {self.size}")

    def count(self) -> int:
        return self.count_

    def theta_E(self, family, rng, shape) -> np.ndarray:
        """The point masses' Einstein radii (arcsec), an array of ``shape``, drawn from ``rng``."""
        return family.point_mass_einstein_radius(rng.uniform(*self.mass_range, size=shape))


@dataclass(frozen=True)
class DiskPointMasses(PyLensingPointMasses):
    """PyLensing's "spherical" substructure (the D4LensPINN paper's ``sphere``): its point masses
    at radius U(0, size) arcsec and angle U(0, 2 pi) around the lens centre,
    x = r cos(phi), y = r sin(phi). (PyLensing pairs a few radii with a few angles; here each
    mass draws its own.)"""

    name: str = "sphere"

    def draw(self, family, rng, batch):
        shape = (batch, self.count_)
        radius = rng.uniform(0.0, self.size, size=shape)
        phi = rng.uniform(0.0, 2.0 * np.pi, size=shape)
        theta = self.theta_E(family, rng, shape)
        return {"sub_theta_E": theta, "sub_x": radius * np.cos(phi), "sub_y": radius * np.sin(phi)}


@dataclass(frozen=True)
class LinePointMasses(PyLensingPointMasses):
    """PyLensing's vortex (the D4LensPINN paper's ``vort``): the point masses on a line of
    ``size`` arcsec through the lens centre at an angle U(0, 2 pi), at
    t_j = -size / 2 + j size / count_ (j = 0 .. count_ - 1, PyLensing's spacing). Also drawn:
    ``vortex_angle`` (the batched simulator sums the line in its frame)."""

    name: str = "vort"

    def draw(self, family, rng, batch):
        angle = rng.uniform(0.0, 2.0 * np.pi, size=batch)
        t = (-0.5 + np.arange(self.count_) / self.count_)[None, :] * self.size * np.ones((batch, 1))
        return {"sub_theta_E": self.theta_E(family, rng, t.shape), "sub_x": t * np.cos(angle)[:, None],
                "sub_y": t * np.sin(angle)[:, None], "vortex_angle": angle}


def sample_power_law(rng: np.random.Generator, shape, mass_range, beta) -> np.ndarray:
    """Masses (Msun) from p(m) ~ m^beta on ``mass_range`` by inverse CDF (beta != -1)."""
    lo, hi = mass_range[0] ** (beta + 1.0), mass_range[1] ** (beta + 1.0)
    u = rng.uniform(0.0, 1.0, size=shape)
    return (lo + (hi - lo) * u) ** (1.0 / (beta + 1.0))


def sample_subhalos(rng: np.random.Generator, shape, mass_range, beta, radius_range):
    """(masses Msun, x, y arcsec) of subhalos: masses from p(m) ~ m^beta, then radius
    U(radius_range) and angle U(0, 2 pi), x = r sin(phi), y = r cos(phi) (the public simulator's
    convention), drawn in that order."""
    masses = sample_power_law(rng, shape, mass_range, beta)
    radius = rng.uniform(*radius_range, size=shape)
    phi = rng.uniform(0.0, 2.0 * np.pi, size=shape)
    return masses, radius * np.sin(phi), radius * np.cos(phi)


def component_profile(family, params_or_keys) -> tuple[str, dict]:
    """``(profile, keys)`` of the substructure components of a parameter batch (or of its keys):
    the lenstronomy profile and keyword -> key map of the ``family`` class with those ``sub_*``
    keys (classes with the same keys have the same profile: ``check_classes``)."""
    keys = {k for k in params_or_keys if str(k).startswith("sub_")}
    for sampler in family.classes:
        if set(sampler.keys.values()) == keys:
            return sampler.profile, dict(sampler.keys)
    raise ValueError(f"family {family.name!r}: no class has the substructure keys {sorted(keys)}")


def check_classes(classes) -> tuple:
    """``classes`` as a tuple of at least two samplers with distinct names, where samplers with
    the same parameter keys share one profile; else ValueError."""
    classes = tuple(classes)
    if len(classes) < 2 or not all(isinstance(c, Substructure) for c in classes):
        raise ValueError(f"Family.classes must hold at least two Substructure samplers, got {classes!r}")
    names = [c.name for c in classes]
    if len(set(names)) != len(names):
        raise ValueError(f"Family.classes: class names must differ, got {names}")
    by_keys = {}
    for c in classes:
        profile = by_keys.setdefault(frozenset(c.keys.values()), c.profile)
        if profile != c.profile:
            raise ValueError(f"Family.classes: {c.name!r} uses the parameter keys of a {profile} class for "
                             f"{c.profile}; give its components their own keys")
    return classes
