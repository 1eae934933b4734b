"""Published-compatible families: the DeepLense data as the public simulator wrote them.

Checked against lenstronomy following the public recipe (mwt5345/DeepLenseSim deeplense/lens.py):
Models II/III through ``SimAPI`` in multi-plane mode with ``z_source_convention=2.5`` and the
luminosity-distance Einstein radii, stored as ``image_model + image_model``; Model I through
``ImageModel`` with Poisson counts of ``exp_time * (model + poisson + background)``.
"""

import dataclasses

import keras
import numpy as np
import pytest

from lensml.simulation import example_parameters, get_family, reference_simulator, simulate_example
from lensml.simulation.batched import BatchedSimulator
from lensml.simulation.families import PUBLISHED_FAMILIES
from lensml.simulation.noise import observe


def _public_mass_to_radius(mass):
    # deeplense/lens.py mass_to_radius: luminosity distances, D_LS = D_S - D_L.
    from astropy import units as u
    from astropy.constants import G, M_sun, c
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=70, Om0=0.3, Ob0=0.05)
    d_l = cosmo.luminosity_distance(0.5).to(u.m)
    d_s = cosmo.luminosity_distance(1.0).to(u.m)
    return (np.sqrt(4 * G * np.asarray(mass) * M_sun / c**2 * (d_s - d_l) / (d_l * d_s)) * 206265).value


def _public_kwargs(fam, params, masses):
    kwargs_lens = [{"theta_E": float(_public_mass_to_radius(1e12)), "e1": 0.1, "e2": 0.0,
                    "center_x": 0.0, "center_y": 0.0}, {"gamma1": 0.05, "gamma2": 0.0}]
    for m, x, y in zip(masses, params["sub_x"][0], params["sub_y"][0]):
        kwargs_lens.append({"theta_E": float(_public_mass_to_radius(m)), "center_x": float(x), "center_y": float(y)})
    source = {"R_sersic": 0.25, "n_sersic": 1, "e1": -0.1, "e2": 0.1,
              "center_x": float(params["source_x"][0]), "center_y": float(params["source_y"][0])}
    return kwargs_lens, source


def _subhalo_masses(fam, params):
    # Invert the family's point-mass radius: the public code passes masses, lensml radii.
    per_sqrt_msun = fam.point_mass_einstein_radius(1.0)
    return (params["sub_theta_E"][0] / per_sqrt_msun) ** 2


@pytest.mark.parametrize("name", ["model_ii_published", "model_iii_published"])
def test_models_ii_iii_match_the_public_simapi_recipe(name):
    from astropy.cosmology import FlatLambdaCDM
    from lenstronomy.SimulationAPI.sim_api import SimAPI

    fam = get_family(name)
    noise = fam.noise
    band = {"read_noise": noise.read_noise, "pixel_scale": fam.instrument.pixel_scale,
            "ccd_gain": noise.ccd_gain, "exposure_time": noise.exposure_time,
            "sky_brightness": noise.sky_brightness, "magnitude_zero_point": noise.magnitude_zero_point,
            "num_exposures": noise.num_exposures, "seeing": fam.instrument.psf_fwhm, "psf_type": "GAUSSIAN"}
    for index in range(3):  # no_sub, cdm, axion
        params, noise_rng = example_parameters(fam, "train", index, 0)
        kwargs_lens, source = _public_kwargs(fam, params, _subhalo_masses(fam, params))
        names = ["SIE", "SHEAR"] + ["POINT_MASS"] * (len(kwargs_lens) - 2)
        sim = SimAPI(fam.instrument.num_pix, band, {
            "lens_model_list": names, "lens_redshift_list": [0.5] * len(names),
            "source_light_model_list": ["SERSIC_ELLIPSE"], "source_redshift_list": [1.0],
            "cosmo": FlatLambdaCDM(H0=70, Om0=0.3), "z_source_convention": 2.5, "z_source": 1.0})
        _, kwargs_source, _ = sim.magnitude2amplitude(None, [dict(source, magnitude=20)])
        image = sim.image_model_class({"point_source_supersampling_factor": 1}).image(kwargs_lens, kwargs_source, None)
        stored = image + image  # simple_sim_2's image_real
        ours = reference_simulator(fam).simulate(params, noise_rng)["image"][0]
        assert np.abs(ours - stored).max() / stored.max() < 2e-5, (name, index)


