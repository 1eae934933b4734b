"""Family configs: the values of the dataset card (docs/guide/dataset-card.md), validation, user-defined families."""

import dataclasses

import numpy as np
import pytest

from lensml.simulation import FAMILIES, Cosmology, Instrument, get_family


def test_three_families_with_their_instruments():
    assert set(FAMILIES) == {"model_i", "model_ii", "model_iii", "model_i_published", "model_ii_published",
                             "model_iii_published", "model_ii_tnfw", "no_sphere_vort", "lens_jepa_model_a",
                             "lens_jepa_model_b", "no_sphere_vort_50", "lens_jepa_model_a_50", "lens_jepa_model_b_50"}
    i, ii, iii = (FAMILIES[k] for k in ("model_i", "model_ii", "model_iii"))
    assert (i.instrument.num_pix, i.instrument.pixel_scale, i.instrument.psf_fwhm) == (150, 0.05, 0.087)
    assert (ii.instrument.num_pix, ii.instrument.pixel_scale, ii.instrument.psf_fwhm) == (64, 0.101, 0.16)
    assert (iii.instrument.num_pix, iii.instrument.pixel_scale, iii.instrument.psf_fwhm) == (64, 0.08, 0.08)
    assert ii.noise.exposure_time * ii.noise.num_exposures == 2260.0
    assert (iii.noise.exposure_time, iii.noise.magnitude_zero_point, iii.noise.ccd_gain) == (5400.0, 25.96, 2.5)
    cdm, vortex = i.classes[1].config, i.classes[2].config
    assert cdm.count == 25 and vortex.count == 100 and vortex.total_mass == 3e10


def test_einstein_radius_angular_default_and_luminosity_quirk():
    assert get_family("model_ii").theta_E == pytest.approx(1.66, abs=0.01)
    quirk = Cosmology(distances="luminosity")
    assert get_family("model_ii").replace(cosmology=quirk).theta_E == pytest.approx(1.28, abs=0.01)
    # sqrt(M) scaling: a 3e8 Msun vortex element has theta_E ~ 0.029" (0.022" with the quirk)
    assert float(quirk.einstein_radius(3e8)) == pytest.approx(0.0222, abs=0.001)


def test_source_flux_and_background_match_lenstronomy():
    from lenstronomy.LightModel.light_model import LightModel
    from lenstronomy.SimulationAPI.observation_api import SingleBand

    fam = get_family("model_iii")
    s = fam.source
    kwargs = {"amp": 1.0, "R_sersic": s.r_sersic, "n_sersic": s.n_sersic, "e1": s.e1, "e2": s.e2,
              "center_x": 0.0, "center_y": 0.0}
    flux = LightModel(["SERSIC_ELLIPSE"]).total_flux([kwargs])[0]
    assert s.unit_amp_flux() == pytest.approx(flux, rel=1e-6)
    n = fam.noise
    band = SingleBand(pixel_scale=0.08, exposure_time=n.exposure_time, magnitude_zero_point=n.magnitude_zero_point,
                      read_noise=n.read_noise, ccd_gain=n.ccd_gain, sky_brightness=n.sky_brightness,
                      num_exposures=n.num_exposures)
    assert n.background_sigma(0.08) == pytest.approx(band.background_noise, rel=1e-9)
    assert n.magnitude_to_cps(20.0) == pytest.approx(band.magnitude2cps(20.0), rel=1e-9)


def test_unknown_family_and_bad_values_raise():
    with pytest.raises(ValueError, match="unknown family 'model_v'.*model_i"):
        get_family("model_v")
    with pytest.raises(TypeError, match="family"):
        get_family(3)
    with pytest.raises(ValueError, match="num_pix must be positive, got 0"):
        Instrument("x", num_pix=0, pixel_scale=0.1, psf_fwhm=0.1)
    with pytest.raises(ValueError, match="pixel_scale must be positive"):
        Instrument("x", num_pix=8, pixel_scale=-0.1, psf_fwhm=0.1)
    with pytest.raises(ValueError, match="too small for its PSF"):
        Instrument("x", num_pix=8, pixel_scale=0.05, psf_fwhm=0.5)
    with pytest.raises(ValueError, match="supersampling"):
        get_family("model_ii").replace(supersampling=0)
    with pytest.raises(ValueError, match="factor must be a positive int dividing num_pix=64"):
        get_family("model_ii").with_resolution(3)
    with pytest.raises(ValueError, match="z_source must exceed z_lens"):
        Cosmology(z_lens=1.0, z_source=0.5)


def test_user_defined_family_simulates():
    from lensml.simulation import CDMSubhalos, deeplense_classes, simulate_example

    base = get_family("model_ii")
    fam = base.replace(
        name="small_deep",
        instrument=dataclasses.replace(base.instrument, num_pix=24),
        noise=dataclasses.replace(base.noise, num_exposures=16),
        substructure=deeplense_classes(cdm=CDMSubhalos(count=5)),
    )
    assert fam.class_names == ("no_sub", "cdm", "axion") and fam.classes[1].count() == 5
    assert base.classes[1].count() == CDMSubhalos().count != 5  # the base family is unchanged
    ex = simulate_example(fam, "train", 1)  # index 1 -> cdm
    assert ex["image"].shape == (24, 24, 1) and ex["label"] == 1
    assert np.isfinite(ex["image"]).all()
    assert fam.noise.background_sigma(0.101) < base.noise.background_sigma(0.101)


def test_the_deflection_scale_uses_no_deprecated_astropy_call():
    """lensml's own cosmology prints no AstropyDeprecationWarning on a first run (astropy >= 7
    takes the two-redshift angular_diameter_distance; older versions the _z1z2 form)."""
    import warnings

    from lensml.simulation.cosmology import _deflection_scale

    _deflection_scale.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # D_ls / D_s at z_s = 1 relative to z_s = 2 for a lens at 0.5 (flat LCDM, H0 70, Om 0.3)
        assert _deflection_scale(70.0, 0.3, 0.5, 1.0, 2.0) == pytest.approx(0.6741560, rel=1e-6)
