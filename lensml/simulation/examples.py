"""Whole dataset examples, each regenerated alone from (family, split, index, seed).

Used by the TFDS builder, the ``lensml simulate`` command and the tests. Example ``index``
of a split has class ``index % C`` (C = the family's number of classes).
"""

from __future__ import annotations

import numpy as np

from lensml.simulation.families import CLASS_NAMES, get_family
from lensml.simulation.priors import example_parameters
from lensml.simulation.reference import reference_simulator


def _features(params: dict, out: dict, i: int = 0) -> dict:
    return {
        "image": out["image"][i, :, :, None].astype(np.float32),
        "label": int(params["label"][i]),
        "log10_axion_mass": np.float32(params["log10_axion_mass"][i]),
        "theta_E": np.float32(params["theta_E"][i]),
        "source_center": np.array([params["source_x"][i], params["source_y"][i]], np.float32),
        "convergence": out["convergence"][i, :, :, None].astype(np.float32),
    }


def simulate_example(family, split: str, index: int, seed: int = 0, *, noise: bool = True) -> dict:
    """Example ``index`` of ``split``: a dict of numpy values
      image (H, W, 1) float32 (model + noise, counts/s per pixel); label int (the index in
      ``family.class_names``: 0 no_sub, 1 cdm, 2 axion for Models I-III); log10_axion_mass float32 (log10 m_a/eV; NaN unless axion); theta_E float32
      (arcsec); source_center (2,) float32 (x, y arcsec); convergence (H, W, 1) float32.
    """
    fam = get_family(family)
    params, noise_rng = example_parameters(fam, split, index, seed)
    out = reference_simulator(fam).simulate(params, noise_rng if noise else None)
    return _features(params, out)


def simulate_sr_example(family, factor: int, split: str, index: int, seed: int = 0, *, noise: bool = True) -> dict:
    """A super-resolution pair: the same lens and source observed at the family's resolution
    (``hr``, H x W) and with ``factor`` times coarser pixels over the same field of view
    (``lr``, H/factor x W/factor), each with its instrument's noise (independent draws).
    Returns the ``simulate_example`` features (for the high resolution) plus ``lr`` and ``hr``
    (..., 1) float32; ``image`` is ``hr``."""
    fam = get_family(family)
    low = fam.with_resolution(factor)
    params, noise_rng = example_parameters(fam, split, index, seed)
    hr_rng, lr_rng = noise_rng.spawn(2)
    hr = reference_simulator(fam).simulate(params, hr_rng if noise else None)
    lr = reference_simulator(low).simulate(params, lr_rng if noise else None)
    feats = _features(params, hr)
    feats["hr"] = feats["image"]
    feats["lr"] = lr["image"][0, :, :, None].astype(np.float32)
    return feats


def class_counts(labels, class_names=CLASS_NAMES) -> dict:
    """Number of examples per class name (``class_names`` in label order)."""
    labels = np.asarray(labels)
    return {name: int(np.sum(labels == k)) for k, name in enumerate(class_names)}
