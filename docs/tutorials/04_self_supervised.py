# %% [markdown]
# # Pretrain without labels, fine-tune with a few
#
# Self-supervised pretraining learns an encoder from unlabelled images; a classifier on top of
# it then needs fewer labels. In lensml every trainer (SimCLR, BYOL, SimSiam, DINO, MAE, I-JEPA,
# Lens-JEPA) is a `keras.Model`: `compile` and `fit` on images, on TensorFlow or JAX. Here SimCLR
# with the rotation pretext (two views of each lens, related by one of the 8 rotations and
# reflections of the square) pretrains a narrow ResNet18 on fresh unlabelled lenses, and a
# classifier is fine-tuned on 10 labelled lenses per class, beside the same network trained from
# scratch on the same labels.
#
# At this tiny scale (a few hundred steps) the gap between the two is noise; the command-line
# protocol `lensml pretrain` / `lensml finetune` and the SSL reproduction table run the
# comparison with several seeds.

# %%
import tempfile

import keras
import numpy as np

import lensml
from lensml.data import pipeline, simulated_stream
from lensml.ssl import SimCLR
from lensml.ssl.finetune import build_classifier

data_dir = tempfile.mkdtemp()
keras.utils.set_random_seed(0)

# %% [markdown]
# ## Pretraining on unlabelled lenses
#
# `target=None` makes the stream yield images only. The trainer's loss (NT-Xent) lives in its
# `compute_loss`, so `fit` needs no labels.

# %%
unlabelled = simulated_stream("model_ii_published", batch_size=32, seed=0, steps_per_epoch=15, target=None)
encoder = lensml.models.build_encoder("resnet18", (64, 64, 1), width=8)
trainer = SimCLR(encoder, pretext="rotation", projection_dim=32, hidden_dim=64, seed=0)
trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
history = trainer.fit(unlabelled, epochs=3, verbose=2)
assert np.isfinite(history.history["loss"]).all()

# %% [markdown]
# ## Fine-tuning on 10 labels per class
#
# `fraction` keeps a stratified subset of the training labels (the same rule for every protocol
# in lensml). `build_classifier` puts a classification head on the pretrained encoder; with
# `mode="linear_probe"` the encoder stays frozen instead.

# %%
name = "deeplense/model_ii_published_n30"
few = pipeline(name, "train", batch_size=15, fraction=30 / 66, data_dir=data_dir, seed=0)
test = pipeline(name, "test", batch_size=32, shuffle=False, data_dir=data_dir)
print("labelled lenses:", sum(int(y.shape[0]) for _, y in few))


def fit_and_test(encoder):
    model = build_classifier(encoder, num_classes=3, mode="finetune", normalization="minmax")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(few, epochs=10, verbose=0)
    return model.evaluate(test, verbose=0, return_dict=True)["accuracy"]


pretrained = fit_and_test(trainer.encoder)
scratch = fit_and_test(lensml.models.build_encoder("resnet18", (64, 64, 1), width=8))
print(f"test accuracy, pretrained: {pretrained:.3f}; from scratch: {scratch:.3f}")
