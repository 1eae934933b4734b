"""Batched simulator: a batch of lenses rendered in one call with keras.ops (lensml.physics),
on TensorFlow or JAX, CPU or GPU, inside a compiled graph.

It renders exactly what the reference simulator (lenstronomy) renders for the same
parameters: SIE + SHEAR + the class's substructure components (the profiles its sampler names,
``lensml.simulation.scene``: point masses, truncated NFW halos, ...) ray-traced on the
(supersampled) pixel grid, the elliptical Sersic source (plus the lens galaxy's Sersic for a
family with lens light), the supersampled pixels averaged,
lenstronomy's Gaussian PSF with its 'nearest' border, then noise with the same variance.

Speed (benchmarks/bench_simulation.py):
- subhalo deflections are summed in an unrolled loop over subhalos (not broadcast over a
  subhalo axis), which XLA fuses with the source into one pass per pixel;
- supersampling is a loop over the ss^2 sub-pixel offsets, each rendering a grid the size
  of the image and adding it to the mean: on the whole supersampled grid XLA split that pass
  into one array per subhalo (4 MB each), 10x slower at supersampling 4;
- the PSF's 'nearest' border is rendered, not padded: the grid carries the PSF radius r
  more pixels on each side whose positions repeat the edge pixels', so the rendered border
  is the edge-replicated image and the blur is 2r+1 shifted views summed (padding the
  image with copies of its edges cost 5x more than the blur itself); rows are rendered a
  multiple of 8 pixels wide (the CPU's vector width);
- the macro-lens of a family is not random, so its deflection field is computed once; the
  axion vortex (point masses on a line through the centre) is summed in its line's frame
  (``lensml.physics.mass.axion.collinear_point_mass_deflection``, the fast path of the
  profiles' module, which ``AXION_VORTEX`` sums the same way).

Wrap ``render``/``simulate`` in the backend's compiler for speed (``jax.jit``, or
``tf.function(jit_compile=True)``); lensml.data.stream and benchmarks/bench_simulation.py do.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from lensml.physics import PROFILES, LightModel, MassModel, gaussian_filter_taps, subpixel_grids
from lensml.physics.mass.axion import collinear_point_mass_deflection
from lensml.simulation.families import Family, get_family
from lensml.simulation.scene import component_profile

#: Parameters the renderer reads besides the substructure's ``sub_*`` keys (see
#: lensml.simulation.priors.sample_parameters).
PARAMETER_KEYS = (
    "theta_E", "lens_e1", "lens_e2", "gamma1", "gamma2", "source_x", "source_y", "source_amp",
    "source_r_sersic", "source_n_sersic", "source_e1", "source_e2", "exposure_time",
)
_MACRO_KEYS = ("theta_E", "lens_e1", "lens_e2", "gamma1", "gamma2")
#: The lens galaxy's Sersic (a family with ``lens_light``): lenstronomy keyword -> parameter key.
LENS_LIGHT_KEYS = {"amp": "lens_light_amp", "R_sersic": "lens_light_r_sersic", "n_sersic": "lens_light_n_sersic",
                   "e1": "lens_light_e1", "e2": "lens_light_e2"}


def _blur_valid(image, taps, axis: int, size: int):
    """Weighted sum of the len(taps) shifted views of ``image`` (B, H, W) along ``axis`` (1 or
    2): the first ``size`` values of the 'valid' part of the 1-D convolution."""
    out = None
    for j, w in enumerate(taps):
        view = image[:, j:j + size, :] if axis == 1 else image[:, :, j:j + size]
        out = float(w) * view if out is None else out + float(w) * view
    return out


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
        self._macro = MassModel(["SIE", "SHEAR"])
        self._light = LightModel(["SERSIC_ELLIPSE"])
        self._taps = gaussian_filter_taps(inst.psf_sigma_pixels, inst.psf_truncation) if inst.psf_fwhm > 0 else None
        border = 0 if self._taps is None else inst.psf_radius_pixels
        # (ss^2, H + 2 border, width): see subpixel_grids and the module docstring. XLA's CPU
        # loops run 8 floats (AVX2) at a time: rows of 70 rendered 1.5x slower than rows of 72.
        width = -(-(inst.num_pix + 2 * border) // 8) * 8
        self._x, self._y = subpixel_grids(inst.num_pix, inst.pixel_scale, self.supersampling, border, width)
        fam = self.family
        gamma1, gamma2 = fam.shear
        self._macro_values = {"theta_E": fam.theta_E, "lens_e1": fam.lens.e1, "lens_e2": fam.lens.e2,
                              "gamma1": gamma1, "gamma2": gamma2}
        ax, ay = self._macro.deflection(self._x, self._y, [
            {"theta_E": fam.theta_E, "e1": fam.lens.e1, "e2": fam.lens.e2},
            {"gamma1": gamma1, "gamma2": gamma2},
        ])
        self._macro_alpha = (np.asarray(ops.convert_to_numpy(ax), np.float32),
                             np.asarray(ops.convert_to_numpy(ay), np.float32))
        self.background_sigma = float(self.family.noise.background_sigma(inst.pixel_scale))

    def select(self, params: dict) -> dict:
        """The renderer's parameters as float32 numpy arrays (what a compiled function takes).
        Macro-lens values equal to the family's are dropped (its precomputed deflection is
        used); ``vortex_angle`` is kept for axion batches (the vortex is then evaluated in the
        frame of its line)."""
        light_keys = list(LENS_LIGHT_KEYS.values()) if self.family.lens_light is not None else []
        missing = [k for k in PARAMETER_KEYS + tuple(light_keys) if k not in params]
        if not any(str(k).startswith("sub_") for k in params):
            missing.append("the substructure's sub_* keys (e.g. sub_theta_E, sub_x, sub_y)")
        if missing:
            raise ValueError(f"params is missing {missing}; expected the keys of sample_parameters()")
        keys = list(PARAMETER_KEYS) + list(component_profile(self.family, params)[1].values())
        keys += light_keys
        if all(np.all(np.asarray(params[k]) == v) for k, v in self._macro_values.items()):
            keys = [k for k in keys if k not in _MACRO_KEYS]
        angle = np.asarray(params.get("vortex_angle", np.nan))
        if "sub_theta_E" in params and np.asarray(params["sub_theta_E"]).shape[1] and np.all(np.isfinite(angle)):
            keys.append("vortex_angle")
        return {k: np.asarray(params[k], np.float32) for k in keys}

    def tensors(self, params: dict) -> dict:
        """``select(params)`` as backend tensors."""
        return {k: ops.convert_to_tensor(v) for k, v in self.select(params).items()}

    @property
    def draws_noise(self) -> bool:
        """Whether ``simulate`` uses its noise argument (the published Models II/III store no noise)."""
        return self.family.image_recipe != "twice_model"

    def render(self, params: dict):
        """Noise-free images (B, H, W, 1) float32 of a parameter batch (numpy or tensors,
        as from ``sample_parameters``; one class per call: sub_* have a static K)."""
        p = params if all(not isinstance(v, np.ndarray) for v in params.values()) else self.tensors(params)
        grids = [ops.convert_to_tensor(g) for g in (self._x, self._y, *self._macro_alpha)]
        num_offsets = self._x.shape[0]
        if num_offsets == 1:
            total = self._brightness(p, *(g[0:1] for g in grids))
        else:
            # A loop, not one pass over the whole supersampled grid (see the module docstring).
            def add_offset(i, total):
                return total + self._brightness(p, *(ops.expand_dims(ops.take(g, i, axis=0), 0) for g in grids))

            total = ops.fori_loop(1, num_offsets, add_offset, self._brightness(p, *(g[0:1] for g in grids)))
        inst = self.family.instrument
        # lenstronomy's images are the mean surface brightness times the pixel area (flux per pixel).
        image = total * (inst.pixel_scale**2 / num_offsets)
        n = inst.num_pix
        if self._taps is None:
            image = image[:, :, :n]
        else:
            # The border pixels hold the edge-replicated image: the 'valid' blur is the whole image.
            image = _blur_valid(_blur_valid(image, self._taps, 1, n), self._taps, 2, n)
        return image[..., None]

    def _brightness(self, p: dict, x, y, macro_ax, macro_ay):
        """Lensed source surface brightness (B, H', W') at image-plane positions x, y (1, H', W')
        arcsec, with the family's macro deflection there (used unless ``p`` has its own macro-lens)."""
        col = lambda v: ops.reshape(ops.cast(v, "float32"), (-1, 1, 1))  # noqa: E731
        if "theta_E" in p:
            ax, ay = self._macro.deflection(x, y, [
                {"theta_E": col(p["theta_E"]), "e1": col(p["lens_e1"]), "e2": col(p["lens_e2"])},
                {"gamma1": col(p["gamma1"]), "gamma2": col(p["gamma2"])},
            ])
        else:
            ax, ay = macro_ax, macro_ay
        name, keys = component_profile(self.family, p)
        num_sub = p[next(iter(keys.values()))].shape[1]
        if "vortex_angle" in p and num_sub:  # point masses on a line: evaluated in its frame
            dx, dy = self._line_deflection(x, y, p)
            ax, ay = ax + dx, ay + dy
        else:
            profile = PROFILES[name]()
            for k in range(num_sub):  # unrolled: XLA fuses the components with the source
                dx, dy = profile.deflection(x, y, **{kw: col(p[key][:, k]) for kw, key in keys.items()})
                ax, ay = ax + dx, ay + dy
        brightness = self._light.surface_brightness(x - ax, y - ay, [{
            "amp": col(p["source_amp"]), "R_sersic": col(p["source_r_sersic"]),
            "n_sersic": col(p["source_n_sersic"]), "e1": col(p["source_e1"]),
            "e2": col(p["source_e2"]), "center_x": col(p["source_x"]), "center_y": col(p["source_y"]),
        }])
        if "lens_light_amp" in p:  # the lens galaxy, not lensed, centred
            brightness = brightness + self._light.surface_brightness(x, y, [{
                kw: col(p[key]) for kw, key in LENS_LIGHT_KEYS.items()}])
        return brightness

    @staticmethod
    def _line_deflection(x, y, p):
        """The point masses of an axion batch, on a line through the origin at ``vortex_angle``:
        ``collinear_point_mass_deflection`` (summed in the line's frame), each mass at its
        distance t_k = (sub_x, sub_y) . (cos, sin) along the line."""
        col = lambda v: ops.reshape(v, (-1, 1, 1))  # noqa: E731
        angle = p["vortex_angle"]
        t = p["sub_x"] * ops.reshape(ops.cos(angle), (-1, 1)) + p["sub_y"] * ops.reshape(ops.sin(angle), (-1, 1))
        k = p["sub_theta_E"].shape[1]
        return collinear_point_mass_deflection(x, y, col(angle), [col(t[:, i]) for i in range(k)],
                                               [col(p["sub_theta_E"][:, i]) for i in range(k)])

    def add_noise(self, model, exposure_time, normal):
        """model + noise of variance max(model, 0) / T + sigma_bkg^2 (the reference's).

        model: (B, H, W, 1); exposure_time: (B,) seconds; normal: (B, H, W, 1) standard
        normal draws (drawn by the caller from a numpy Generator, so the noise is seeded the
        same way on every backend and inside compiled functions)."""
        from lensml.simulation.noise import noise_sigma

        t = ops.reshape(ops.cast(exposure_time, "float32"), (-1, 1, 1, 1))
        return model + noise_sigma(model, t, self.background_sigma, xp=ops) * ops.cast(normal, "float32")

    def standard_normal(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """(B, H, W, 1) float32 standard normal draws for ``add_noise``."""
        n = self.family.instrument.num_pix
        return rng.standard_normal((batch_size, n, n, 1), dtype=np.float32)

    def simulate(self, params: dict, noise=None):
        """(image, model): the stored image as the family makes it (``image_recipe``) and the
        noise-free model, (B, H, W, 1) float32.

        noise: None (no noise: the expected image), a numpy Generator, or (B, H, W, 1)
        standard normals. "model+noise": model + noise; "twice_model": 2 model (noise is
        ignored, as the public simulator drew none); "poisson_counts": the counts' Poisson
        mean max(T (model + noise), 0), which ``poisson_counts`` turns into counts on the host
        (keras.ops has no Poisson sampler; with a Generator here that is done already)."""
        p = self.tensors(params) if any(isinstance(v, np.ndarray) for v in params.values()) else params
        model = self.render(p)
        recipe = self.family.image_recipe
        if recipe == "twice_model":
            return 2.0 * model, model
        if noise is None:
            if recipe == "poisson_counts":
                return model * ops.reshape(ops.cast(p["exposure_time"], "float32"), (-1, 1, 1, 1)), model
            return model, model
        generator = noise if isinstance(noise, np.random.Generator) else None
        if generator is not None:
            noise = self.standard_normal(model.shape[0], generator)
        image = self.add_noise(model, p["exposure_time"], noise)
        if recipe == "poisson_counts":
            t = ops.reshape(ops.cast(p["exposure_time"], "float32"), (-1, 1, 1, 1))
            image = ops.maximum(image * t, 0.0)
            if generator is not None:
                image = ops.convert_to_tensor(self.poisson_counts(image, generator))
        return image, model

    def poisson_counts(self, mean, rng: np.random.Generator) -> np.ndarray:
        """Poisson counts (float32 numpy) of the Poisson ``mean`` (B, H, W, 1) from
        ``simulate`` of a "poisson_counts" family; ``mean`` itself for other recipes."""
        mean = np.asarray(ops.convert_to_numpy(mean))
        if self.family.image_recipe != "poisson_counts":
            return mean
        return rng.poisson(np.maximum(mean, 0.0)).astype(np.float32)
