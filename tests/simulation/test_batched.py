"""Batched (keras.ops) simulator against the lenstronomy reference."""

import dataclasses
import functools

import keras
import numpy as np
import pytest

from lensml.simulation import get_family, reference_simulator, sample_parameters
from lensml.simulation.batched import BatchedSimulator


def _small(name, num_pix):
    fam = get_family(name)
    return fam.replace(name=f"{name}_{num_pix}px", instrument=dataclasses.replace(fam.instrument, num_pix=num_pix))


FAMILIES = {"model_ii": get_family("model_ii"), "model_iii": get_family("model_iii"),
            "model_i_40px": _small("model_i", 40), "model_iii_32px": _small("model_iii", 32),
            "model_ii_tnfw": get_family("model_ii_tnfw")}


@functools.lru_cache(maxsize=None)
def _batched(name, supersampling):
    return BatchedSimulator(FAMILIES[name], supersampling)


# float32 against lenstronomy's float64: 2e-5 of the peak (measured ~3e-6), for every family
# (Model I's instrument on a 40-pixel grid) and class, at supersampling 1 and 2.
@pytest.mark.parametrize("name,supersampling", [("model_ii", 1), ("model_ii", 2), ("model_iii", 1),
                                                ("model_i_40px", 1), ("model_i_40px", 2), ("model_ii_tnfw", 1),
                                                ("model_ii_tnfw", 2)])
def test_matches_reference_every_class(name, supersampling, rng):
    fam = FAMILIES[name]
    ref = reference_simulator(fam, supersampling)
    for label in ("no_sub", "cdm", "axion"):
        params = sample_parameters(fam, label, rng, batch_size=2)
        expected = ref.render(params)
        got = keras.ops.convert_to_numpy(_batched(name, supersampling).render(params))
        assert got.shape == expected.shape + (1,) and got.dtype == np.float32
        # whole image, borders included (the same 'nearest' PSF border as lenstronomy)
        assert np.abs(got[..., 0] - expected).max() / expected.max() < 2e-5, label


def test_matches_reference_with_a_non_default_macro_lens(rng):
    # and a third family, at supersampling 3
    fam = FAMILIES["model_iii_32px"]
    params = sample_parameters(fam, "axion", rng, batch_size=2)
    params.update(theta_E=np.array([1.2, 1.4]), lens_e1=np.array([0.0, 0.2]))
    expected = reference_simulator(fam, 3).render(params)
    got = keras.ops.convert_to_numpy(_batched("model_iii_32px", 3).render(params))[..., 0]
    assert np.abs(got - expected).max() / expected.max() < 2e-5


def test_compiled_supersampled_render_without_psf_matches_reference(rng):
    # The supersampling loop inside the backend's compiler, and a family without a PSF
    # (no rendered border).
    from lensml.data.stream import compile_for_backend

    base = FAMILIES["model_iii_32px"]
    fam = base.replace(name="no_psf_32px", instrument=dataclasses.replace(base.instrument, psf_fwhm=0.0))
    sim = BatchedSimulator(fam, 2)
    params = sample_parameters(fam, "cdm", rng, batch_size=3)
    expected = reference_simulator(fam, 2).render(params)
    got = keras.ops.convert_to_numpy(compile_for_backend(sim.render)(sim.tensors(params)))[..., 0]
    assert np.abs(got - expected).max() / expected.max() < 2e-5


def test_noise_has_the_reference_variance_and_is_seeded(rng):
    sim = _batched("model_ii", 1)
    params = sample_parameters(sim.family, "cdm", rng, batch_size=2)
    image, model = sim.simulate(params, np.random.default_rng(0))
    again, _ = sim.simulate(params, np.random.default_rng(0))
    image, model, again = (keras.ops.convert_to_numpy(t) for t in (image, model, again))
    np.testing.assert_array_equal(image, again)
    sigma = np.sqrt(np.maximum(model, 0) / params["exposure_time"][:, None, None, None] + sim.background_sigma**2)
    z = (image - model) / sigma
    assert abs(z.std() - 1) < 0.05 and abs(z.mean()) < 0.05
    assert np.isfinite(image).all()


def test_bad_input():
    with pytest.raises(ValueError, match="supersampling must be a positive int, got 0"):
        BatchedSimulator("model_ii", supersampling=0)
    with pytest.raises(ValueError, match="unknown family"):
        BatchedSimulator("model_9")
    with pytest.raises(ValueError, match="missing.*sub_theta_E"):
        _batched("model_ii", 1).tensors({"theta_E": np.ones(1), "lens_e1": np.ones(1)})
