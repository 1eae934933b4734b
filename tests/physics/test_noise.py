"""Noise: lenstronomy SingleBand semantics, explicit seeds."""

import keras
import numpy as np
import pytest
from lenstronomy.SimulationAPI.observation_api import SingleBand

from lensml.physics import (
    add_instrument_noise,
    add_poisson_gaussian_noise,
    background_noise_rms,
    poisson_noise_rms,
)

from ._helpers import run, to_numpy

EUCLID = dict(pixel_scale=0.101, exposure_time=565.0, num_exposures=4, sky_brightness=22.35,
              magnitude_zero_point=24.0, read_noise=4.2, ccd_gain=3.1)
HST = dict(pixel_scale=0.08, exposure_time=5400.0, num_exposures=1, sky_brightness=22.3,
           magnitude_zero_point=25.96, read_noise=4.0, ccd_gain=2.5)


@pytest.mark.parametrize("instrument", [EUCLID, HST])
@pytest.mark.parametrize("unit", ["e-", "ADU"])
def test_noise_levels_match_lenstronomy(instrument, unit, rng):
    band = SingleBand(data_count_unit=unit, **instrument)
    assert background_noise_rms(data_count_unit=unit, **instrument) == pytest.approx(band.background_noise, rel=1e-12)
    image = rng.uniform(-0.5, 20, (16, 16))
    total_time = instrument["exposure_time"] * instrument["num_exposures"]
    rms = poisson_noise_rms(image.astype("float32"), total_time, instrument["ccd_gain"], unit)
    np.testing.assert_allclose(to_numpy(rms), band.flux_noise(image.copy()), rtol=1e-5, atol=1e-9)


def test_instrument_noise_statistics_and_seeds(rng):
    images = np.full((2, 48, 48, 1), 2.0, "float32")
    def draws(images):
        return (add_instrument_noise(images, 7, **EUCLID), add_instrument_noise(images, 7, **EUCLID),
                add_instrument_noise(images, 8, **EUCLID),
                add_instrument_noise(images, 7, poisson_noise=False, **EUCLID))

    noisy, again, other, only_background = (to_numpy(v) for v in run(draws, images))
    np.testing.assert_array_equal(noisy, again)
    assert np.abs(noisy - other).max() > 0
    expected = SingleBand(**EUCLID).estimate_noise(np.full((2, 2), 2.0))[0, 0]
    residual = noisy - images
    assert abs(residual.mean()) < 4 * expected / np.sqrt(residual.size)
    assert residual.std() == pytest.approx(expected, rel=0.05)
    only_background = only_background - images
    assert only_background.std() == pytest.approx(background_noise_rms(**EUCLID), rel=0.05)
    generator = keras.random.SeedGenerator(3)
    a = to_numpy(add_instrument_noise(images, generator, **HST))
    b = to_numpy(add_instrument_noise(images, generator, **HST))
    assert np.abs(a - b).max() > 0  # a generator advances


def test_poisson_gaussian_noise_model_i(rng):
    images = rng.uniform(0, 1, (3, 32, 32, 1)).astype("float32")
    exposure = np.array([1000.0, 2000.0, 3000.0], "float32").reshape(3, 1, 1, 1)
    noisy = to_numpy(run(add_poisson_gaussian_noise, images, seed=11, background_rms=0.01, exposure_time=exposure))
    np.testing.assert_array_equal(
        noisy, to_numpy(run(add_poisson_gaussian_noise, images, seed=11, background_rms=0.01, exposure_time=exposure)))
    z = (noisy - images) / np.sqrt(images / exposure + 0.01**2)
    assert abs(z.std() - 1) < 0.05 and abs(z.mean()) < 0.05


def test_noise_bad_inputs():
    images = np.zeros((1, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match="exposure_time"):
        add_poisson_gaussian_noise(images, 0, background_rms=0.01, exposure_time=-1.0)
    with pytest.raises(ValueError, match="background_rms"):
        add_poisson_gaussian_noise(images, 0, background_rms=-0.01, exposure_time=1.0)
    with pytest.raises(ValueError, match="data_count_unit"):
        background_noise_rms(data_count_unit="photons", **EUCLID)
    with pytest.raises(ValueError, match="pixel_scale"):
        background_noise_rms(**dict(EUCLID, pixel_scale=-0.1))
