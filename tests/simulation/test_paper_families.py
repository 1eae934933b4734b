"""The seed papers' own data: the D4LensPINN paper's no / sphere / vort (PyLensing's recipe) and
Lens-JEPA's Model A / Model B, against lenstronomy and their recipes."""

import dataclasses

import keras
import numpy as np
import pytest

from lensml.simulation import get_family, reference_simulator, sample_parameters
from lensml.simulation.batched import BatchedSimulator
from lensml.simulation.families import LensLight, MacroLens, Source
from lensml.simulation.scene import DiskPointMasses, LinePointMasses, TNFWSubhalos, VortexPoints


def _small(name, num_pix):
    # the same pixels and PSF on a smaller grid: lenstronomy renders 150x150 slowly
    fam = get_family(name)
    return fam.replace(name=f"{name}_{num_pix}px", instrument=dataclasses.replace(fam.instrument, num_pix=num_pix))


@pytest.mark.parametrize("name,num_pix", [("no_sphere_vort", 48), ("lens_jepa_model_a", 48),
                                          ("lens_jepa_model_b", 48)])
def test_batched_simulator_matches_lenstronomy_every_class(name, num_pix, rng):
    fam = _small(name, num_pix)
    ref, sim = reference_simulator(fam), BatchedSimulator(fam)
    for label in fam.class_names:
        params = sample_parameters(fam, label, rng, batch_size=2)
        expected = ref.render(params)
        got = keras.ops.convert_to_numpy(sim.render(params))[..., 0]
        assert np.abs(got - expected).max() / expected.max() < 2e-5, label


def test_no_sphere_vort_follows_the_pylensing_recipe(rng):
    fam = get_family("no_sphere_vort")
    assert fam.class_names == ("no", "sphere", "vort")
    assert (fam.instrument.num_pix, fam.instrument.pixel_scale, fam.supersampling) == (150, 0.05, 2)
    assert 2 * fam.instrument.psf_radius_pixels + 1 == 11 and fam.instrument.psf_sigma_pixels == pytest.approx(2.0)
    assert fam.noise.background_sigma(0.05) ** 2 == pytest.approx(0.1 / 300)  # sky 0.1 counts/s, 300 s
    p = sample_parameters(fam, "no", rng, batch_size=400)
    assert np.all(p["theta_E"] == 1.2) and np.all(p["lens_e1"] == 0) and np.all(p["lens_e2"] == 0)
    shear = np.hypot(p["gamma1"], p["gamma2"])
    assert shear.max() <= 0.3 and shear.min() >= 0 and shear.std() > 0.05  # random: U(0, 0.3)
    assert np.hypot(p["source_x"], p["source_y"]).max() <= 1.2
    # axis ratio U(0.7, 1): |e| = (1 - q) / (1 + q) <= 0.3 / 1.7; PyAutoLens' semi-major radius
    e = np.hypot(p["source_e1"], p["source_e2"])
    q = (1 - e) / (1 + e)
    assert q.min() >= 0.7 - 1e-12 and np.allclose(p["source_r_sersic"], 0.5 * np.sqrt(q))
    assert np.all((p["source_amp"] >= 0.7 / 0.05**2) & (p["source_amp"] <= 0.9 / 0.05**2))
    eq = np.hypot(p["lens_light_e1"], p["lens_light_e2"])
    assert ((1 - eq) / (1 + eq)).min() >= 0.5 - 1e-12 and np.all(p["lens_light_amp"] == 1.2 / 0.05**2)
    # point masses of U(0.8e10, 1.2e10) Msun with luminosity-distance Einstein radii (1e10 -> 0.128")
    sphere = sample_parameters(fam, "sphere", rng, batch_size=50)
    assert sphere["sub_theta_E"].shape == (50, 25)
    masses = (sphere["sub_theta_E"] / 0.12815) ** 2 * 1e10
    assert masses.min() >= 0.8e10 * 0.999 and masses.max() <= 1.2e10 * 1.001 and masses.std() > 0.05e10
    assert np.hypot(sphere["sub_x"], sphere["sub_y"]).max() <= 1.0
    vort = sample_parameters(fam, "vort", rng, batch_size=50)
    t = vort["sub_x"] * np.cos(vort["vortex_angle"])[:, None] + vort["sub_y"] * np.sin(vort["vortex_angle"])[:, None]
    np.testing.assert_allclose(t, np.broadcast_to(-0.5 + np.arange(25) / 25, (50, 25)), atol=1e-12)
    normal = -vort["sub_x"] * np.sin(vort["vortex_angle"])[:, None] + vort["sub_y"] * np.cos(vort["vortex_angle"])[:, None]
    assert np.abs(normal).max() < 1e-12  # on a line through the lens centre
    # the classes of one generator share the lens, its light and the source
    a, b = (sample_parameters(fam, c, np.random.default_rng(7)) for c in ("no", "vort"))
    for key in ("gamma1", "source_x", "source_amp", "lens_light_e1"):
        assert a[key][0] == b[key][0], key


