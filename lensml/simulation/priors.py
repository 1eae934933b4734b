"""Seeded samplers for every random parameter of a family, and per-example seeding.

Per-example seeds derive from (family, split, index, global seed) through
``numpy.random.SeedSequence``, so any example regenerates alone and a dataset is the same,
byte for byte, whatever the number of worker processes. Each example's sequence spawns two
independent streams: one for the lens/source parameters, one for the noise.

Draw order is macro-model first (source centre, exposure time), then substructure, so the
same generator gives the same macro-lens and source for every class: ``cdm`` and ``axion``
examples differ from ``no_sub`` of the same seed only by their substructure.
"""

from __future__ import annotations

import zlib

import numpy as np

from lensml.simulation.families import CLASS_NAMES, Family, ellipticity, get_family

def _string_code(text: str) -> int:
    # A stable (cross-process, cross-machine) integer for a string; Python's hash() is salted.
    return zlib.crc32(text.encode("utf-8"))


def example_seed_sequence(family: str, split: str, index: int, seed: int = 0) -> np.random.SeedSequence:
    """The ``SeedSequence`` of example ``index`` of ``split`` of ``family`` under ``seed``."""
    if not isinstance(index, (int, np.integer)) or index < 0:
        raise ValueError(f"index must be a non-negative int, got {index!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    name = family.name if isinstance(family, Family) else str(family)
    return np.random.SeedSequence([int(seed), _string_code(name), _string_code(str(split)), int(index)])


def example_generators(family, split: str, index: int, seed: int = 0):
    """(params_rng, noise_rng): two independent numpy Generators for one example."""
    params_ss, noise_ss = example_seed_sequence(family, split, index, seed).spawn(2)
    return np.random.default_rng(params_ss), np.random.default_rng(noise_ss)


def label_index(label, class_names=CLASS_NAMES) -> int:
    """Class index of ``label`` (a name in ``class_names`` or an int 0..len - 1)."""
    class_names = tuple(class_names)
    if isinstance(label, str):
        if label not in class_names:
            raise ValueError(f"unknown class {label!r}; expected one of {class_names}")
        return class_names.index(label)
    if isinstance(label, (int, np.integer)) and 0 <= int(label) < len(class_names):
        return int(label)
    raise ValueError(f"label must be one of {class_names} or 0..{len(class_names) - 1}, got {label!r}")


def sample_cdm_masses(rng: np.random.Generator, shape, mass_range, beta) -> np.ndarray:
    """Masses (Msun) from p(m) ~ m^beta on ``mass_range`` by inverse CDF. shape: output shape."""
    from lensml.simulation.scene import sample_power_law

    return sample_power_law(rng, shape, mass_range, beta)


def sample_parameters(family, label, rng: np.random.Generator, batch_size: int = 1) -> dict:
    """Sample ``batch_size`` lenses of one class.

    Returns a dict of float64 numpy arrays with leading dimension B = batch_size:
      label (B,) int64; theta_E (B,) arcsec; lens_e1, lens_e2, gamma1, gamma2 (B,) (Einstein
      radii and shear as they deflect the source at the family's z_source);
      source_x, source_y (B,) arcsec; source_amp (B,) lenstronomy amplitude (image units);
      source_r_sersic, source_n_sersic, source_e1, source_e2 (B,);
      lens_light_amp, lens_light_r_sersic, lens_light_n_sersic, lens_light_e1, lens_light_e2 (B,)
      only for a family with lens light (``Family.lens_light``);
      exposure_time (B,) s (Model I's random exposure; the instrument's total otherwise);
      the class's substructure (``Family.classes``, lensml.simulation.scene): ``sub_*`` (B, K)
      arrays, e.g. sub_theta_E, sub_x, sub_y arcsec for point masses (K = 0 for no_sub, the
      CDM count for cdm, the vortex count for axion) or sub_Rs, sub_alpha_Rs, sub_r_trunc,
      sub_x, sub_y for truncated NFW subhalos;
      log10_axion_mass (B,) log10(m_a / eV), NaN unless an axion vortex;
      vortex_angle (B,) radians, NaN unless an axion vortex.
    """
    fam = get_family(family)
    k = label_index(label, fam.class_names)
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    b = int(batch_size)
    src = fam.source
    if src.center_radius is None:
        centre = rng.uniform(-src.center_range, src.center_range, size=(b, 2))
    else:  # PyLensing: radius and angle
        radius, phi = rng.uniform(0.0, src.center_radius, size=b), rng.uniform(0.0, 2.0 * np.pi, size=b)
        centre = np.stack([radius * np.cos(phi), radius * np.sin(phi)], axis=1)
    if fam.noise.kind == "background":
        exposure = 10.0 ** rng.uniform(*fam.noise.log10_exposure_time, size=b)
    else:
        exposure = np.full(b, fam.noise.total_exposure_time)
    full = lambda v: np.full(b, float(v))  # noqa: E731
    gamma1, gamma2 = fam.shear
    # Per-lens draws of the families that randomise them (none for Models I-III, whose draws
    # stay as they were): they come before the substructure, so classes share them.
    if fam.lens.shear_range is not None:
        gamma1, gamma2 = random_shear(rng, fam.lens.shear_range, b)
    source_e1, source_e2, r_sersic = full(src.e1), full(src.e2), full(src.r_sersic)
    if src.random_shape:
        source_e1, source_e2, r_sersic = _shape(rng, src.q_range, src.r_sersic, b)
    amp = rng.uniform(*src.amp_range, size=b) if src.amp_range is not None else full(fam.source_amp)
    params = {
        "label": np.full(b, k, dtype=np.int64),
        "theta_E": full(fam.theta_E),
        "lens_e1": full(fam.lens.e1),
        "lens_e2": full(fam.lens.e2),
        "gamma1": np.broadcast_to(gamma1, (b,)).astype(np.float64),
        "gamma2": np.broadcast_to(gamma2, (b,)).astype(np.float64),
        "source_x": centre[:, 0],
        "source_y": centre[:, 1],
        "source_amp": amp,
        "source_r_sersic": r_sersic,
        "source_n_sersic": full(src.n_sersic),
        "source_e1": source_e1,
        "source_e2": source_e2,
        "exposure_time": exposure,
        "log10_axion_mass": full(np.nan),
        "vortex_angle": full(np.nan),
    }
    if fam.lens_light is not None:
        light = fam.lens_light
        e1, e2, r = _shape(rng, light.q_range, light.r_sersic, b)
        params.update(lens_light_amp=full(light.amp), lens_light_r_sersic=r, lens_light_n_sersic=full(light.n_sersic),
                      lens_light_e1=e1, lens_light_e2=e2)
    # the class's substructure (lensml.simulation.scene), drawn after the macro-model
    params.update(fam.classes[k].draw(fam, rng, b))
    return params


def random_shear(rng: np.random.Generator, magnitude_range, batch: int):
    """(gamma1, gamma2) (B,) of a random external shear: magnitude U(magnitude_range), angle
    U(0, 2 pi), gamma1 = g cos 2phi, gamma2 = g sin 2phi (lenstronomy's shear_polar2cartesian)."""
    magnitude = rng.uniform(*magnitude_range, size=batch)
    phi = rng.uniform(0.0, 2.0 * np.pi, size=batch)
    return magnitude * np.cos(2.0 * phi), magnitude * np.sin(2.0 * phi)


def _shape(rng: np.random.Generator, q_range, semi_major: float, batch: int):
    """(e1, e2, r_sersic) (B,) of a Sersic of axis ratio U(q_range) at an angle U(0, 2 pi) whose
    effective radius is the semi-major axis ``semi_major`` (PyAutoLens): lenstronomy's radius is
    the area-keeping semi_major sqrt(q)."""
    q = rng.uniform(*q_range, size=batch)
    e1, e2 = ellipticity(q, rng.uniform(0.0, 2.0 * np.pi, size=batch))
    return e1, e2, semi_major * np.sqrt(q)


def example_parameters(family, split: str, index: int, seed: int = 0, label=None):
    """Parameters (batch of one) and noise generator of example ``index``.

    The class of example ``index`` is ``index % C`` (C classes) unless ``label`` is given, so
    a split of C N examples holds N of each class.
    """
    fam = get_family(family)
    params_rng, noise_rng = example_generators(fam, split, index, seed)
    if label is None:
        label = index % len(fam.classes)
    return sample_parameters(fam, label, params_rng, 1), noise_rng


def slice_parameters(params: dict, index) -> dict:
    """The parameters of examples ``index`` (int or slice) of a batch, keeping the batch axis."""
    if isinstance(index, (int, np.integer)):
        index = slice(int(index), int(index) + 1)
    return {k: v[index] for k, v in params.items()}
