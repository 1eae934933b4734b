"""InverseLens: bilinear splatting with the exact weighted mean."""

import keras
import numpy as np
import pytest
from keras import ops

from lensml.physics import InverseLens, inverse_lens, pixel_grid_numpy

from ._helpers import run, to_numpy


def reference_splat(image, alpha, pixel_scale, size, source_scale):
    """Plain NumPy/float64 bilinear splat, one image at a time (the definition)."""
    batch, height, width, channels = image.shape
    gx, gy = pixel_grid_numpy(height, pixel_scale)
    out = np.zeros((batch, size, size, channels))
    for b in range(batch):
        num = np.zeros((size, size, channels))
        den = np.zeros((size, size))
        col = (gx - alpha[b, ..., 0]) / source_scale + (size - 1) / 2
        row = (gy - alpha[b, ..., 1]) / source_scale + (size - 1) / 2
        for i in range(height):
            for j in range(width):
                c0, r0 = int(np.floor(col[i, j])), int(np.floor(row[i, j]))
                fc, fr = col[i, j] - c0, row[i, j] - r0
                for dr, dc, w in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc),
                                  (1, 0, fr * (1 - fc)), (1, 1, fr * fc)):
                    r, c = r0 + dr, c0 + dc
                    if 0 <= r < size and 0 <= c < size:
                        num[r, c] += w * image[b, i, j]
                        den[r, c] += w
        filled = den > 1e-6
        out[b][filled] = num[filled] / den[filled][:, None]
    return out


def test_zero_deflection_returns_the_image(rng):
    image = rng.random((2, 12, 12, 1)).astype("float32")
    source = run(inverse_lens, image, np.zeros((2, 12, 12, 2), "float32"), pixel_scale=0.1)
    np.testing.assert_allclose(to_numpy(source), image, atol=1e-5)


def test_constant_shift_moves_the_image(rng):
    image = rng.random((2, 12, 12, 1)).astype("float32")
    alpha = np.zeros((2, 12, 12, 2), "float32")
    alpha[..., 0] = 0.2  # beta_x = x - 0.2: two pixels towards smaller columns
    alpha[..., 1] = -0.1  # beta_y = y + 0.1: one pixel towards larger rows
    source = to_numpy(run(inverse_lens, image, alpha, pixel_scale=0.1))
    np.testing.assert_allclose(source[:, 1:, :-2], image[:, :-1, 2:], atol=1e-5)
    # pixels nothing lands on are exactly 0; rays off the grid are dropped
    assert np.all(source[:, 0, :] == 0) and np.all(source[:, :, -2:] == 0)


def test_matches_numpy_reference_and_is_deterministic(rng):
    image = rng.random((3, 10, 10, 2)).astype("float32")
    alpha = rng.normal(0, 0.15, (3, 10, 10, 2)).astype("float32")
    out1 = to_numpy(run(inverse_lens, image, alpha, pixel_scale=0.1, source_num_pix=8, source_pixel_scale=0.08))
    out2 = to_numpy(run(inverse_lens, image, alpha, pixel_scale=0.1, source_num_pix=8, source_pixel_scale=0.08))
    ref = reference_splat(image.astype(np.float64), alpha.astype(np.float64), 0.1, 8, 0.08)
    np.testing.assert_allclose(out1, ref, atol=2e-5)
    np.testing.assert_array_equal(out1, out2)


def test_weighted_mean_property(rng):
    # Every filled source pixel lies inside the range of the values that land on it, and
    # a constant image gives that constant wherever anything lands.
    alpha = rng.normal(0, 0.2, (2, 12, 12, 2)).astype("float32")
    const = np.full((2, 12, 12, 1), 3.5, "float32")
    source = to_numpy(run(inverse_lens, const, alpha, pixel_scale=0.1))
    filled = source != 0
    assert filled.sum() > 50
    np.testing.assert_allclose(source[filled], 3.5, rtol=1e-6)
    # Splatting is linear in the image for fixed alpha (a normalised weighted mean).
    a = rng.random((2, 12, 12, 1)).astype("float32")
    b = rng.random((2, 12, 12, 1)).astype("float32")
    sa, sb, sab = (to_numpy(run(inverse_lens, v, alpha, pixel_scale=0.1)) for v in (a, b, 2 * a + b))
    np.testing.assert_allclose(sab, 2 * sa + sb, atol=1e-5)


def test_rays_off_the_grid_are_dropped():
    image = np.ones((2, 12, 12, 1), "float32")
    alpha = np.full((2, 12, 12, 2), 100.0, "float32")
    alpha[1] = 3e9  # far beyond int32 pixel indices
    source = to_numpy(run(inverse_lens, image, alpha, pixel_scale=0.1))
    assert np.all(source == 0) and np.all(np.isfinite(source))


def test_gradients_are_finite(rng, backend):
    image = rng.random((2, 12, 12, 1)).astype("float32")
    alpha = rng.normal(0, 0.1, (2, 12, 12, 2)).astype("float32")
    weights = rng.random((2, 12, 12, 1)).astype("float32")

    def loss(img, alp):
        return ops.sum(inverse_lens(img, alp, 0.1) * weights)

    if backend == "jax":
        import jax

        g_img, g_alpha = jax.jit(jax.grad(loss, argnums=(0, 1)))(image, alpha)
    else:
        import tensorflow as tf

        img_t, alpha_t = tf.constant(image), tf.constant(alpha)
        with tf.GradientTape() as tape:
            tape.watch([img_t, alpha_t])
            value = loss(img_t, alpha_t)
        g_img, g_alpha = tape.gradient(value, [img_t, alpha_t])
    g_img, g_alpha = to_numpy(g_img), to_numpy(g_alpha)
    assert np.all(np.isfinite(g_img)) and np.all(np.isfinite(g_alpha))
    assert np.abs(g_img).sum() > 0 and np.abs(g_alpha).sum() > 0


def test_layer_and_bad_inputs(rng):
    layer = InverseLens(pixel_scale=0.1, source_num_pix=6, source_pixel_scale=0.2)
    image = rng.random((2, 8, 8, 1)).astype("float32")
    alpha = np.zeros((2, 8, 8, 2), "float32")
    assert tuple(run(layer, [image, alpha]).shape) == (2, 6, 6, 1)
    with pytest.raises(ValueError, match="alpha"):
        layer([image, np.zeros((2, 8, 8, 3), "float32")])
    with pytest.raises(ValueError, match="alpha"):
        layer([image, np.zeros((2, 7, 7, 2), "float32")])
    with pytest.raises(ValueError, match="image"):
        layer([image[0], alpha])
    with pytest.raises(ValueError, match="pixel_scale"):
        InverseLens(pixel_scale=-0.1)
    with pytest.raises(ValueError, match="source_pixel_scale"):
        InverseLens(pixel_scale=0.1, source_pixel_scale=0.0)
    # the layer is usable symbolically:
    out = layer([keras.Input((8, 8, 1)), keras.Input((8, 8, 2))])
    assert tuple(out.shape) == (None, 6, 6, 1)


def test_non_finite_deflection_makes_that_source_nan():
    # It used to zero the affected pixels silently; now the broken image's source is NaN
    # and the others are untouched.
    image = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
    alpha = np.zeros((2, 8, 8, 2), "float32")
    alpha[1, 3, 4, 0] = np.nan
    out = keras.ops.convert_to_numpy(inverse_lens(image, alpha, 0.1))
    assert np.isnan(out[1]).all()
    np.testing.assert_allclose(out[0], image[0], atol=1e-6)  # zero deflection: the identity
