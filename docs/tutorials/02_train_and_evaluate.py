# %% [markdown]
# # Train a model with `model.fit` and evaluate it
#
# Two ways to feed a lensml model: a stored dataset through `tfds.load` (lensml registers the
# `deeplense` builder, which simulates the data with lenstronomy on first use), and an endless
# stream of fresh lenses from the batched simulator. Then the evaluation protocol's metrics on
# the stored test split.
#
# The scale here is tiny (30 lenses per class, a narrow ResNet18, a few hundred optimizer
# steps) so that the page builds in a minute on a CPU; the numbers show the mechanics, not what
# the models reach (see the quickstart and the reproduction tables for that).

# %%
import tempfile

import keras
import numpy as np
import tensorflow_datasets as tfds

import lensml
from lensml.data import pipeline, simulated_stream
from lensml.evaluation import classification_metrics

data_dir = tempfile.mkdtemp()  # a fresh TFDS folder for this page; the default is ~/tensorflow_datasets
keras.utils.set_random_seed(0)

# %% [markdown]
# ## A stored dataset through `tfds.load`
#
# `deeplense/<family>_n<N>` is a config with N lenses per class split into train / validation /
# test (`lensml.datasets.split_sizes`); the first load builds it. Each example holds the image and
# what the simulator knows: the label, the Einstein radius, the source centre, the convergence map
# and, for axion lenses, the axion mass.

# %%
name = "deeplense/model_ii_published_n30"
ds, info = tfds.load(name, split="train", data_dir=data_dir, with_info=True)
print(info.splits["train"].num_examples, "training lenses;", info.features["label"].names)
example = next(iter(ds))
print({key: tuple(value.shape) for key, value in example.items()})

# %% [markdown]
# `lensml.data.pipeline` turns a split into `(image, label)` batches for `model.fit`. The images
# stay in counts/s: every lensml model normalises its own input (the *input contract*, saved with
# the model), so a saved model takes raw images of any source.

# %%
train = pipeline(name, "train", batch_size=16, normalization=None, data_dir=data_dir, seed=0)
validation = pipeline(name, "validation", batch_size=16, normalization=None, shuffle=False, data_dir=data_dir)
test = pipeline(name, "test", batch_size=16, normalization=None, shuffle=False, data_dir=data_dir)

model = lensml.models.build("resnet18", input_shape=(64, 64, 1), num_classes=3, width=8)
model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(train, validation_data=validation, epochs=3, verbose=2)

# %% [markdown]
# ## Fresh lenses every step
#
# `simulated_stream` is a `keras.utils.PyDataset` that renders a new, class-balanced batch with
# the batched simulator at each step: the model never sees a lens twice, so it cannot memorise a
# small training set. The same seed gives the same lenses on any machine.

# %%
stream = simulated_stream("model_ii_published", batch_size=24, seed=0, steps_per_epoch=20,
                          normalization=None)
images, labels = stream[0]
print(images.shape, np.bincount(labels))
history = model.fit(stream, validation_data=validation, epochs=4, verbose=2)

# %% [markdown]
# ## Evaluate on the stored test split
#
# `classification_metrics` computes the protocol's metrics (accuracy, micro and macro F1,
# per-class and macro ROC AUC, expected calibration error) from the probabilities.
# `lensml.evaluation.evaluate_model` does the same and writes a report folder with ROC curves,
# the confusion matrix, a reliability diagram and Grad-CAM maps.

# %%
y_true = np.concatenate([y for _, y in test.as_numpy_iterator()])
probs = model.predict(test, verbose=0)
metrics = classification_metrics(y_true, probs, info.features["label"].names)
print({key: round(float(metrics[key]), 3) for key in ("accuracy", "macro_f1", "macro_auc", "ece")})
assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)

# %% [markdown]
# The trained model round-trips through a `.keras` file like any Keras model, and applies to a
# folder of your own images (FITS, .npy, PNG) with `lensml predict` (see Models and presets).

# %%
path = f"{data_dir}/resnet18.keras"
model.save(path)
restored = keras.saving.load_model(path)
np.testing.assert_allclose(restored.predict(test, verbose=0), probs, atol=1e-5)
