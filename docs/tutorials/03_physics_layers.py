# %% [markdown]
# # Physics layers in your own Keras model
#
# `lensml.physics` is strong-lensing physics written in `keras.ops`: mass profiles with
# lenstronomy's names and keywords, the lens equation, a Poisson solver, inverse lensing (source
# reconstruction). The layers have no weights, run in float32 on TensorFlow and JAX, are
# differentiable, and save with the model. This tutorial checks two of them against analytic
# solutions, then builds a small physics-informed classifier (LensPINN's idea in a dozen lines)
# and trains it with `model.fit`.
#
# Conventions: angles in arcsec; an N x N image with pixel scale s has pixel centres at
# `(k - (N - 1) / 2) * s`, x along columns, y along rows (lenstronomy's grid).

# %%
import tempfile

import keras
import numpy as np
from keras import ops

from lensml.data import simulated_stream
from lensml.models import OnesLike
from lensml.physics import SIS, InverseLens, LensEquation, PoissonSolver, SISDeflection, pixel_grid_numpy

keras.utils.set_random_seed(0)

# %% [markdown]
# ## Check 1: the Poisson solver gives the SIS deflection
#
# A singular isothermal sphere has convergence kappa = theta_E / (2 r) and deflection
# alpha = theta_E theta / |theta|: radial, of constant length theta_E. `PoissonSolver` solves
# nabla^2 psi = 2 kappa on a zero-padded grid (no periodic wrap-around) and returns psi and
# alpha = grad psi. We give it the pixel-averaged SIS convergence and compare.

# %%
n, s, theta_E = 64, 0.1, 1.2
sub = 8  # average kappa over 8 x 8 sub-pixels: the centre pixel holds a finite mass
xs, ys = pixel_grid_numpy(n * sub, s / sub)
kappa = np.asarray(SIS().convergence(xs, ys, theta_E=theta_E)).reshape(n, sub, n, sub).mean(axis=(1, 3))
psi, alpha = PoissonSolver(pixel_scale=s)(kappa[None, ..., None].astype("float32"))
alpha = ops.convert_to_numpy(alpha)[0]

x, y = pixel_grid_numpy(n, s)
r = np.hypot(x, y)
ring = (r > 0.5) & (r < 1.6)  # away from the pixelised centre and the truncated border
error = np.hypot(alpha[..., 0] - theta_E * x / r, alpha[..., 1] - theta_E * y / r)[ring].max()
print(f"largest deflection error: {error:.4f} arcsec of theta_E = {theta_E}")
assert error < 0.02 * theta_E

# %% [markdown]
# ## Check 2: a source behind an SIS makes an Einstein ring of radius theta_E
#
# `LensEquation` ray-shoots the image grid through a mass model with per-example parameters:
# beta = theta - alpha(theta). A compact source at the origin lights the pixels whose rays land
# near beta = 0: for an SIS, the circle |theta| = theta_E.

# %%
lens = LensEquation(["SIS"], num_pix=n, pixel_scale=s)
beta = ops.convert_to_numpy(lens([{"theta_E": ops.convert_to_tensor([[1.2], [0.8]])}]))
source_width = 0.05  # arcsec
images = np.exp(-0.5 * (beta[..., 0] ** 2 + beta[..., 1] ** 2) / source_width**2)
for image, expected in zip(images, (1.2, 0.8)):
    ring_radius = np.average(r, weights=image)
    print(f"theta_E {expected}: brightness-weighted ring radius {ring_radius:.3f}")
    assert abs(ring_radius - expected) < s / 2

# %% [markdown]
# ## A physics-informed classifier
#
# A small CNN predicts the Einstein radius (bounded to 0.2-3"), `SISDeflection` turns it into a
# deflection field, and `InverseLens` maps the image back to the source plane; the classifier
# looks at the image *and* at the reconstructed source. Everything is differentiable, so the
# Einstein radius is learnt from the class labels alone.

# %%
pixel_scale = 0.101  # Model II
inputs = keras.Input((64, 64, 1))
h = keras.layers.Conv2D(8, 5, strides=4, activation="relu")(inputs)
h = keras.layers.GlobalAveragePooling2D()(h)
theta_e = keras.layers.Dense(1, activation="sigmoid")(h)
theta_e = keras.layers.Rescaling(2.8, offset=0.2, name="einstein_radius")(theta_e)
alpha = SISDeflection(pixel_scale)([OnesLike()(inputs), theta_e])
source = InverseLens(pixel_scale)([inputs, alpha])
both = keras.layers.Concatenate()([inputs, source])
h = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(both)
h = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(h)
h = keras.layers.GlobalAveragePooling2D()(h)
outputs = keras.layers.Dense(3, activation="softmax")(h)
model = keras.Model(inputs, outputs, name="tiny_physics_classifier")
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.summary()

stream = simulated_stream("model_ii_published", batch_size=24, seed=0, steps_per_epoch=15)
history = model.fit(stream, epochs=3, verbose=2)

# %% [markdown]
# The predicted Einstein radius is an intermediate you can read off and compare with the truth
# (1.28" for the published Model II data): whether a physics branch learns a physical value or
# drifts to a bound is worth checking for any physics-informed model.

# %%
einstein = keras.Model(inputs, model.get_layer("einstein_radius").output)
images, _ = stream[0]
print("predicted Einstein radii:", np.round(ops.convert_to_numpy(einstein(images))[:6, 0], 2))

# %% [markdown]
# The physics layers save with the model and load back (with `safe_mode`):

# %%
path = f"{tempfile.mkdtemp()}/physics_classifier.keras"
model.save(path)
restored = keras.saving.load_model(path)
np.testing.assert_allclose(ops.convert_to_numpy(restored(images)), ops.convert_to_numpy(model(images)), atol=1e-5)
print("round trip ok")
