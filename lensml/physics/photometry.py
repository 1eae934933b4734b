"""Photometry without Keras: magnitudes to counts per second, and the background noise rms of an
instrument (lenstronomy's ``SingleBand``). Used by ``lensml.physics.noise`` and by the dataset
families (``lensml.simulation``, which must not import Keras)."""

from __future__ import annotations

import math

from lensml.physics._checks import check_positive_int, check_positive_number

_UNITS = ("e-", "ADU")


def magnitude_to_cps(magnitude, magnitude_zero_point):
    """Counts per second of a source of the given magnitude: 10^(-0.4 (m - zero point))."""
    return 10.0 ** (-0.4 * (magnitude - magnitude_zero_point))


def _check_unit(data_count_unit, ccd_gain):
    if data_count_unit not in _UNITS:
        raise ValueError(f"data_count_unit must be one of {_UNITS}, got {data_count_unit!r}")
    if data_count_unit == "ADU":
        return check_positive_number("ccd_gain", ccd_gain)
    return None


def background_noise_rms(
    *,
    pixel_scale,
    exposure_time,
    sky_brightness,
    magnitude_zero_point,
    read_noise,
    num_exposures=1,
    ccd_gain=None,
    data_count_unit="e-",
):
    """Gaussian background rms per pixel in counts/s (lenstronomy ``SingleBand.background_noise``).

    sigma = sqrt(n read_noise^2 + n t sky_cps s^2) / (n t), with sky_cps the sky brightness
    (mag/arcsec^2) converted with the zero point, s the pixel scale (arcsec), t the exposure
    time per exposure (s) and n the number of exposures; divided by the gain for ADU.
    Returns a Python float.
    """
    pixel_scale = check_positive_number("pixel_scale", pixel_scale)
    exposure_time = check_positive_number("exposure_time", exposure_time)
    read_noise = check_positive_number("read_noise", read_noise, allow_zero=True)
    num_exposures = check_positive_int("num_exposures", num_exposures)
    gain = _check_unit(data_count_unit, ccd_gain)
    total_time = num_exposures * exposure_time
    sky_cps = magnitude_to_cps(float(sky_brightness), float(magnitude_zero_point))
    # the sky per pixel first (the order lensml.simulation's families use: the same bits)
    sigma = math.sqrt(num_exposures * read_noise**2 + total_time * (sky_cps * pixel_scale**2)) / total_time
    return sigma / gain if gain else sigma
