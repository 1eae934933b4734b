"""PSF convolution (vs scipy / lenstronomy) and the LensPINN physics preprocessing."""

import numpy as np
import pytest
from lenstronomy.Data.psf import PSF
from scipy import ndimage

from lensml.physics import (
    PhysicsPreprocessing,
    SobelProduct,
    convolve_gaussian_psf,
    convolve_psf,
    gaussian_psf_kernel,
    physics_preprocessing,
    sobel_product,
)
from lensml.physics.psf import FWHM_TO_SIGMA

from ._helpers import run, to_numpy


@pytest.mark.parametrize("fwhm,scale", [(0.16, 0.101), (0.087, 0.05), (0.08, 0.08)])
def test_gaussian_kernel_matches_lenstronomy(fwhm, scale):
    ref = PSF(psf_type="GAUSSIAN", fwhm=fwhm, pixel_size=scale).kernel_point_source
    kernel = gaussian_psf_kernel(fwhm, scale)
    assert kernel.shape == ref.shape
    np.testing.assert_allclose(kernel, ref, atol=1e-7)


def test_separable_gaussian_matches_lenstronomy_convolution(rng):
    images = rng.random((2, 20, 24, 1)).astype("float32")
    out = to_numpy(run(convolve_gaussian_psf, images, fwhm=0.16, pixel_scale=0.101))
    sigma = 0.16 * FWHM_TO_SIGMA / 0.101
    for b in range(2):
        ref = ndimage.gaussian_filter(images[b, ..., 0].astype(np.float64), sigma, mode="nearest", truncate=5)
        np.testing.assert_allclose(out[b, ..., 0], ref, atol=1e-6)
    zero_padded = to_numpy(run(convolve_gaussian_psf, images, fwhm=0.16, pixel_scale=0.101, mode="constant"))
    ref = ndimage.gaussian_filter(images[0, ..., 0].astype(np.float64), sigma, mode="constant", truncate=5)
    np.testing.assert_allclose(zero_padded[0, ..., 0], ref, atol=1e-6)


@pytest.mark.parametrize("sigma,truncation", [(0.67, 3.0), (1.7, 4.0), (0.2, 5.0)])
def test_gaussian_filter_taps_are_scipys(sigma, truncation):
    from lensml.physics import gaussian_filter_taps

    taps = gaussian_filter_taps(sigma, truncation)
    r = (len(taps) - 1) // 2
    impulse = np.zeros(2 * r + 1 + 2 * r)
    impulse[2 * r] = 1.0
    expected = ndimage.gaussian_filter1d(impulse, sigma, truncate=truncation, mode="constant")[r:3 * r + 1]
    np.testing.assert_allclose(taps, expected, atol=1e-12)  # the whole response: it sums to 1
    with pytest.raises(ValueError, match="sigma_pixels must be finite and > 0"):
        gaussian_filter_taps(0.0)


def test_arbitrary_kernel_convolution(rng):
    images = rng.random((2, 12, 12, 2)).astype("float32")
    kernel = rng.random((5, 3)).astype("float32")
    out = to_numpy(run(convolve_psf, images, kernel))
    for c in range(2):
        ref = ndimage.convolve(images[1, ..., c].astype(np.float64), kernel, mode="constant")
        np.testing.assert_allclose(out[1, ..., c], ref, atol=1e-5)
    with pytest.raises(ValueError, match="kernel"):
        convolve_psf(images, np.ones((4, 4), "float32"))
    with pytest.raises(ValueError, match="images"):
        convolve_psf(images[0], kernel)
    with pytest.raises(ValueError, match="fwhm"):
        convolve_gaussian_psf(images, -0.1, 0.1)


def test_physics_preprocessing_matches_numpy_gradient(rng):
    images = rng.random((2, 10, 12, 1)).astype("float32")
    images[0, 3, 4, 0] = 0.0  # I = 0 stays finite through epsilon
    out = to_numpy(run(PhysicsPreprocessing(epsilon=1e-6), images))
    for b in range(2):
        img = images[b, ..., 0].astype(np.float64)
        d = np.log((img.max() + 1e-6) / (img + 1e-6)) ** 2
        ref = np.abs(np.tanh(np.gradient(np.gradient(d, axis=1), axis=0)))
        np.testing.assert_allclose(out[b, ..., 0], ref, atol=1e-4)
    assert np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match="images"):
        physics_preprocessing(np.zeros((2, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="epsilon"):
        PhysicsPreprocessing(epsilon=0.0)


def test_sobel_product_matches_scipy_and_flips_under_mirrors(rng):
    """D4LensPINN's preprocessing: scipy's Sobel derivatives (zero padding) of the log ratio,
    multiplied and divided by the per-image std; a mirror or a quarter turn flips its sign."""
    images = rng.random((2, 12, 12, 1)).astype("float32")
    images[0, 3, 4, 0] = 0.0
    out = to_numpy(run(SobelProduct(epsilon=1e-6), images))
    for b in range(2):
        img = images[b, ..., 0].astype(np.float64)
        log_ratio = np.log((img.max() + 1e-6) / (img + 1e-6))
        product = (ndimage.sobel(log_ratio, axis=1, mode="constant") * ndimage.sobel(log_ratio, axis=0, mode="constant"))
        np.testing.assert_allclose(out[b, ..., 0], product / product.std(), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1.0, rtol=1e-4)
    mirrored = to_numpy(run(SobelProduct(), images[:, :, ::-1].copy()))
    np.testing.assert_allclose(mirrored, -out[:, :, ::-1], atol=1e-3)
    turned = to_numpy(run(SobelProduct(), np.rot90(images, axes=(1, 2)).copy()))
    # interior pixels (the edges see the zero padding from another side after the turn)
    np.testing.assert_allclose(turned[:, 1:-1, 1:-1], -np.rot90(out, axes=(1, 2))[:, 1:-1, 1:-1], atol=1e-3)
    assert np.all(to_numpy(sobel_product(np.zeros((1, 8, 8, 1), "float32"))) == 0)  # flat image: no NaN
    with pytest.raises(ValueError, match="images"):
        sobel_product(np.zeros((2, 8, 8, 3), "float32"))
