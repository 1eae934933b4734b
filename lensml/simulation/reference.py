"""Reference simulator on lenstronomy: the source of truth for every family.

The lens of an example is the family's SIE + SHEAR and its class's substructure components,
named as lenstronomy profiles by the class's sampler (``lensml.simulation.scene``); the light is
the lensed Sersic source plus, for a family with one, the lens galaxy's Sersic. lenstronomy
objects (``ImageModel``, ``LensModel``) depend only on that list of names, so they are built once
per (family, supersampling, names) and reused across examples.
"""

from __future__ import annotations

import functools

import numpy as np

from lensml.simulation.families import Family, get_family
from lensml.simulation.noise import observe


class ReferenceSimulator:
    """Render a family's lenses with lenstronomy.

    Args:
      family: a family name or ``Family``.
      supersampling: override of ``family.supersampling`` (lenstronomy supersampling_factor).
    """

    def __init__(self, family: str | Family, supersampling: int | None = None):
        self.family = get_family(family)
        self.supersampling = self.family.supersampling if supersampling is None else supersampling
        if not isinstance(self.supersampling, int) or self.supersampling < 1:
            raise ValueError(f"supersampling must be a positive int, got {self.supersampling!r}")
        self._image_models = {}
        inst = self.family.instrument
        from lenstronomy.Util import util

        x, y = util.make_grid(inst.num_pix, inst.pixel_scale)
        self._x, self._y = x, y

    def _image_model(self, names: tuple):
        """(ImageModel, LensModel) of the lens profiles ``names`` (SIE, SHEAR, substructure)."""
        if names not in self._image_models:
            from lenstronomy.Data.imaging_data import ImageData
            from lenstronomy.Data.psf import PSF
            from lenstronomy.ImSim.image_model import ImageModel
            from lenstronomy.LensModel.lens_model import LensModel
            from lenstronomy.LightModel.light_model import LightModel
            from lenstronomy.Util import util

            inst = self.family.instrument
            _, _, ra0, dec0, _, _, pix2coord, _ = util.make_grid_with_coordtransform(
                inst.num_pix, inst.pixel_scale, subgrid_res=1, center_ra=0, center_dec=0, inverse=False
            )
            data = ImageData(
                image_data=np.zeros((inst.num_pix, inst.num_pix)), ra_at_xy_0=ra0,
                dec_at_xy_0=dec0, transform_pix2angle=pix2coord,
            )
            if inst.psf_fwhm > 0:
                psf = PSF(psf_type="GAUSSIAN", fwhm=inst.psf_fwhm, pixel_size=inst.pixel_scale,
                          truncation=inst.psf_truncation)
            else:
                psf = PSF(psf_type="NONE")
            lens_model = LensModel(list(names))
            self._image_models[names] = (
                ImageModel(
                    data, psf, lens_model_class=lens_model,
                    source_model_class=LightModel(["SERSIC_ELLIPSE"]),
                    lens_light_model_class=LightModel(["SERSIC_ELLIPSE"] if self.family.lens_light else []),
                    kwargs_numerics={"supersampling_factor": self.supersampling,
                                     "supersampling_convolution": False},
                ),
                lens_model,
            )
        return self._image_models[names]

    def lens_profiles(self, params: dict, i: int = 0) -> tuple[tuple, list]:
        """(names, kwargs_lens) of example ``i`` of a parameter batch, lenstronomy's."""
        from lensml.simulation.scene import component_profile

        profile, keys = component_profile(self.family, params)
        kwargs_lens = [
            {"theta_E": float(params["theta_E"][i]), "e1": float(params["lens_e1"][i]),
             "e2": float(params["lens_e2"][i]), "center_x": 0.0, "center_y": 0.0},
            {"gamma1": float(params["gamma1"][i]), "gamma2": float(params["gamma2"][i]),
             "ra_0": 0.0, "dec_0": 0.0},
        ]
        num_sub = np.asarray(params[next(iter(keys.values()))]).shape[1]
        kwargs_lens += [{kw: float(params[key][i][j]) for kw, key in keys.items()} for j in range(num_sub)]
        return ("SIE", "SHEAR") + (profile,) * num_sub, kwargs_lens

    def lens_light_kwargs(self, params: dict, i: int = 0) -> list:
        """lenstronomy's kwargs_lens_light of example ``i``: the centred Sersic of a family with
        lens light, else none."""
        if self.family.lens_light is None:
            return []
        keys = {"amp": "lens_light_amp", "R_sersic": "lens_light_r_sersic", "n_sersic": "lens_light_n_sersic",
                "e1": "lens_light_e1", "e2": "lens_light_e2"}
        return [{**{kw: float(params[key][i]) for kw, key in keys.items()}, "center_x": 0.0, "center_y": 0.0}]

    def lenstronomy_kwargs(self, params: dict, i: int = 0):
        """(kwargs_lens, kwargs_source) of example ``i`` of a parameter batch."""
        _, kwargs_lens = self.lens_profiles(params, i)
        kwargs_source = [
            {"amp": float(params["source_amp"][i]), "R_sersic": float(params["source_r_sersic"][i]),
             "n_sersic": float(params["source_n_sersic"][i]), "e1": float(params["source_e1"][i]),
             "e2": float(params["source_e2"][i]), "center_x": float(params["source_x"][i]),
             "center_y": float(params["source_y"][i])}
        ]
        return kwargs_lens, kwargs_source

    def render(self, params: dict) -> np.ndarray:
        """Noise-free images (B, H, W) float64 (counts/s per pixel) of a parameter batch."""
        batch = len(params["label"])
        n = self.family.instrument.num_pix
        out = np.empty((batch, n, n))
        for i in range(batch):
            names, _ = self.lens_profiles(params, i)
            kwargs_lens, kwargs_source = self.lenstronomy_kwargs(params, i)
            image_model, _ = self._image_model(names)
            out[i] = image_model.image(kwargs_lens, kwargs_source, self.lens_light_kwargs(params, i))
        return out

    def convergence(self, params: dict) -> np.ndarray:
        """True convergence maps (B, H, W) float64 at pixel centres: the SIE (shear has none)
        and the extended substructure (e.g. TNFW subhalos) at the pixel centres, plus each
        point mass deposited into the pixel holding it (kappa = pi theta_E^2 / pixel area, so
        the map's sum times the pixel area is the total lensing mass in units of
        pi arcsec^2 Sigma_crit). Point masses off the image are dropped."""
        inst = self.family.instrument
        n, s = inst.num_pix, inst.pixel_scale
        batch = len(params["label"])
        out = np.empty((batch, n, n))
        for i in range(batch):
            names, kwargs_lens = self.lens_profiles(params, i)
            if names[2:3] != ("POINT_MASS",):  # no point masses: lenstronomy's kappa of every profile
                _, lens_model = self._image_model(names)
                out[i] = lens_model.kappa(self._x, self._y, kwargs_lens).reshape(n, n)
                continue
            _, lens_model = self._image_model(names[:2])
            out[i] = lens_model.kappa(self._x, self._y, kwargs_lens[:2]).reshape(n, n)
            te = params["sub_theta_E"][i]
            col = np.floor(params["sub_x"][i] / s + n / 2.0).astype(np.int64)
            row = np.floor(params["sub_y"][i] / s + n / 2.0).astype(np.int64)
            keep = (col >= 0) & (col < n) & (row >= 0) & (row < n)
            np.add.at(out[i], (row[keep], col[keep]), np.pi * te[keep] ** 2 / s**2)
        return out

    def simulate(self, params: dict, noise_rng: np.random.Generator | None) -> dict:
        """Images. Returns ``model`` (B,H,W) noise-free, ``image`` (B,H,W) as the family stores
        it (``noise.observe`` with its ``image_recipe``: model + noise for the realistic
        families; without noise when noise_rng is None), and ``convergence`` (B,H,W)."""
        model = self.render(params)
        sigma_bkg = self.family.noise.background_sigma(self.family.instrument.pixel_scale)
        image = observe(model, self.family.image_recipe, params["exposure_time"][:, None, None],
                        sigma_bkg, noise_rng)
        return {"model": model, "image": image, "convergence": self.convergence(params)}


@functools.lru_cache(maxsize=16)
def reference_simulator(family: Family, supersampling: int | None = None) -> ReferenceSimulator:
    """A cached ``ReferenceSimulator`` (one per process, family and supersampling)."""
    return ReferenceSimulator(family, supersampling)
