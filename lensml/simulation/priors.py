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

from lensml.simulation.families import CLASS_NAMES, Family, get_family

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
    r = fam.source.center_range
    centre = rng.uniform(-r, r, size=(b, 2))
    if fam.noise.kind == "background":
        exposure = 10.0 ** rng.uniform(*fam.noise.log10_exposure_time, size=b)
    else:
        exposure = np.full(b, fam.noise.total_exposure_time)
    full = lambda v: np.full(b, float(v))  # noqa: E731
    gamma1, gamma2 = fam.shear
    params = {
        "label": np.full(b, k, dtype=np.int64),
        "theta_E": full(fam.theta_E),
        "lens_e1": full(fam.lens.e1),
        "lens_e2": full(fam.lens.e2),
        "gamma1": full(gamma1),
        "gamma2": full(gamma2),
        "source_x": centre[:, 0],
        "source_y": centre[:, 1],
        "source_amp": full(fam.source_amp),
        "source_r_sersic": full(fam.source.r_sersic),
        "source_n_sersic": full(fam.source.n_sersic),
        "source_e1": full(fam.source.e1),
        "source_e2": full(fam.source.e2),
        "exposure_time": exposure,
        "log10_axion_mass": full(np.nan),
        "vortex_angle": full(np.nan),
    }
    # the class's substructure (lensml.simulation.scene), drawn after the macro-model
    params.update(fam.classes[k].draw(fam, rng, b))
    return params


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
