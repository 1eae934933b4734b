"""Priors and per-example seeding."""

import numpy as np
import pytest

from lensml.simulation import get_family, sample_parameters
from lensml.simulation.priors import example_parameters, example_seed_sequence


def test_same_seed_same_parameters_and_independent_examples():
    a, _ = example_parameters("model_ii", "train", 7, seed=3)
    b, _ = example_parameters("model_ii", "train", 7, seed=3)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    others = [example_parameters("model_ii", s, i, seed=d)[0] for s, i, d in
              [("test", 7, 3), ("train", 10, 3), ("train", 7, 4)]]
    for o in others:
        assert o["source_x"][0] != a["source_x"][0]


def test_labels_cycle_so_splits_are_balanced():
    labels = [int(example_parameters("model_ii", "train", i)[0]["label"][0]) for i in range(12)]
    assert np.bincount(labels).tolist() == [4, 4, 4]


def test_classes_share_macro_lens_and_source_for_the_same_generator():
    params = {c: sample_parameters("model_i", c, np.random.default_rng(5), batch_size=4)
              for c in ("no_sub", "cdm", "axion")}
    for c in ("cdm", "axion"):
        for k in ("source_x", "source_y", "exposure_time", "theta_E", "source_amp"):
            np.testing.assert_array_equal(params[c][k], params["no_sub"][k])
    assert params["no_sub"]["sub_theta_E"].shape == (4, 0)
    assert params["cdm"]["sub_theta_E"].shape == (4, 25)
    assert params["axion"]["sub_theta_E"].shape == (4, 100)
    assert np.isnan(params["cdm"]["log10_axion_mass"]).all()
    e = params["no_sub"]["exposure_time"]
    assert ((e >= 10**3) & (e <= 10**3.5)).all()


def test_cdm_prior_ranges():
    fam = get_family("model_ii")
    p = sample_parameters(fam, "cdm", np.random.default_rng(0), batch_size=200)
    r = np.hypot(p["sub_x"], p["sub_y"])
    assert r.min() >= 0.25 and r.max() <= 2.0
    te = p["sub_theta_E"]
    lo, hi = fam.cosmology.einstein_radius(np.array([1e6, 1e10]))
    assert te.min() >= lo and te.max() <= hi
    # p(m) ~ m^-0.9: P(m > 1e9) = 1 - (1e9^0.1 - 1e6^0.1) / (1e10^0.1 - 1e6^0.1) = 0.342
    masses = (te / fam.cosmology.einstein_radius(1.0)) ** 2
    assert np.mean(masses > 1e9) == pytest.approx(0.342, abs=0.03)


def test_vortex_length_scales_as_inverse_axion_mass():
    p = sample_parameters("model_iii", "axion", np.random.default_rng(1), batch_size=50)
    m_a = 10.0 ** p["log10_axion_mass"]
    half_length = np.hypot(p["sub_x"], p["sub_y"]).max(axis=1)
    np.testing.assert_allclose(half_length * m_a, 0.03 * 1e-22, rtol=1e-9)
    assert ((p["log10_axion_mass"] >= -24) & (p["log10_axion_mass"] <= -22)).all()
    # a straight line through the centre at the sampled angle
    angle = np.arctan2(p["sub_y"][:, -1], p["sub_x"][:, -1])
    np.testing.assert_allclose(np.mod(angle, 2 * np.pi), p["vortex_angle"], atol=1e-9)


def test_bad_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown class 'sphere'"):
        sample_parameters("model_ii", "sphere", rng)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        sample_parameters("model_ii", "cdm", rng, batch_size=0)
    with pytest.raises(ValueError, match="index must be a non-negative int, got -1"):
        example_seed_sequence("model_ii", "train", -1)
    with pytest.raises(ValueError, match="unknown family"):
        sample_parameters("model_x", 0, rng)
