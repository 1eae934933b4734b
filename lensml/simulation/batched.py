"""Batched simulator: a batch of lenses rendered in one call with keras.ops (lensml.physics),
on TensorFlow or JAX, CPU or GPU, inside a compiled graph.

It renders exactly what the reference simulator (lenstronomy) renders for the same
parameters: SIE + SHEAR + point masses ray-traced on the (supersampled) pixel grid, the
elliptical Sersic source, the supersampled pixels averaged, lenstronomy's Gaussian PSF
with its 'nearest' border as two matrix multiplies, then noise with the same variance.

Subhalo deflections are summed in a loop over subhalos (not broadcast over a subhalo
axis): as fast, and the memory stays that of one image batch (DESIGN section 6).

Wrap ``render``/``simulate`` in the backend's compiler for speed (``jax.jit``, or
``tf.function(jit_compile=True)``); lensml.data.stream and benchmarks/bench_simulation.py do.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from lensml.physics import LightModel, MassModel, PointMass, pixel_grid_numpy
from lensml.physics.psf import gaussian_filter_matrix
from lensml.simulation.families import Family, get_family

#: Parameters the renderer reads (see lensml.simulation.priors.sample_parameters).
PARAMETER_KEYS = (
    "theta_E", "lens_e1", "lens_e2", "gamma1", "gamma2", "source_x", "source_y", "source_amp",
    "source_r_sersic", "source_n_sersic", "source_e1", "source_e2", "exposure_time",
    "sub_theta_E", "sub_x", "sub_y",
)


class BatchedSimulator:
    """Render batches of one family's lenses in keras.ops.

    Args:
      family: a family name or ``Family``.
      supersampling: override of ``family.supersampling``.

    Images are (B, H, W, 1) float32 in counts/s per pixel, like the reference simulator.
    """

    def __init__(self, family: str | Family, supersampling: int | None = None):
        self.family = get_family(family)
        self.supersampling = self.family.supersampling if supersampling is None else supersampling
        if not isinstance(self.supersampling, int) or isinstance(self.supersampling, bool) or self.supersampling < 1:
            raise ValueError(f"supersampling must be a positive int, got {self.supersampling!r}")
        inst = self.family.instrument
        ss = self.supersampling
        x, y = pixel_grid_numpy(inst.num_pix * ss, inst.pixel_scale / ss)
        self._x, self._y = x[None], y[None]
        self._macro = MassModel(["SIE", "SHEAR"])
        self._point = PointMass()
        self._light = LightModel(["SERSIC_ELLIPSE"])
        if inst.psf_fwhm > 0:
            self._psf = gaussian_filter_matrix(inst.num_pix, inst.psf_sigma_pixels, inst.psf_truncation, "nearest")
        else:
            self._psf = None
        self.background_sigma = float(self.family.noise.background_sigma(inst.pixel_scale))

    @staticmethod
    def tensors(params: dict) -> dict:
        """The renderer's parameters as float32 tensors (drops what it does not read)."""
        missing = [k for k in PARAMETER_KEYS if k not in params]
        if missing:
            raise ValueError(f"params is missing {missing}; expected the keys of sample_parameters()")
        return {k: ops.convert_to_tensor(np.asarray(params[k], np.float32)) for k in PARAMETER_KEYS}

    def render(self, params: dict):
        """Noise-free images (B, H, W, 1) float32 of a parameter batch (numpy or tensors,
        as from ``sample_parameters``; one class per call: sub_* have a static K)."""
        p = params if all(not isinstance(v, np.ndarray) for v in params.values()) else self.tensors(params)
        col = lambda v: ops.reshape(ops.cast(v, "float32"), (-1, 1, 1))  # noqa: E731
        x = ops.convert_to_tensor(self._x)
        y = ops.convert_to_tensor(self._y)
        ax, ay = self._macro.deflection(x, y, [
            {"theta_E": col(p["theta_E"]), "e1": col(p["lens_e1"]), "e2": col(p["lens_e2"])},
            {"gamma1": col(p["gamma1"]), "gamma2": col(p["gamma2"])},
        ])
        num_sub = p["sub_theta_E"].shape[1]
        for k in range(num_sub):
            dx, dy = self._point.deflection(
                x, y, theta_E=col(p["sub_theta_E"][:, k]), center_x=col(p["sub_x"][:, k]),
                center_y=col(p["sub_y"][:, k]),
            )
            ax, ay = ax + dx, ay + dy
        brightness = self._light.surface_brightness(x - ax, y - ay, [{
            "amp": col(p["source_amp"]), "R_sersic": col(p["source_r_sersic"]),
            "n_sersic": col(p["source_n_sersic"]), "e1": col(p["source_e1"]),
            "e2": col(p["source_e2"]), "center_x": col(p["source_x"]), "center_y": col(p["source_y"]),
        }])
        inst = self.family.instrument
        n, ss = inst.num_pix, self.supersampling
        if ss > 1:
            brightness = ops.mean(ops.reshape(brightness, (-1, n, ss, n, ss)), axis=(2, 4))
        # lenstronomy's images are surface brightness times the pixel area (flux per pixel).
        image = brightness * (inst.pixel_scale**2)
        if self._psf is not None:
            m = ops.convert_to_tensor(self._psf)
            image = ops.matmul(ops.matmul(m, image), ops.transpose(m))
        return image[..., None]

    def add_noise(self, model, exposure_time, seed):
        """model + Gaussian noise of variance max(model, 0) / T + sigma_bkg^2 (the reference's).

        model: (B, H, W, 1); exposure_time: (B,) seconds; seed: int or (2,) int tensor."""
        import keras

        t = ops.reshape(ops.cast(exposure_time, "float32"), (-1, 1, 1, 1))
        sigma = ops.sqrt(ops.maximum(model, 0.0) / t + self.background_sigma**2)
        return model + sigma * keras.random.normal(ops.shape(model), seed=seed, dtype="float32")

    def simulate(self, params: dict, seed=None):
        """(image, model): noisy and noise-free images (B, H, W, 1) float32. ``seed`` None: no noise."""
        p = self.tensors(params) if any(isinstance(v, np.ndarray) for v in params.values()) else params
        model = self.render(p)
        if seed is None:
            return model, model
        return self.add_noise(model, p["exposure_time"], seed), model
