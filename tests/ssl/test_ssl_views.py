"""Lens-safe view generators: exact D4, noise and PSF blur; zoom only when asked for."""

import keras
import numpy as np
import pytest
from keras import ops

from lensml.ssl import views


def test_d4_elements_are_the_eight_distinct_symmetries(rng):
    x = rng.random((1, 5, 5, 1)).astype("float32")
    outs = [ops.convert_to_numpy(views.d4_transform(x, k)) for k in range(8)]
    np.testing.assert_allclose(outs[1][0, :, :, 0], np.rot90(x[0, :, :, 0]))
    np.testing.assert_allclose(outs[4][0, :, :, 0], np.fliplr(x[0, :, :, 0]))
    flat = {o.tobytes() for o in outs}
    assert len(flat) == 8


def test_random_d4_permutes_pixels_only(images):
    layer = views.RandomD4(seed=1)
    out = ops.convert_to_numpy(layer(images))
    for a, b in zip(images, out):
        np.testing.assert_allclose(np.sort(a.ravel()), np.sort(b.ravel()), atol=1e-30)
        assert any(np.allclose(ops.convert_to_numpy(views.d4_transform(a[None], k))[0], b) for k in range(8))
    with pytest.raises(ValueError, match="square"):
        layer(np.zeros((1, 4, 6, 1), "float32"))


def test_rotation_views_use_rotations_only(images):
    out = ops.convert_to_numpy(views.RandomD4(rotations_only=True, seed=2)(images))
    for a, b in zip(images, out):
        assert any(np.allclose(ops.convert_to_numpy(views.d4_transform(a[None], k))[0], b)
                   for k in range(4))


def test_gaussian_noise_level():
    x = np.zeros((4, 32, 32, 1), "float32")
    out = ops.convert_to_numpy(views.RandomGaussianNoise((0.1, 0.1), seed=3)(x))
    assert np.std(out) == pytest.approx(0.1, rel=0.1)
    with pytest.raises(ValueError, match="stddev_range"):
        views.RandomGaussianNoise((0.2, 0.1))


def test_psf_blur_keeps_flux_and_zero_fwhm_is_identity(images):
    x = np.zeros((2, 15, 15, 1), "float32")
    x[:, 7, 7, 0] = 1.0
    out = ops.convert_to_numpy(views.RandomPSFBlur((2.0, 2.0), seed=4)(x))
    assert out.sum() == pytest.approx(2.0, rel=1e-5)
    assert out[0, 7, 7, 0] < 0.5 and out[0, 7, 8, 0] > 0.0
    # FWHM 2 px: sigma = 0.849 px; centre value of a sampled normalised Gaussian^2
    taps = np.exp(-0.5 * (np.arange(-3, 4) / (2 / 2.354820045)) ** 2)
    taps /= taps.sum()
    assert out[0, 7, 7, 0] == pytest.approx(taps[3] ** 2, rel=1e-4)
    same = ops.convert_to_numpy(views.RandomPSFBlur((0.0, 0.0), seed=4)(images))
    np.testing.assert_allclose(same, images, atol=1e-6)


def test_lens_views_are_seeded_and_zoom_is_opt_in(images):
    a = ops.convert_to_numpy(views.LensViews(seed=5)(images))
    b = ops.convert_to_numpy(views.LensViews(seed=5)(images))
    np.testing.assert_allclose(a, b)
    assert views.LensViews().zoom is None
    zoomed = views.LensViews(d4=None, noise=None, blur=None, zoom=(-0.5, -0.5), seed=1)
    out = ops.convert_to_numpy(zoomed(images))
    assert out.shape == images.shape and not np.allclose(out, images)
    with pytest.raises(ValueError, match="pretext"):
        views.pretext_views("crop")


def test_view_layers_round_trip_config():
    layer = views.LensViews(noise=(0.0, 0.2), blur=None, zoom=(-0.3, -0.1), seed=9)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert again.get_config() == layer.get_config()


def test_paper_003_pretexts(images):
    noisy = ops.convert_to_numpy(views.pretext_views("noise", seed=1, noise_stddev=0.1)(images))
    resid = noisy - images
    assert 0.0 < resid.std() < 0.1  # sigma ~ U(0, 0.1): only noise was added
    rotated = ops.convert_to_numpy(views.pretext_views("rotation", seed=1)(images))
    np.testing.assert_allclose(np.sort(rotated.ravel()), np.sort(images.ravel()), atol=1e-30)