def test_model_i_published_matches_the_public_image_model_and_counts():
    from lenstronomy.Data.imaging_data import ImageData
    from lenstronomy.Data.psf import PSF
    from lenstronomy.ImSim.image_model import ImageModel
    from lenstronomy.LensModel.lens_model import LensModel
    from lenstronomy.LightModel.light_model import LightModel
    from lenstronomy.Util import util

    fam = get_family("model_i_published")
    _, _, ra0, dec0, _, _, pix2coord, _ = util.make_grid_with_coordtransform(
        150, 0.05, center_ra=0, center_dec=0, subgrid_res=1, inverse=False)
    data = ImageData(image_data=np.zeros((150, 150)), ra_at_xy_0=ra0, dec_at_xy_0=dec0,
                     transform_pix2angle=pix2coord, background_rms=0.01, exposure_time=1000.0)
    psf = PSF(psf_type="GAUSSIAN", fwhm=0.087, pixel_size=0.05, truncation=3)
    for index in (1, 2):  # cdm, axion
        params, _ = example_parameters(fam, "test", index, 3)
        kwargs_lens, source = _public_kwargs(fam, params, _subhalo_masses(fam, params))
        lens = LensModel(["SIE", "SHEAR"] + ["POINT_MASS"] * (len(kwargs_lens) - 2))
        model = ImageModel(data, psf, lens_model_class=lens, source_model_class=LightModel(["SERSIC_ELLIPSE"]),
                           kwargs_numerics={"supersampling_factor": 1, "supersampling_convolution": False})
        expected = model.image(kwargs_lens, [dict(source, amp=20)])
        ours = reference_simulator(fam).render(params)[0]
        assert np.abs(ours - expected).max() / expected.max() < 2e-5
    # the stored image: Poisson counts (integers >= 0) whose mean is T * model
    t = float(params["exposure_time"][0])
    assert 10**3 <= t <= 10**3.5
    counts = observe(np.repeat(expected[None], 200, 0), "poisson_counts", t, 0.01, np.random.default_rng(0))
    assert np.all(counts >= 0) and np.all(counts == np.round(counts))
    bright = expected > 0.5 * expected.max()
    assert np.allclose(counts.mean(0)[bright], t * expected[bright], rtol=0.05)


def test_published_einstein_radii_and_deflection_scale():
    ii, i = get_family("model_ii_published"), get_family("model_i_published")
    assert _public_mass_to_radius(1e12) == pytest.approx(1.2815, abs=1e-3)
    assert i.theta_E == pytest.approx(_public_mass_to_radius(1e12), rel=1e-6)  # single plane: no rescaling
    assert ii.cosmology.deflection_scale == pytest.approx(0.6337, abs=1e-3)
    assert ii.theta_E == pytest.approx(0.6337 * 1.2815, abs=2e-3)
    assert ii.shear[0] == pytest.approx(0.05 * ii.cosmology.deflection_scale)
    assert get_family("model_ii").theta_E == pytest.approx(1.66, abs=0.01)  # realistic stays the default
    assert set(PUBLISHED_FAMILIES) == {"model_i_published", "model_ii_published", "model_iii_published"}


@pytest.mark.parametrize("name", PUBLISHED_FAMILIES)
def test_batched_simulator_makes_the_published_images(name):
    base = get_family(name)
    # Model I at a small grid keeps the test fast; the recipe does not depend on the size.
    fam = base if base.instrument.num_pix <= 64 else base.replace(
        name=f"{name}_40px", instrument=dataclasses.replace(base.instrument, num_pix=40))
    sim = BatchedSimulator(fam)
    for index in range(3):
        params, rng = example_parameters(fam, "train", index, 0)
        expected = reference_simulator(fam).simulate(params, None)["image"]
        image, model = sim.simulate(params, None)
        got = keras.ops.convert_to_numpy(image)[..., 0]
        assert np.abs(got - expected).max() / expected.max() < 2e-5
        noisy, _ = sim.simulate(params, np.random.default_rng(index))
        noisy = keras.ops.convert_to_numpy(noisy)
        if fam.image_recipe == "twice_model":
            np.testing.assert_array_equal(noisy, keras.ops.convert_to_numpy(image))  # no noise drawn
        else:
            assert np.all(noisy == np.round(noisy)) and noisy.min() >= 0  # counts


def test_published_examples_are_reproducible_and_differ_from_realistic():
    a = simulate_example("model_ii_published", "train", 4, 0)
    b = simulate_example("model_ii_published", "train", 4, 0)
    np.testing.assert_array_equal(a["image"], b["image"])
    real = simulate_example("model_ii", "train", 4, 0)
    assert a["theta_E"] == pytest.approx(0.812, abs=2e-3) and real["theta_E"] == pytest.approx(1.66, abs=0.01)
    assert not np.allclose(a["image"], real["image"])


def test_bad_recipe_and_convention():
    from lensml.simulation import Cosmology

    with pytest.raises(ValueError, match="image_recipe"):
        get_family("model_ii").replace(image_recipe="thrice")
    with pytest.raises(ValueError, match="poisson_counts"):
        get_family("model_ii").replace(image_recipe="poisson_counts")
    with pytest.raises(ValueError, match="z_source_convention"):
        Cosmology(z_source_convention=0.3)
