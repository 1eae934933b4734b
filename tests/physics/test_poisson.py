"""PoissonSolver: non-periodic FFT convolution with ln|x| and x/|x|^2 kernels."""

import numpy as np
import pytest

from lensml.physics import SIS, PoissonSolver, pixel_grid_numpy, poisson_solve
from lensml.physics.poisson import _pixel_averaged_kernels

from ._helpers import run, to_numpy


def direct_sum(kappa, pixel_scale):
    """O(N^4) float64 convolution with the same kernels, no FFT."""
    n = kappa.shape[0]
    k_ln, k_x, k_y = _pixel_averaged_kernels(n, n, pixel_scale)
    out = np.zeros((3, n, n))
    for i in range(n):
        for j in range(n):
            # offset (i - i', j - j') indexes the kernel at (i - i' + n - 1, j - j' + n - 1)
            win = (slice(i + n - 1, i - 1 if i > 0 else None, -1), slice(j + n - 1, j - 1 if j > 0 else None, -1))
            for k, kern in enumerate((k_ln, k_x, k_y)):
                out[k, i, j] = np.sum(kappa * kern[win])
    return out * pixel_scale**2 / np.pi


def test_fft_equals_direct_sum_without_wraparound(rng):
    kappa = rng.random((12, 12))
    psi, alpha = run(poisson_solve, kappa[None, ..., None].astype("float32"), pixel_scale=0.1)
    ref = direct_sum(kappa, 0.1)
    np.testing.assert_allclose(to_numpy(psi)[0, ..., 0], ref[0], atol=2e-5 * np.abs(ref[0]).max())
    np.testing.assert_allclose(to_numpy(alpha)[0, ..., 0], ref[1], atol=2e-5 * np.abs(ref[1]).max())
    np.testing.assert_allclose(to_numpy(alpha)[0, ..., 1], ref[2], atol=2e-5 * np.abs(ref[2]).max())


def _sis_kappa_map(num_pix, pixel_scale, theta_E, supersample=8):
    """Pixel-averaged SIS convergence (mass per pixel / pixel area)."""
    xs, ys = pixel_grid_numpy(num_pix * supersample, pixel_scale / supersample)
    kappa = np.asarray(SIS().convergence(xs, ys, theta_E=theta_E))
    return kappa.reshape(num_pix, supersample, num_pix, supersample).mean(axis=(1, 3))


def test_sis_kappa_map_gives_sis_deflection():
    n, s, theta_E = 64, 0.1, 1.2
    kappa = _sis_kappa_map(n, s, theta_E)
    _, alpha = run(PoissonSolver(pixel_scale=s), kappa[None, ..., None].astype("float32"))
    alpha = to_numpy(alpha)[0]
    x, y = pixel_grid_numpy(n, s)
    r = np.hypot(x, y)
    # Away from the (pixelised) centre and from the border, where the field is truncated.
    ring = (r > 0.5) & (r < 1.6)
    err = np.hypot(alpha[..., 0] - theta_E * x / r, alpha[..., 1] - theta_E * y / r)[ring]
    assert err.max() < 0.02 * theta_E
    # radial, pointing outwards, magnitude ~ theta_E
    np.testing.assert_allclose(np.hypot(alpha[..., 0], alpha[..., 1])[ring], theta_E, rtol=0.02)


def test_poisson_equation_laplacian_psi_is_2_kappa():
    n, s = 48, 0.1
    x, y = pixel_grid_numpy(n, s)
    # sigma = 6 pixels: the midpoint-rule error of sampling kappa (s^2 / (12 sigma^2)) stays ~0.2%
    kappa = 0.8 * np.exp(-0.5 * (x**2 + (y - 0.2) ** 2) / 0.6**2)
    psi, alpha = run(poisson_solve, kappa[None, ..., None].astype("float32"), pixel_scale=s)
    psi = to_numpy(psi)[0, ..., 0].astype(np.float64)
    # fourth-order 9-point Laplacian, so the stencil error stays far below the tolerance
    c = psi[2:-2, 2:-2]
    d2x = (-psi[2:-2, 4:] + 16 * psi[2:-2, 3:-1] - 30 * c + 16 * psi[2:-2, 1:-3] - psi[2:-2, :-4])
    d2y = (-psi[4:, 2:-2] + 16 * psi[3:-1, 2:-2] - 30 * c + 16 * psi[1:-3, 2:-2] - psi[:-4, 2:-2])
    lap = (d2x + d2y) / (12 * s**2)
    np.testing.assert_allclose(lap, 2 * kappa[2:-2, 2:-2], atol=0.005 * 2 * kappa.max())
    # alpha = grad psi (central differences)
    alpha = to_numpy(alpha)[0]
    gx = (psi[1:-1, 2:] - psi[1:-1, :-2]) / (2 * s)
    gy = (psi[2:, 1:-1] - psi[:-2, 1:-1]) / (2 * s)
    np.testing.assert_allclose(gx, alpha[1:-1, 1:-1, 0], atol=0.01 * np.abs(alpha).max())
    np.testing.assert_allclose(gy, alpha[1:-1, 1:-1, 1], atol=0.01 * np.abs(alpha).max())


def test_bad_inputs():
    with pytest.raises(ValueError, match="pixel_scale"):
        PoissonSolver(pixel_scale=-1.0)
    with pytest.raises(ValueError, match="pad_factor"):
        PoissonSolver(pixel_scale=0.1, pad_factor=1.5)
    with pytest.raises(ValueError, match="kappa"):
        PoissonSolver(pixel_scale=0.1)(np.zeros((2, 8, 8, 2), "float32"))
    with pytest.raises(ValueError, match="kappa"):
        poisson_solve(np.zeros((8, 8, 1), "float32"), 0.1)
