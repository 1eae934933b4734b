"""View generators that respect lensing physics, as Keras layers seeded by ``SeedGenerator``.

The D4 group (rotations by multiples of 90 degrees and reflections), additive noise and a
Gaussian PSF blur leave the Einstein radius and the substructure class unchanged, so they
are the default views. Crops and zooms rescale theta_E and move the lens off-centre, so
``LensViews`` only applies them when asked (``zoom=...``).

All layers take images (batch, height, width, channels) float32, are vectorised over the
batch, and run inside compiled ``fit`` on TF and JAX. They transform whenever called (the
trainers call them explicitly), so ``training`` is accepted and ignored.
"""

from __future__ import annotations

import keras
from keras import ops

from lensml.layers.d4 import d4_transform

_PKG = "lensml"


def _check_images(images, name="images", square=False):
    shape = images.shape
    if len(shape) != 4:
        raise ValueError(f"{name}: expected (batch, height, width, channels), got shape {shape}")
    if square and shape[1] is not None and shape[1] != shape[2]:
        raise ValueError(f"{name}: D4 views need square images, got height={shape[1]} width={shape[2]}")


@keras.saving.register_keras_serializable(package=_PKG)
class RandomD4(keras.layers.Layer):
    """A random element of D4 per image (exact pixel permutations, no interpolation).

    rotations_only: draw only the 4 rotations (the self-supervised DeepLense paper's rotation pretext).
    """

    def __init__(self, rotations_only=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rotations_only = bool(rotations_only)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        _check_images(images, square=True)
        n = 4 if self.rotations_only else 8
        batch = ops.shape(images)[0]
        idx = keras.random.randint((batch,), 0, n, seed=self.seed_generator)
        one_hot = ops.one_hot(idx, n, dtype=images.dtype)  # (B, n)
        out = 0.0
        for k in range(n):
            out = out + one_hot[:, k, None, None, None] * d4_transform(images, k)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rotations_only": self.rotations_only, "seed": self.seed}


@keras.saving.register_keras_serializable(package=_PKG)
class RandomGaussianNoise(keras.layers.Layer):
    """Add N(0, sigma^2) noise with sigma ~ U(stddev_range) drawn per image.

    stddev_range: (low, high) in image units (for min-max normalised images, fractions of
    the peak). relative: scale sigma by each image's standard deviation.
    """

    def __init__(self, stddev_range=(0.0, 0.05), relative=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        low, high = (float(v) for v in stddev_range)
        if not 0.0 <= low <= high:
            raise ValueError(f"stddev_range={stddev_range!r}: expected 0 <= low <= high")
        self.stddev_range = (low, high)
        self.relative = bool(relative)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        _check_images(images)
        batch = ops.shape(images)[0]
        low, high = self.stddev_range
        sigma = keras.random.uniform((batch, 1, 1, 1), low, high, seed=self.seed_generator)
        if self.relative:
            sigma = sigma * ops.std(images, axis=(1, 2, 3), keepdims=True)
        noise = keras.random.normal(ops.shape(images), seed=self.seed_generator)
        return images + sigma * noise

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev_range": list(self.stddev_range),
                "relative": self.relative, "seed": self.seed}


@keras.saving.register_keras_serializable(package=_PKG)
class RandomPSFBlur(keras.layers.Layer):
    """Convolve with a circular Gaussian PSF whose FWHM ~ U(fwhm_range) pixels per image.

    Separable, zero-padded ("same") blur with a (2 * radius + 1)-tap kernel normalised to 1.
    A FWHM of 0 leaves the image unchanged. The physics PSF (lensml.physics) takes one FWHM
    per call; views need one per image, hence this small layer.
    """

    def __init__(self, fwhm_range=(0.0, 2.0), radius=3, seed=None, **kwargs):
        super().__init__(**kwargs)
        low, high = (float(v) for v in fwhm_range)
        if not 0.0 <= low <= high:
            raise ValueError(f"fwhm_range={fwhm_range!r}: expected 0 <= low <= high (pixels)")
        if int(radius) < 1:
            raise ValueError(f"radius={radius!r}: expected an integer >= 1")
        self.fwhm_range = (low, high)
        self.radius = int(radius)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _blur_axis(self, x, weights, axis):
        r = self.radius
        pad = [(0, 0)] * 4
        pad[axis] = (r, r)
        xp = ops.pad(x, pad)
        size = ops.shape(x)[axis]
        out = 0.0
        for k in range(2 * r + 1):
            if axis == 1:
                shifted = xp[:, k:k + size]
            else:
                shifted = xp[:, :, k:k + size]
            out = out + weights[:, k, None, None, None] * shifted
        return out

    def call(self, images, training=None):
        _check_images(images)
        batch = ops.shape(images)[0]
        low, high = self.fwhm_range
        fwhm = keras.random.uniform((batch, 1), low, high, seed=self.seed_generator)
        sigma = fwhm / 2.354820045
        taps = ops.cast(ops.arange(-self.radius, self.radius + 1), "float32")[None, :]
        logw = -0.5 * ops.square(taps) / ops.maximum(ops.square(sigma), 1e-6)
        w = ops.exp(logw - ops.max(logw, axis=1, keepdims=True))
        w = ops.cast(w / ops.sum(w, axis=1, keepdims=True), images.dtype)
        return self._blur_axis(self._blur_axis(images, w, 1), w, 2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "fwhm_range": list(self.fwhm_range),
                "radius": self.radius, "seed": self.seed}


@keras.saving.register_keras_serializable(package=_PKG)
class LensViews(keras.layers.Layer):
    """One random view per image, composed from lens-safe transforms.

    d4: "all" (8 elements), "rotations" (4), or None. noise: (low, high) Gaussian sigma or
    None (or an empty range). blur: (low, high) PSF FWHM in pixels or None (or empty). zoom: opt-in (low, high) zoom factor
    range for ``keras.layers.RandomZoom`` (negative = zoom in); it changes theta_E, so it is
    None by default. Order: zoom, D4, blur, noise (noise last, as in an instrument).
    """

    def __init__(self, d4="all", noise=(0.0, 0.05), blur=(0.0, 1.5), zoom=None, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if d4 not in ("all", "rotations", None):
            raise ValueError(f"d4={d4!r}: expected 'all', 'rotations' or None")
        self.d4 = d4
        # None or an empty range (a TOML config has no None): no such transform
        self.noise = None if noise is None else tuple(float(v) for v in noise) or None
        self.blur = None if blur is None else tuple(float(v) for v in blur) or None
        self.zoom = None if zoom is None else tuple(float(v) for v in zoom) or None
        self.seed = seed
        base = 0 if seed is None else int(seed)
        sub = (lambda k: None) if seed is None else (lambda k: base * 7919 + k)
        self._zoom = (keras.layers.RandomZoom(self.zoom, fill_mode="constant", seed=sub(0))
                      if self.zoom else None)
        self._d4 = RandomD4(rotations_only=(d4 == "rotations"), seed=sub(1)) if d4 else None
        self._blur = RandomPSFBlur(self.blur, seed=sub(2)) if self.blur else None
        self._noise = RandomGaussianNoise(self.noise, seed=sub(3)) if self.noise else None

    def build(self, input_shape):
        for layer in (self._zoom, self._d4, self._blur, self._noise):
            if layer is not None:
                layer.build(input_shape)

    def call(self, images, training=None):
        _check_images(images)
        x = images
        if self._zoom is not None:
            x = self._zoom(x, training=True)
        for layer in (self._d4, self._blur, self._noise):
            if layer is not None:
                x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "d4": self.d4,
                "noise": None if self.noise is None else list(self.noise),
                "blur": None if self.blur is None else list(self.blur),
                "zoom": None if self.zoom is None else list(self.zoom), "seed": self.seed}


def pretext_views(pretext, seed=None, noise_stddev=0.1):
    """The view generator of the self-supervised DeepLense paper's contrastive pretexts.

    pretext: "rotation" (random 90-degree rotations only), "noise" (Gaussian noise with
    sigma ~ U(0, noise_stddev) only), or "lens" (D4 + noise + PSF blur). Returns a LensViews.
    """
    if pretext == "rotation":
        return LensViews(d4="rotations", noise=None, blur=None, seed=seed)
    if pretext == "noise":
        return LensViews(d4=None, noise=(0.0, noise_stddev), blur=None, seed=seed)
    if pretext == "lens":
        return LensViews(seed=seed)
    raise ValueError(f"pretext={pretext!r}: expected 'rotation', 'noise' or 'lens'")
