"""Poisson solver: convergence map -> lensing potential and deflection (arcsec).

psi(theta) = (1/pi) int kappa(theta') ln|theta - theta'| d^2theta' and
alpha(theta) = (1/pi) int kappa(theta') (theta - theta') / |theta - theta'|^2 d^2theta',
evaluated as discrete convolutions of the pixelised kappa with the kernels ln|x| and
x/|x|^2. The convolution is done by FFT on a grid zero-padded to at least 2N - 1 pixels,
which makes it a linear (non-periodic) convolution: mass never wraps around the border.
The kernels are pixel-averaged (integrated over each pixel with a sub-pixel quadrature),
so the singular centre contributes its finite mean value.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from lensml.physics._checks import check_positive_number, check_shape

# Sub-pixel samples per axis used to pixel-average the kernels near the origin.
_KERNEL_SUBSAMPLES = 16
# Offsets (in pixels) beyond which the point value of the kernel is used.
_KERNEL_AVERAGE_RADIUS = 4


def _pixel_averaged_kernels(ny, nx, pixel_scale):
    """ln|x|, x/|x|^2, y/|x|^2 kernels on offsets (-ny+1..ny-1, -nx+1..nx-1), pixel-averaged near 0.

    Returns float64 arrays of shape (2 ny - 1, 2 nx - 1); arcsec units.
    """
    oy = np.arange(-(ny - 1), ny, dtype=np.float64)
    ox = np.arange(-(nx - 1), nx, dtype=np.float64)
    dy, dx = np.meshgrid(oy, ox, indexing="ij")
    r2 = dx**2 + dy**2
    with np.errstate(divide="ignore", invalid="ignore"):
        k_ln = 0.5 * np.log(r2) + math.log(pixel_scale)
        k_x = dx / r2 / pixel_scale
        k_y = dy / r2 / pixel_scale
    # Midpoint sub-samples of a unit pixel, never hitting the origin.
    sub = (np.arange(_KERNEL_SUBSAMPLES) + 0.5) / _KERNEL_SUBSAMPLES - 0.5
    sy, sx = np.meshgrid(sub, sub, indexing="ij")
    near = np.argwhere((np.abs(dx) <= _KERNEL_AVERAGE_RADIUS) & (np.abs(dy) <= _KERNEL_AVERAGE_RADIUS))
    for i, j in near:
        px = dx[i, j] + sx
        py = dy[i, j] + sy
        pr2 = px**2 + py**2
        k_ln[i, j] = np.mean(0.5 * np.log(pr2)) + math.log(pixel_scale)
        k_x[i, j] = np.mean(px / pr2) / pixel_scale
        k_y[i, j] = np.mean(py / pr2) / pixel_scale
    # The (antisymmetric) deflection kernels average to exactly 0 over the central pixel.
    k_x[ny - 1, nx - 1] = 0.0
    k_y[ny - 1, nx - 1] = 0.0
    return k_ln, k_x, k_y


def _kernel_spectra(ny, nx, pixel_scale, pad_y, pad_x):
    """FFTs of the three kernels laid out for a circular convolution of size (pad_y, pad_x).

    The convolution sum over pixels carries the pixel area s^2 and the 1/pi prefactor.
    Returns a float32 array (3, 2, pad_y, pad_x): kernel, real/imaginary, frequencies.
    """
    kernels = _pixel_averaged_kernels(ny, nx, pixel_scale)
    factor = pixel_scale**2 / math.pi
    out = np.zeros((3, 2, pad_y, pad_x), dtype=np.float32)
    oy = np.arange(-(ny - 1), ny) % pad_y
    ox = np.arange(-(nx - 1), nx) % pad_x
    for k, kernel in enumerate(kernels):
        wrapped = np.zeros((pad_y, pad_x), dtype=np.float64)
        wrapped[np.ix_(oy, ox)] = kernel * factor
        spectrum = np.fft.fft2(wrapped)
        out[k, 0] = spectrum.real
        out[k, 1] = spectrum.imag
    return out


def _padded_size(n, pad_factor):
    return max(int(math.ceil(pad_factor * n)), 2 * n - 1)


def _check_pad_factor(pad_factor):
    pad_factor = check_positive_number("pad_factor", pad_factor)
    if pad_factor < 2:
        raise ValueError(
            f"pad_factor must be >= 2 so the FFT convolution does not wrap around, got {pad_factor!r}"
        )
    return pad_factor


def _solve(kappa, spectra, pad_y, pad_x):
    """Convolve kappa (B, H, W) with the three kernel spectra; returns psi, alpha_x, alpha_y (B, H, W)."""
    height, width = kappa.shape[1], kappa.shape[2]
    padded = ops.pad(kappa, ((0, 0), (0, pad_y - height), (0, pad_x - width)))
    real, imag = ops.fft2((padded, ops.zeros_like(padded)))
    outputs = []
    for k in range(3):
        kr = ops.convert_to_tensor(spectra[k, 0])
        ki = ops.convert_to_tensor(spectra[k, 1])
        prod_r = real * kr - imag * ki
        prod_i = real * ki + imag * kr
        out_r, _ = ops.ifft2((prod_r, prod_i))
        outputs.append(out_r[:, :height, :width])
    return outputs


def poisson_solve(kappa, pixel_scale, pad_factor=2):
    """Potential and deflection of a convergence map, without periodic wrap-around.

    Args:
        kappa: (batch, height, width, 1) float32 convergence on the lensml pixel grid (docs/conventions.md).
        pixel_scale: pixel size in arcsec (> 0).
        pad_factor: FFT grid size as a multiple of the image size (>= 2).

    Returns:
        ``(psi, alpha)``: psi (batch, height, width, 1) in arcsec^2 (up to a constant),
        alpha (batch, height, width, 2) = (alpha_x, alpha_y) in arcsec.
    """
    pixel_scale = check_positive_number("pixel_scale", pixel_scale)
    pad_factor = _check_pad_factor(pad_factor)
    kappa = ops.convert_to_tensor(kappa)
    check_shape("kappa", kappa.shape, rank=4, channels=1, what="(batch, height, width, 1)")
    height, width = kappa.shape[1], kappa.shape[2]
    if height is None or width is None:
        raise ValueError(f"kappa must have static height and width, got shape {tuple(kappa.shape)}")
    pad_y, pad_x = _padded_size(height, pad_factor), _padded_size(width, pad_factor)
    spectra = _kernel_spectra(height, width, pixel_scale, pad_y, pad_x)
    psi, ax, ay = _solve(ops.cast(kappa[..., 0], "float32"), spectra, pad_y, pad_x)
    return psi[..., None], ops.stack([ax, ay], axis=-1)


@keras.saving.register_keras_serializable(package="lensml")
class PoissonSolver(keras.layers.Layer):
    """Keras layer: kappa (batch, H, W, 1) -> (psi (batch, H, W, 1), alpha (batch, H, W, 2)).

    Args:
        pixel_scale: pixel size in arcsec (> 0).
        pad_factor: zero-padded FFT size as a multiple of H and W (>= 2, no wrap-around).

    psi is in arcsec^2 (defined up to an additive constant), alpha in arcsec. The kernel
    spectra are computed once per input size (numpy, at build time). Runs in float32.

    Example:

    ```python
    import numpy as np
    from lensml.physics import PoissonSolver

    kappa = np.random.rand(2, 64, 64, 1).astype("float32")
    psi, alpha = PoissonSolver(pixel_scale=0.101)(kappa)  # (2, 64, 64, 1) arcsec^2, (2, 64, 64, 2) arcsec
    ```
    """

    def __init__(self, pixel_scale, pad_factor=2, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.pixel_scale = check_positive_number("pixel_scale", pixel_scale)
        self.pad_factor = _check_pad_factor(pad_factor)
        self._spectra = None

    def build(self, input_shape):
        check_shape("kappa", input_shape, rank=4, channels=1, what="(batch, height, width, 1)")
        height, width = input_shape[1], input_shape[2]
        if height is None or width is None:
            raise ValueError(f"kappa must have static height and width, got shape {tuple(input_shape)}")
        self._pad = (_padded_size(height, self.pad_factor), _padded_size(width, self.pad_factor))
        self._spectra = _kernel_spectra(height, width, self.pixel_scale, *self._pad)
        self._size = (height, width)
        super().build(input_shape)

    def call(self, kappa):
        kappa = ops.cast(kappa, self.compute_dtype)  # integer maps too, as the other physics layers
        if tuple(kappa.shape[1:3]) != self._size:
            raise ValueError(
                f"{self.name} was built for {self._size} maps, got kappa of shape {tuple(kappa.shape)}"
            )
        psi, ax, ay = _solve(kappa[..., 0], self._spectra, *self._pad)
        return psi[..., None], ops.stack([ax, ay], axis=-1)

    def compute_output_shape(self, input_shape):
        check_shape("kappa", input_shape, rank=4, channels=1, what="(batch, height, width, 1)")
        batch, height, width, _ = input_shape
        return (batch, height, width, 1), (batch, height, width, 2)

    def get_config(self):
        config = super().get_config()
        config.update(pixel_scale=self.pixel_scale, pad_factor=self.pad_factor)
        return config
