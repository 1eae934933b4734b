"""SimCLR contrastive pretraining (NT-Xent) with the self-supervised DeepLense paper's rotation and noise pretexts."""

from __future__ import annotations

import keras

from lensml.ssl.base import SSLTrainer, feature_dim
from lensml.ssl.heads import simclr_projection_head
from lensml.ssl.losses import nt_xent_loss
from lensml.ssl.views import pretext_views

_PKG = "lensml"


@keras.saving.register_keras_serializable(package=_PKG)
class SimCLR(SSLTrainer):
    """Contrastive learning: two views per image, projection MLP, NT-Xent loss.

    encoder: keras.Model images (B, H, W, C) -> features (B, D).
    pretext: "rotation" (random 90-degree rotations), "noise" (Gaussian noise views) or
    "lens" (D4 + noise + PSF blur); ignored when `views` (a Keras layer) is given.
    temperature: NT-Xent temperature. projection_dim / hidden_dim: projection MLP sizes.
    Train with ``fit(images)``; the targets, if any, are ignored.
    """

    keras_parts = ("encoder", "views")

    def __init__(self, encoder, pretext="rotation", temperature=0.5, projection_dim=128,
                 hidden_dim=512, noise_stddev=0.1, views=None, image_shape=None, seed=None,
                 **kwargs):
        super().__init__(encoder, image_shape=image_shape, **kwargs)
        self.pretext = pretext
        self.temperature = float(temperature)
        if self.temperature <= 0:
            raise ValueError(f"temperature={temperature!r}: expected a positive float")
        self.projection_dim, self.hidden_dim = int(projection_dim), int(hidden_dim)
        self.noise_stddev = float(noise_stddev)
        self.seed = seed
        self.views = views if views is not None else pretext_views(pretext, seed, noise_stddev)
        self.projector = simclr_projection_head(feature_dim(encoder, self.image_shape), self.hidden_dim,
                                                self.projection_dim)
        self.build((None,) + tuple(self.image_shape))  # every part exists: mark built

    def ssl_loss(self, images):
        v1, v2 = self.views(images), self.views(images)
        z1 = self.projector(self.encoder(v1, training=True), training=True)
        z2 = self.projector(self.encoder(v2, training=True), training=True)
        return nt_xent_loss(z1, z2, self.temperature)

    def get_config(self):
        return {**super().get_config(), "pretext": self.pretext, "temperature": self.temperature,
                "projection_dim": self.projection_dim, "hidden_dim": self.hidden_dim,
                "noise_stddev": self.noise_stddev, "seed": self.seed}
