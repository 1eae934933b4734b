"""Observational noise for the reference simulator (numpy); the batched simulator uses the same
``noise_sigma`` in keras.ops.

Both noise kinds are lenstronomy's Gaussian approximations (``image_util.add_poisson`` +
``add_background`` for Model I, ``SingleBand.noise_for_model`` for Models II/III): per pixel
the variance is ``max(model, 0) / T + sigma_bkg^2``, T the (total) exposure time. The two
independent Gaussians are drawn as one with the summed variance.

The realistic families fix the public simulator's defects: the image is model + noise
(Models II/III stored model + model), and Model I's counts are not Poisson-sampled a second
time. ``observe`` also makes the published-compatible images (``Family.image_recipe``).
"""

from __future__ import annotations

import numpy as np


def noise_sigma(model, exposure_time, background_sigma: float, xp=np):
    """Per-pixel noise rms sqrt(max(model, 0) / T + sigma_bkg^2). model: (..., H, W) noise-free
    image (image units = counts/s); exposure_time T: seconds, scalar or broadcasting against
    model. ``xp``: numpy (the reference) or ``keras.ops`` (the batched simulator), same formula."""
    return xp.sqrt(xp.maximum(model, 0.0) / exposure_time + background_sigma**2)


def add_noise(model: np.ndarray, exposure_time, background_sigma: float, rng: np.random.Generator) -> np.ndarray:
    """model + one draw of the noise. model: (..., H, W) float; returns float64 of the same shape."""
    z = rng.standard_normal(np.shape(model))
    return model + z * noise_sigma(model, exposure_time, background_sigma)


def observe(model: np.ndarray, recipe: str, exposure_time, background_sigma: float,
            rng: np.random.Generator | None) -> np.ndarray:
    """The stored image of a noise-free ``model`` (..., H, W) (counts/s per pixel) under a
    family's ``image_recipe`` (lensml.simulation.families.IMAGE_RECIPES); float64, same shape.

    - "model+noise": ``model + noise`` (``add_noise``);
    - "twice_model": ``model + model`` (the public Models II/III; no noise is drawn);
    - "poisson_counts": ``Poisson(max(T (model + noise), 0))`` counts (the public Model I's
      ``image_util.add_poisson`` + ``add_background`` then ``np.random.poisson``), T in s.
    ``rng`` None gives the expected image without noise: model, 2 model, or T model.
    """
    if recipe == "twice_model":
        return 2.0 * np.asarray(model, np.float64)
    if recipe == "model+noise":
        return np.array(model, np.float64) if rng is None else add_noise(model, exposure_time, background_sigma, rng)
    if recipe == "poisson_counts":
        if rng is None:
            return exposure_time * np.asarray(model, np.float64)
        noisy = add_noise(model, exposure_time, background_sigma, rng)
        return rng.poisson(np.maximum(exposure_time * noisy, 0.0)).astype(np.float64)
    raise ValueError(f"recipe must be one of 'model+noise', 'twice_model', 'poisson_counts', got {recipe!r}")


def snr(model: np.ndarray, exposure_time, background_sigma: float, threshold: float = 0.0) -> float:
    """Signal-to-noise of a noise-free image: sqrt(sum over pixels of (model / sigma)^2)
    over pixels where model > threshold * max(model), i.e. the SNR of a matched filter.
    (The public Model I's "SNR ~ 25" is quoted for its own data; see ``peak_snr`` too.)"""
    sigma = noise_sigma(model, exposure_time, background_sigma)
    mask = model > threshold * np.max(model)
    return float(np.sqrt(np.sum((model[mask] / sigma[mask]) ** 2)))


def peak_snr(model: np.ndarray, exposure_time, background_sigma: float) -> float:
    """Peak pixel signal over the noise rms at that pixel."""
    sigma = noise_sigma(model, exposure_time, background_sigma)
    i = np.unravel_index(np.argmax(model), np.shape(model))
    return float(model[i] / sigma[i])
