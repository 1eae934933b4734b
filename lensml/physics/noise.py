"""Instrument noise with lenstronomy's semantics (``SimulationAPI`` / ``SingleBand``).

Images are in counts per second (lenstronomy's ``data_count_unit="e-"``: electrons per
second; ``"ADU"``: ADU per second). Noise is Gaussian: a background term (read noise and
sky) and the Gaussian approximation of the source's Poisson noise, as in lenstronomy's
``SingleBand.noise_for_model``. Every random function takes an explicit ``seed`` (an int
or a ``keras.random.SeedGenerator``); the same seed gives the same noise.
"""

from __future__ import annotations


import keras
from keras import ops

from lensml.physics._checks import (
    check_positive_int,
    check_positive_number,
    check_positive_values,
)
from lensml.physics.photometry import _check_unit, background_noise_rms, magnitude_to_cps  # noqa: F401 - re-exported

def poisson_noise_rms(images, exposure_time, ccd_gain=None, data_count_unit="e-"):
    """Per-pixel rms of the source's Poisson noise in counts/s (lenstronomy ``flux_noise``).

    Args:
        images: float32 tensor of counts/s (any shape); negative pixels get 0 variance.
        exposure_time: total exposure time (s, all exposures), float or broadcastable tensor.
    """
    gain = _check_unit(data_count_unit, ccd_gain)
    check_positive_values("exposure_time", exposure_time)
    images = ops.cast(ops.convert_to_tensor(images), "float32")
    factor = exposure_time * (gain if gain else 1.0)
    counts = ops.maximum(images * factor, 0.0)
    rms = ops.sqrt(counts) / exposure_time
    return rms / gain if gain else rms


def _two_normals(shape, seed):
    draws = keras.random.normal((2,) + tuple(shape), seed=seed, dtype="float32")
    return draws[0], draws[1]


def add_instrument_noise(
    images,
    seed,
    *,
    pixel_scale,
    exposure_time,
    sky_brightness,
    magnitude_zero_point,
    read_noise,
    num_exposures=1,
    ccd_gain=None,
    data_count_unit="e-",
    background_noise=True,
    poisson_noise=True,
):
    """Add lenstronomy instrument noise to noiseless images (counts/s).

    Mirrors ``SingleBand(...).noise_for_model(image)``: noise = N1 * background_rms +
    N2 * poisson_rms(image) with independent unit normals N1, N2. The instrument settings
    are lenstronomy's ``ObservationConfig`` keywords (e.g. Euclid VIS: exposure_time=565,
    num_exposures=4, sky_brightness=22.35, magnitude_zero_point=24.0, read_noise=4.2,
    ccd_gain=3.1; HST WFC3/F160W: 5400, 1, 22.3, 25.96, 4, 2.5).

    Args:
        images: (batch, height, width, channels) (or any shape) float32 counts/s.
        seed: int or ``keras.random.SeedGenerator``.
        exposure_time: seconds per exposure; num_exposures: exposures co-added.

    Returns:
        images + noise, same shape, float32.
    """
    images = ops.cast(ops.convert_to_tensor(images), "float32")
    background = background_noise_rms(
        pixel_scale=pixel_scale,
        exposure_time=exposure_time,
        sky_brightness=sky_brightness,
        magnitude_zero_point=magnitude_zero_point,
        read_noise=read_noise,
        num_exposures=num_exposures,
        ccd_gain=ccd_gain,
        data_count_unit=data_count_unit,
    )
    n1, n2 = _two_normals(images.shape, seed)
    noise = ops.zeros_like(images)
    if background_noise:
        noise = noise + n1 * background
    if poisson_noise:
        total_time = num_exposures * exposure_time
        noise = noise + n2 * poisson_noise_rms(images, total_time, ccd_gain, data_count_unit)
    return images + noise


def add_poisson_gaussian_noise(images, seed, *, background_rms, exposure_time):
    """Poisson (Gaussian approximation) + Gaussian background noise, as lenstronomy's
    ``image_util.add_poisson(image, exp_time)`` + ``image_util.add_background(image, sigma_bkd)``
    (DeepLense Model I).

    Args:
        images: (batch, height, width, channels) float32 counts/s.
        seed: int or ``keras.random.SeedGenerator``.
        background_rms: Gaussian background rms (same units as images, >= 0).
        exposure_time: seconds (> 0), a float or a tensor broadcastable to images (e.g.
            (batch, 1, 1, 1) for one exposure time per image).

    Returns:
        images + N1 sqrt(|images| / exposure_time) + N2 background_rms, float32.
    """
    background_rms = check_positive_number("background_rms", background_rms, allow_zero=True)
    check_positive_values("exposure_time", exposure_time)
    images = ops.cast(ops.convert_to_tensor(images), "float32")
    n1, n2 = _two_normals(images.shape, seed)
    poisson_rms = ops.sqrt(ops.abs(images) / exposure_time)
    return images + n1 * poisson_rms + n2 * background_rms