def test_lens_light_is_rendered_unlensed_at_the_centre(rng):
    fam = _small("no_sphere_vort", 40)
    sim = BatchedSimulator(fam)
    params = sample_parameters(fam, "no", rng, batch_size=2)
    dark = dict(params, lens_light_amp=np.zeros(2))
    light = keras.ops.convert_to_numpy(sim.render(params) - sim.render(dark))[..., 0]
    assert light.min() > -1e-4 and light[:, 20, 20].min() > 0.5 * light.max()  # centred, positive
    # lenstronomy's lens light of the same parameters (its source set to zero)
    ref = reference_simulator(fam)
    only = ref.render(dict(params, source_amp=np.zeros(2)))
    np.testing.assert_allclose(light, only, atol=2e-5 * only.max())


def test_lens_jepa_families():
    a, b = get_family("lens_jepa_model_a"), get_family("lens_jepa_model_b")
    for fam in (a, b):
        assert fam.instrument.num_pix == 150 and fam.lens.e1 == fam.lens.e2 == 0  # an SIS
        assert [type(c) for c in fam.classes[1:]] == [TNFWSubhalos, VortexPoints]
        assert fam.classes[2].config.log10_mass_range == (-23.0, -23.0)
    assert a.instrument.psf_fwhm == 0.05 and a.noise == get_family("model_i").noise
    assert b.noise == get_family("model_ii").noise and b.instrument.psf_fwhm == 0.16
    assert b.instrument.field_of_view == pytest.approx(get_family("model_ii").instrument.field_of_view)
    p = sample_parameters(b, "axion", np.random.default_rng(0), batch_size=3)
    np.testing.assert_allclose(np.abs(p["sub_x"] + 1j * p["sub_y"]).max(axis=1), 0.3)  # 1e-23 eV: 0.3"


def test_bad_recipe_values():
    with pytest.raises(ValueError, match="shear_range"):
        MacroLens(shear_range=(-0.1, 0.3))
    with pytest.raises(ValueError, match="theta_E must be positive"):
        MacroLens(theta_E=0.0)
    with pytest.raises(ValueError, match="q_range must lie in"):
        Source(q_range=(0.5, 1.5))
    with pytest.raises(ValueError, match="amp_range replaces amp"):
        Source(amp=20.0, amp_range=(1.0, 2.0))
    with pytest.raises(ValueError, match="LensLight.amp must be positive"):
        LensLight(amp=-1.0)
    with pytest.raises(ValueError, match="count_ must be a positive int"):
        DiskPointMasses(count_=0)
    with pytest.raises(ValueError, match="size positive"):
        LinePointMasses(size=0.0)
    with pytest.raises(ValueError, match="mass_range must be a positive"):
        DiskPointMasses(mass_range=(0.0, 1e10))
    with pytest.raises(ValueError, match="drawn per lens"):
        get_family("no_sphere_vort").source_amp


def test_paper_families_are_tfds_configs(tmp_path):
    import tensorflow_datasets as tfds

    from lensml.datasets import Deeplense

    configs = Deeplense.builder_configs
    full = configs["no_sphere_vort"]
    assert (full.train_per_class, full.validation_per_class, full.test_per_class) == (8_000, 1_000, 1_000)
    for fam in ("no_sphere_vort", "lens_jepa_model_a", "lens_jepa_model_b"):
        assert configs[f"{fam}_3k"].train_per_class == 2_160 and configs[f"{fam}_tiny"].test_per_class == 4
    builder = tfds.builder("deeplense/no_sphere_vort_n5", data_dir=str(tmp_path))
    builder.download_and_prepare()
    assert builder.info.features["label"].names == ["no", "sphere", "vort"]
    examples = list(tfds.as_numpy(tfds.load("deeplense/no_sphere_vort_n5", split="test", data_dir=str(tmp_path))))
    assert sorted(int(e["label"]) for e in examples) == [0, 1, 2]
    assert examples[0]["image"].shape == (150, 150, 1) and np.isnan(examples[0]["log10_axion_mass"])


def test_paper_families_stream():
    from lensml.data import simulated_stream

    x, y = simulated_stream("no_sphere_vort", batch_size=3, seed=0, steps_per_epoch=1)[0]
    assert x.shape == (3, 150, 150, 1) and sorted(np.asarray(y).tolist()) == [0, 1, 2]
    assert np.all(np.isfinite(np.asarray(x)))


def test_coarser_pixels_collect_more_sky():
    # a BackgroundNoise's rms is per pixel: 3x coarser pixels hold 9x the sky, 3x its rms
    fine = get_family("no_sphere_vort")
    coarse = get_family("no_sphere_vort_50")
    assert coarse.instrument.num_pix == 50 and coarse.instrument.field_of_view == pytest.approx(7.5)
    assert coarse.noise.background_rms == pytest.approx(3 * fine.noise.background_rms)
    assert get_family("model_i").with_resolution(2).noise.background_rms == pytest.approx(0.02)
    # an InstrumentNoise computes the sky from the pixel scale itself
    ii = get_family("model_ii")
    assert ii.with_resolution(2).noise == ii.noise
