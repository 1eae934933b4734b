"""Dataset families: frozen, documented configurations of the DeepLense-style simulations.

A family fixes everything except the random draws: the instrument (grid, PSF, noise), the
cosmology, the macro-lens, the source and the priors of the substructure of each class.
``FAMILIES`` holds Model I, II and III as in the public DeepLense simulator
(mwt5345/DeepLenseSim) with its two known defects fixed (images are model + noise; the HST
instrument of Model III exists), and their published-compatible variants ``*_published``
(the data as that simulator wrote them: ``image_recipe``, luminosity-distance Einstein radii,
``z_source_convention``), ``model_ii_tnfw`` (truncated-NFW subhalos) and the seed papers' own
data (``PAPER_FAMILIES``: the D4LensPINN paper's no / sphere / vort after PyLensing's recipe,
with a random shear, lens light and a randomised source; Lens-JEPA's Model A and Model B). A
user defines a new family without editing lensml, e.g.::

    fam = get_family("model_ii").replace(name="model_ii_deep",
                                         noise=dataclasses.replace(get_family("model_ii").noise,
                                                                   num_exposures=16))

Angles are in arcseconds, masses in solar masses, times in seconds.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from lensml.physics.constants import FWHM_TO_SIGMA
from lensml.simulation._validate import _check_positive, _check_range
from lensml.simulation.cosmology import Cosmology

#: The classes of the DeepLense families (Models I-III), in label order; a family may have others
#: (``Family.substructure``, ``Family.class_names``).
CLASS_NAMES: tuple[str, ...] = ("no_sub", "cdm", "axion")

#: How a family turns the noise-free model (counts/s per pixel) into the stored image:
#: "model+noise" (realistic: model plus one draw of the instrument noise), "twice_model" (the
#: public simulator's Models II/III as published: model + model, no noise) and
#: "poisson_counts" (the public Model I: Poisson(max(T (model + noise), 0)) counts, T the
#: exposure time). See lensml.simulation.noise.observe.
IMAGE_RECIPES: tuple[str, ...] = ("model+noise", "twice_model", "poisson_counts")


@dataclass(frozen=True)
class BackgroundNoise:
    """Model I noise: Poisson noise of the model at a random exposure time plus Gaussian
    background of rms ``background_rms`` (flux units per pixel). Exposure time
    ``10 ** U(log10_exposure_time)`` s, drawn per image."""

    background_rms: float = 0.01
    log10_exposure_time: tuple[float, float] = (3.0, 3.5)
    kind: str = field(default="background", init=False)

    def __post_init__(self):
        _check_positive("BackgroundNoise", "background_rms", self.background_rms, allow_zero=True)
        _check_range("BackgroundNoise", "log10_exposure_time", self.log10_exposure_time)

    def background_sigma(self, pixel_scale: float) -> float:
        """Gaussian background rms per pixel (image units)."""
        return float(self.background_rms)


@dataclass(frozen=True)
class InstrumentNoise:
    """lenstronomy-style instrument noise (SimulationAPI SingleBand, counts in e-/s):
    Gaussian background from read noise and sky, plus the Gaussian approximation of the
    source's Poisson noise at the total exposure ``exposure_time * num_exposures``.

    ``sky_brightness`` in mag/arcsec^2, ``magnitude_zero_point`` the magnitude of 1 e-/s,
    ``read_noise`` in e- per exposure, ``ccd_gain`` in e-/ADU (kept for completeness: counts
    are in e-, as lenstronomy's default ``data_count_unit``)."""

    exposure_time: float
    num_exposures: int
    sky_brightness: float
    magnitude_zero_point: float
    read_noise: float
    ccd_gain: float
    kind: str = field(default="instrument", init=False)

    def __post_init__(self):
        for name in ("exposure_time", "num_exposures", "ccd_gain"):
            _check_positive("InstrumentNoise", name, getattr(self, name))
        _check_positive("InstrumentNoise", "read_noise", self.read_noise, allow_zero=True)

    @property
    def total_exposure_time(self) -> float:
        return float(self.exposure_time * self.num_exposures)

    def magnitude_to_cps(self, magnitude: float) -> float:
        """Counts (e-) per second of a source of ``magnitude``."""
        from lensml.physics.photometry import magnitude_to_cps

        return magnitude_to_cps(magnitude, self.magnitude_zero_point)

    def background_sigma(self, pixel_scale: float) -> float:
        """Gaussian background rms per pixel (e-/s), as lenstronomy's ``bkg_noise``
        (``lensml.physics.background_noise_rms``)."""
        from lensml.physics.photometry import background_noise_rms

        return background_noise_rms(pixel_scale=pixel_scale, exposure_time=self.exposure_time,
                                    sky_brightness=self.sky_brightness, magnitude_zero_point=self.magnitude_zero_point,
                                    read_noise=self.read_noise, num_exposures=self.num_exposures)


@dataclass(frozen=True)
class Instrument:
    """Detector grid and PSF. ``num_pix`` x ``num_pix`` pixels of ``pixel_scale`` arcsec;
    Gaussian PSF of FWHM ``psf_fwhm`` arcsec truncated at ``psf_truncation`` sigma
    (lenstronomy's GAUSSIAN PSF, convolved with a 'nearest' border)."""

    name: str
    num_pix: int
    pixel_scale: float
    psf_fwhm: float
    psf_truncation: float = 5.0

    def __post_init__(self):
        if not isinstance(self.num_pix, int) or isinstance(self.num_pix, bool):
            raise TypeError(f"Instrument.num_pix must be an int, got {self.num_pix!r}")
        if self.num_pix <= 0:
            raise ValueError(f"Instrument.num_pix must be positive, got {self.num_pix}")
        _check_positive("Instrument", "pixel_scale", self.pixel_scale)
        _check_positive("Instrument", "psf_fwhm", self.psf_fwhm, allow_zero=True)
        _check_positive("Instrument", "psf_truncation", self.psf_truncation)
        radius = self.psf_radius_pixels
        if 2 * radius + 1 > self.num_pix:
            raise ValueError(
                f"Instrument {self.name!r}: num_pix={self.num_pix} is too small for its PSF "
                f"(FWHM {self.psf_fwhm}\" truncated at {self.psf_truncation} sigma needs a "
                f"{2 * radius + 1}-pixel kernel at pixel_scale {self.pixel_scale}\")"
            )

    @property
    def psf_sigma_pixels(self) -> float:
        """PSF Gaussian sigma in pixels."""
        return self.psf_fwhm * FWHM_TO_SIGMA / self.pixel_scale

    @property
    def psf_radius_pixels(self) -> int:
        """Kernel radius (pixels) of the truncated Gaussian, scipy.ndimage's rule."""
        return int(self.psf_truncation * self.psf_sigma_pixels + 0.5)

    @property
    def field_of_view(self) -> float:
        return self.num_pix * self.pixel_scale

    def rescaled(self, factor: int) -> "Instrument":
        """The same field of view with ``num_pix / factor`` pixels (``factor`` > 1: coarser)."""
        if not isinstance(factor, int) or factor <= 0 or self.num_pix % factor:
            raise ValueError(
                f"factor must be a positive int dividing num_pix={self.num_pix}, got {factor!r}"
            )
        return dataclasses.replace(
            self, name=f"{self.name}_x{factor}", num_pix=self.num_pix // factor,
            pixel_scale=self.pixel_scale * factor,
        )


@dataclass(frozen=True)
class MacroLens:
    """Main deflector: SIE of the point-mass Einstein radius of ``halo_mass`` (Msun) with
    ellipticity (e1, e2), centred, plus external shear (gamma1, gamma2). Not randomised,
    except where said:

    - ``theta_E`` (arcsec): the Einstein radius given directly (for the source at the family's
      ``z_source``), instead of the one of ``halo_mass`` (PyLensing's SIS of 1.2").
    - ``shear_range``: a random external shear per lens, magnitude U(shear_range) at a position
      angle U(0, 2 pi) (gamma1 = g cos 2phi, gamma2 = g sin 2phi), instead of (gamma1, gamma2).
    """

    halo_mass: float = 1e12
    e1: float = 0.1
    e2: float = 0.0
    gamma1: float = 0.05
    gamma2: float = 0.0
    theta_E: float | None = None
    shear_range: tuple[float, float] | None = None

    def __post_init__(self):
        _check_positive("MacroLens", "halo_mass", self.halo_mass)
        if self.theta_E is not None:
            _check_positive("MacroLens", "theta_E", self.theta_E)
        if self.shear_range is not None:
            _check_range("MacroLens", "shear_range", self.shear_range)
            if self.shear_range[0] < 0:
                raise ValueError(f"MacroLens.shear_range must be non-negative, got {self.shear_range}")


def ellipticity(q, phi):
    """lenstronomy's (e1, e2) of axis ratio ``q`` and position angle ``phi`` (radians):
    e = (1 - q) / (1 + q), e1 = e cos 2phi, e2 = e sin 2phi (arrays or floats)."""
    import numpy as np

    e = (1.0 - np.asarray(q)) / (1.0 + np.asarray(q))
    return e * np.cos(2.0 * np.asarray(phi)), e * np.sin(2.0 * np.asarray(phi))


def _check_axis_ratios(owner: str, q_range) -> None:
    if q_range is not None:
        _check_range(owner, "q_range", q_range)
        if not 0 < q_range[0] <= q_range[1] <= 1:
            raise ValueError(f"{owner}.q_range must lie in (0, 1], got {q_range}")


@dataclass(frozen=True)
class LensLight:
    """Light of the lens galaxy: an elliptical Sersic at the lens centre, not lensed, added to
    the lensed source before the PSF. ``amp`` is lenstronomy's amplitude at ``r_sersic``
    (image units per arcsec^2); the axis ratio is U(q_range) at a position angle U(0, 2 pi).
    ``r_sersic`` is the semi-major axis (PyAutoLens' effective radius), turned into
    lenstronomy's area-keeping radius r_sersic sqrt(q) for each lens."""

    amp: float
    r_sersic: float = 0.5
    n_sersic: float = 2.5
    q_range: tuple[float, float] = (0.5, 1.0)

    def __post_init__(self):
        for name in ("amp", "r_sersic", "n_sersic"):
            _check_positive("LensLight", name, getattr(self, name))
        _check_axis_ratios("LensLight", self.q_range)


@dataclass(frozen=True)
class Source:
    """Elliptical Sersic source. Brightness either ``amp`` (lenstronomy amplitude at
    R_sersic, Model I) or ``magnitude`` (Models II/III, converted with the instrument's zero
    point). Centre uniform in [-center_range, center_range]^2 arcsec.

    Drawn per lens where set (PyLensing's recipe): ``center_radius``, the centre at radius
    U(0, center_radius) and angle U(0, 2 pi) instead of the square; ``q_range``, the axis ratio
    U(q_range) at a position angle U(0, 2 pi), ``r_sersic`` then being the semi-major axis;
    ``amp_range``, the amplitude U(amp_range) instead of ``amp``."""

    r_sersic: float = 0.25
    n_sersic: float = 1.0
    e1: float = -0.1
    e2: float = 0.1
    amp: float | None = 20.0
    magnitude: float | None = None
    center_range: float = 0.35
    center_radius: float | None = None
    q_range: tuple[float, float] | None = None
    amp_range: tuple[float, float] | None = None

    def __post_init__(self):
        _check_positive("Source", "r_sersic", self.r_sersic)
        _check_positive("Source", "n_sersic", self.n_sersic)
        _check_positive("Source", "center_range", self.center_range, allow_zero=True)
        if (self.amp is None) == (self.magnitude is None) and self.amp_range is None:
            raise ValueError(
                f"Source needs exactly one of amp and magnitude, got amp={self.amp}, magnitude={self.magnitude}"
            )
        if self.amp_range is not None:
            _check_range("Source", "amp_range", self.amp_range)
            if self.amp is not None or self.magnitude is not None:
                raise ValueError("Source.amp_range replaces amp and magnitude: give amp=None, magnitude=None")
        if self.center_radius is not None:
            _check_positive("Source", "center_radius", self.center_radius, allow_zero=True)
        _check_axis_ratios("Source", self.q_range)

    @property
    def random_shape(self) -> bool:
        """Whether the axis ratio and angle are drawn per lens (``q_range``): then ``r_sersic``
        is the semi-major axis, as ``LensLight``'s, and (e1, e2) are not used."""
        return self.q_range is not None

    def unit_amp_flux(self) -> float:
        """Total flux of the profile with amp = 1 (lenstronomy's SERSIC_ELLIPSE: the
        elliptical radius keeps the area, so it is the circular total)."""
        n = self.n_sersic
        b = max(1.9992 * n - 0.3271, 1e-5)
        return 2.0 * math.pi * n * self.r_sersic**2 * math.exp(b) * b ** (-2.0 * n) * math.gamma(2.0 * n)


@dataclass(frozen=True)
class CDMSubhalos:
    """'Old CDM' substructure: ``count`` point masses, masses from p(m) ~ m^beta on
    ``mass_range`` (Msun), radius U(radius_range) arcsec, angle U(0, 2 pi)."""

    count: int = 25
    mass_range: tuple[float, float] = (1e6, 1e10)
    beta: float = -0.9
    radius_range: tuple[float, float] = (0.25, 2.0)

    def __post_init__(self):
        if not isinstance(self.count, int) or self.count < 0:
            raise ValueError(f"CDMSubhalos.count must be a non-negative int, got {self.count!r}")
        _check_range("CDMSubhalos", "mass_range", self.mass_range)
        _check_range("CDMSubhalos", "radius_range", self.radius_range)
        if self.mass_range[0] <= 0:
            raise ValueError(f"CDMSubhalos.mass_range must be positive, got {self.mass_range}")
        if self.beta == -1.0:
            raise ValueError("CDMSubhalos.beta = -1 is not supported (inverse CDF is logarithmic)")


@dataclass(frozen=True)
class AxionVortex:
    """Axion vortex: ``total_mass`` (Msun) in ``count`` equal point masses evenly spaced on
    a straight line through the lens centre at a random angle, from -L to +L with
    L = ``length_at_1e-22`` * (1e-22 eV / m_a) arcsec; log10(m_a / eV) ~ U(log10_mass_range)."""

    total_mass: float = 3e10
    count: int = 100
    log10_mass_range: tuple[float, float] = (-24.0, -22.0)
    half_length_at_1e22: float = 0.03

    def __post_init__(self):
        _check_positive("AxionVortex", "total_mass", self.total_mass)
        if not isinstance(self.count, int) or self.count < 1:
            raise ValueError(f"AxionVortex.count must be a positive int, got {self.count!r}")
        _check_range("AxionVortex", "log10_mass_range", self.log10_mass_range)

    def half_length(self, log10_axion_mass):
        """Half-length (arcsec) of the vortex for log10(m_a / eV)."""
        return self.half_length_at_1e22 * 10.0 ** (-22.0 - log10_axion_mass)


def deeplense_classes(cdm: "CDMSubhalos | None" = None, vortex: "AxionVortex | None" = None) -> tuple:
    """The DeepLense classes in label order: no_sub, cdm (point-mass subhalos of ``cdm``) and axion
    (a vortex of ``vortex``), defaults ``CDMSubhalos()`` and ``AxionVortex()``; a family with
    other subhalo counts or masses passes its own, e.g.
    ``family.replace(substructure=deeplense_classes(cdm=CDMSubhalos(count=5)))``."""
    from lensml.simulation.scene import NoSubstructure, PointMassSubhalos, VortexPoints

    return (NoSubstructure(), PointMassSubhalos(config=cdm or CDMSubhalos()),
            VortexPoints(config=vortex or AxionVortex()))


@dataclass(frozen=True)
class Family:
    """A complete dataset family. ``supersampling`` is lenstronomy's supersampling_factor
    (rendered on a finer grid, averaged to pixels, then convolved with the PSF);
    ``image_recipe`` (one of ``IMAGE_RECIPES``) how the stored image is made from the model.
    ``substructure``: the classes, one ``lensml.simulation.scene`` sampler each, in label order;
    by default the DeepLense three: no_sub, cdm (``PointMassSubhalos`` of ``CDMSubhalos()``) and
    axion (``VortexPoints`` of ``AxionVortex()``).
    ``lens_light``: the lens galaxy's own light (``LensLight``), none by default."""

    name: str
    instrument: Instrument
    noise: BackgroundNoise | InstrumentNoise
    cosmology: Cosmology = Cosmology()
    lens: MacroLens = MacroLens()
    source: Source = Source()
    supersampling: int = 1
    description: str = ""
    image_recipe: str = "model+noise"
    substructure: tuple = field(default_factory=lambda: deeplense_classes())
    lens_light: LensLight | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Family.name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.supersampling, int) or self.supersampling < 1:
            raise ValueError(f"Family.supersampling must be a positive int, got {self.supersampling!r}")
        from lensml.simulation.scene import check_classes

        check_classes(self.substructure)
        if self.image_recipe not in IMAGE_RECIPES:
            raise ValueError(f"Family.image_recipe must be one of {IMAGE_RECIPES}, got {self.image_recipe!r}")
        if self.image_recipe == "poisson_counts" and self.noise.kind != "background":
            raise ValueError("Family.image_recipe 'poisson_counts' needs a BackgroundNoise (Model I's exposure times)")

    @property
    def classes(self) -> tuple:
        """The class samplers, in label order (``lensml.simulation.scene``)."""
        return tuple(self.substructure)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The class names, in label order."""
        return tuple(c.name for c in self.classes)

    @property
    def targets(self) -> dict:
        """What an example of this family carries, by name (``lensml.simulation.targets.Target``:
        shape, dtype, unit, task, the classes that carry it)."""
        from lensml.simulation.targets import for_family

        return for_family(self.classes)

    def target(self, name: str, *, stream: bool = False):
        """The ``Target`` ``name`` of this family; ValueError when lensml cannot make it (with
        ``stream``: cannot make it on the fly) or no class of this family carries it."""
        from lensml.simulation.targets import target_names

        known = target_names(stream=stream)
        if name not in known or name not in self.targets:
            where = "the batched simulator (data.source = 'stream')" if stream else "lensml"
            raise ValueError(f"target: got {name!r}, which {where} cannot make; expected one of {list(known)}")
        t = self.targets[name]
        if t.carried_by == ():
            raise ValueError(f"target {name!r}: no class of family {self.name!r} carries it "
                             f"(its classes: {list(self.class_names)})")
        return t

    def replace(self, **changes) -> "Family":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def theta_E(self) -> float:
        """Einstein radius (arcsec) of the main deflector (SIE ``theta_E``), for the source at
        ``cosmology.z_source`` (deflection_scale applied: the SIE deflection goes as theta_E),
        or ``lens.theta_E`` where the family gives it directly."""
        if self.lens.theta_E is not None:
            return float(self.lens.theta_E)
        return float(self.cosmology.einstein_radius(self.lens.halo_mass)) * self.cosmology.deflection_scale

    @property
    def shear(self) -> tuple[float, float]:
        """External shear (gamma1, gamma2) for the source at ``cosmology.z_source``."""
        scale = self.cosmology.deflection_scale
        return self.lens.gamma1 * scale, self.lens.gamma2 * scale

    def point_mass_einstein_radius(self, mass):
        """Einstein radius (arcsec) of point masses ``mass`` (Msun) for the source at
        ``cosmology.z_source`` (a point mass deflects as theta_E^2: sqrt of deflection_scale)."""
        return self.cosmology.einstein_radius(mass) * math.sqrt(self.cosmology.deflection_scale)

    @property
    def source_amp(self) -> float:
        """lenstronomy SERSIC_ELLIPSE amplitude of the source, in image units."""
        if self.source.amp_range is not None:
            raise ValueError(f"family {self.name!r}: the source amplitude is drawn per lens (Source.amp_range)")
        if self.source.amp is not None:
            return float(self.source.amp)
        if not isinstance(self.noise, InstrumentNoise):
            raise ValueError(
                f"family {self.name!r}: a source magnitude needs an InstrumentNoise zero point"
            )
        return self.noise.magnitude_to_cps(self.source.magnitude) / self.source.unit_amp_flux()

    def with_resolution(self, factor: int) -> "Family":
        """The same family observed with ``factor`` times coarser pixels (same field of view);
        for super-resolution pairs. A ``BackgroundNoise``'s rms is per pixel: the sky a pixel
        collects grows with its area, so its rms grows with its side (an ``InstrumentNoise``
        computes its sky from the pixel scale)."""
        noise = self.noise
        if isinstance(noise, BackgroundNoise):
            noise = dataclasses.replace(noise, background_rms=noise.background_rms * factor)
        return self.replace(name=f"{self.name}_lr{factor}", instrument=self.instrument.rescaled(factor), noise=noise)


EUCLID_VIS = InstrumentNoise(
    exposure_time=565.0, num_exposures=4, sky_brightness=22.35, magnitude_zero_point=24.0,
    read_noise=4.2, ccd_gain=3.1,
)
HST_WFC3_F160W = InstrumentNoise(
    exposure_time=5400.0, num_exposures=1, sky_brightness=22.3, magnitude_zero_point=25.96,
    read_noise=4.0, ccd_gain=2.5,
)

FAMILIES: dict[str, Family] = {
    "model_i": Family(
        name="model_i",
        instrument=Instrument("generic", num_pix=150, pixel_scale=0.05, psf_fwhm=0.087, psf_truncation=3.0),
        noise=BackgroundNoise(background_rms=0.01, log10_exposure_time=(3.0, 3.5)),
        source=Source(amp=20.0),
        description="DeepLense Model I ('Model A'): 150x150 at 0.05\", Gaussian PSF 0.087\", "
        "background rms 0.01 and Poisson noise at 10^U(3,3.5) s (SNR ~ 25).",
    ),
    "model_ii": Family(
        name="model_ii",
        instrument=Instrument("euclid_vis", num_pix=64, pixel_scale=0.101, psf_fwhm=0.16),
        noise=EUCLID_VIS,
        source=Source(amp=None, magnitude=20.0),
        description="DeepLense Model II ('Model B', Euclid-like): 64x64 at 0.101\", Euclid VIS "
        "Gaussian PSF 0.16\", 4 x 565 s, sky 22.35, ZP 24.0, read noise 4.2, gain 3.1.",
    ),
    "model_iii": Family(
        name="model_iii",
        instrument=Instrument("hst_wfc3_f160w", num_pix=64, pixel_scale=0.08, psf_fwhm=0.08),
        noise=HST_WFC3_F160W,
        source=Source(amp=None, magnitude=20.0),
        description="DeepLense Model III (HST-like): 64x64 at 0.08\", HST WFC3/F160W Gaussian "
        "PSF 0.08\", 5400 s, sky 22.3, ZP 25.96, read noise 4, gain 2.5.",
    ),
}


#: The public simulator's Einstein radii (luminosity distances, D_LS = D_S - D_L: 1e12 Msun ->
#: 1.28") and, for Models II/III (SimAPI with z_source_convention=2.5), deflections rescaled to
#: the source at z=1 (x 0.634: an effective SIE radius of 0.81").
_PUBLISHED_COSMOLOGY = Cosmology(distances="luminosity")
_PUBLISHED_NOTE = (" Published-compatible variant: the data as the public DeepLense simulator wrote them, "
                   "which the papers trained on")
FAMILIES["model_i_published"] = FAMILIES["model_i"].replace(
    name="model_i_published", cosmology=_PUBLISHED_COSMOLOGY, image_recipe="poisson_counts",
    description=FAMILIES["model_i"].description + _PUBLISHED_NOTE + ": Einstein radii from luminosity "
    "distances (1.28\"), images stored as Poisson counts of exposure time x (model + noise).",
)
for _name in ("model_ii", "model_iii"):
    FAMILIES[f"{_name}_published"] = FAMILIES[_name].replace(
        name=f"{_name}_published", image_recipe="twice_model",
        cosmology=dataclasses.replace(_PUBLISHED_COSMOLOGY, z_source_convention=2.5),
        description=FAMILIES[_name].description + _PUBLISHED_NOTE + ": Einstein radii from luminosity "
        "distances (1.28\") quoted for a source at z=2.5 (z_source_convention; 0.81\" effective at z=1), "
        "images stored as twice the noise-free model, no noise.",
    )

#: The realistic (corrected) families, the default everywhere.
REALISTIC_FAMILIES: tuple[str, ...] = ("model_i", "model_ii", "model_iii")
#: Their published-compatible variants.
PUBLISHED_FAMILIES: tuple[str, ...] = tuple(f"{n}_published" for n in REALISTIC_FAMILIES)


def get_family(name: str | Family) -> Family:
    """The family called ``name`` (a key of ``FAMILIES``), or ``name`` itself if it is a Family."""
    if isinstance(name, Family):
        return name
    if not isinstance(name, str):
        raise TypeError(f"family must be a name (str) or a Family, got {type(name).__name__}")
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; known families: {sorted(FAMILIES)}") from None


def _tnfw_family():
    from lensml.simulation.scene import NoSubstructure, TNFWSubhalos

    base = FAMILIES["model_ii"]
    return base.replace(
        name="model_ii_tnfw",
        substructure=(NoSubstructure(), TNFWSubhalos(), base.classes[2]),
        description=base.description + " CDM subhalos as 25 truncated NFW halos (lenstronomy TNFW, a DeepLense "
        "Model IV-like substructure): M200 from p(m) ~ m^-0.9 on [1e6, 1e10] Msun, concentration 15, truncated "
        "at 5 Rs, r ~ U(0.25, 2)\"; no_sub and axion as Model II.",
    )


#: Model II with truncated-NFW CDM subhalos (``lensml.simulation.scene.TNFWSubhalos``).
FAMILIES["model_ii_tnfw"] = _tnfw_family()


def _no_sphere_vort_family():
    from lensml.simulation.scene import DiskPointMasses, LinePointMasses, NoSubstructure

    pixel = 0.05
    per_pixel = 1.0 / pixel**2  # PyAutoLens intensities are per pixel; lenstronomy's amp per arcsec^2
    return Family(
        name="no_sphere_vort",
        instrument=Instrument("pylensing", num_pix=150, pixel_scale=pixel, psf_fwhm=0.1 / FWHM_TO_SIGMA,
                              psf_truncation=2.5),
        noise=BackgroundNoise(background_rms=math.sqrt(0.1 / 300.0),
                              log10_exposure_time=(math.log10(300.0), math.log10(300.0))),
        cosmology=Cosmology(distances="luminosity"),  # PyLensing's ER(): the subhalos' Einstein radii
        lens=MacroLens(theta_E=1.2, e1=0.0, e2=0.0, gamma1=0.0, gamma2=0.0, shear_range=(0.0, 0.3)),
        source=Source(r_sersic=0.5, n_sersic=1.5, amp=None, amp_range=(0.7 * per_pixel, 0.9 * per_pixel),
                      center_radius=1.2, q_range=(0.7, 1.0)),
        lens_light=LensLight(amp=1.2 * per_pixel, r_sersic=0.5, n_sersic=2.5, q_range=(0.5, 1.0)),
        substructure=(NoSubstructure(name="no"), DiskPointMasses(), LinePointMasses()),
        supersampling=2,
        description="The D4LensPINN paper's no / sphere / vort data, after the public PyLensing recipe "
        "(PyAutoLens): 150x150 at 0.05\" (PyLensing's own 150-pixel setting), Gaussian PSF sigma 0.1\" "
        "(11x11), 300 s exposure on a sky of 0.1 counts/s per pixel (Poisson noise, here its Gaussian "
        "approximation), sub-grid 2; SIS of 1.2\" with a random external shear U(0, 0.3), lens light "
        "(Sersic n 2.5, R 0.5\", q U(0.5, 1), 1.2 counts/s per pixel at R); source Sersic n 1.5, R 0.5\", "
        "q U(0.7, 1), U(0.7, 0.9) counts/s per pixel at R, at radius U(0, 1.2)\"; sphere: 25 point "
        "masses at radius U(0, 1)\"; vort: 25 point masses on a 1\" line through the centre at a random "
        "angle; each substructure point mass of U(0.8e10, 1.2e10) Msun (Einstein radius ~0.128\", luminosity "
        "distances).",
    )


def _lens_jepa_family(name: str, base: Family, instrument: Instrument, what: str) -> Family:
    from lensml.simulation.scene import NoSubstructure, TNFWSubhalos, VortexPoints

    vortex = dataclasses.replace(base.classes[2].config, log10_mass_range=(-23.0, -23.0))
    return base.replace(
        name=name, instrument=instrument, lens=dataclasses.replace(base.lens, e1=0.0, e2=0.0),
        substructure=(NoSubstructure(), TNFWSubhalos(), VortexPoints(config=vortex)),
        description=f"Lens-JEPA's {what}: 150x150, an SIS main halo (the DeepLense 1e12 Msun Einstein radius "
        "and external shear), truncated-NFW CDM subhalos (as model_ii_tnfw), an axion vortex of m_a = 1e-23 eV "
        "(half-length 0.3\"), the Sersic source of the DeepLense models.",
    )


#: The D4LensPINN paper's data (``lensml.simulation.scene.DiskPointMasses``, ``LinePointMasses``).
FAMILIES["no_sphere_vort"] = _no_sphere_vort_family()
#: Lens-JEPA's pretraining (Model A) and fine-tuning (Model B) data.
FAMILIES["lens_jepa_model_a"] = _lens_jepa_family(
    "lens_jepa_model_a", FAMILIES["model_i"],
    dataclasses.replace(FAMILIES["model_i"].instrument, name="generic_psf_0.05", psf_fwhm=0.05),
    "Model A (generic instrument): 0.05\" pixels, Gaussian PSF of FWHM 0.05\", Model I's noise (SNR ~ 25)")
FAMILIES["lens_jepa_model_b"] = _lens_jepa_family(
    "lens_jepa_model_b", FAMILIES["model_ii"],
    dataclasses.replace(FAMILIES["model_ii"].instrument, name="euclid_vis_150", num_pix=150,
                        pixel_scale=64 * 0.101 / 150),
    "Model B (Euclid-like): Model II's field of view (6.46\") in 150 pixels of 0.0431\" (the paper gives "
    "150x150 but no pixel scale), the Euclid VIS PSF (0.16\") and noise")
#: The seed papers' own data (not DeepLense Models I-III): the D4LensPINN paper's and Lens-JEPA's.
PAPER_FAMILIES: tuple[str, ...] = ("no_sphere_vort", "lens_jepa_model_a", "lens_jepa_model_b")


def _coarse(name: str, factor: int) -> Family:
    # The same field in factor x coarser pixels, for CPU-scale tables.
    base = FAMILIES[name]
    fam = base.with_resolution(factor)
    inst = fam.instrument
    return fam.replace(name=f"{name}_{inst.num_pix}", description=base.description + f" CPU scale: the same "
                       f"{inst.field_of_view:.2f}\" field in {inst.num_pix}x{inst.num_pix} pixels of "
                       f"{inst.pixel_scale:.3g}\".")


#: The seed papers' data at 50x50 (the same fields, 3x coarser pixels): their tables' CPU scale.
for _name in PAPER_FAMILIES:
    FAMILIES[f"{_name}_50"] = _coarse(_name, 3)
