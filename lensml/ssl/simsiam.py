"""SimSiam: one encoder, a predictor and a stop-gradient, no negatives and no EMA."""

from __future__ import annotations

import keras
from keras import ops

from lensml.ssl.base import SSLTrainer, feature_dim
from lensml.ssl.heads import simsiam_prediction_head, simsiam_projection_head
from lensml.ssl.losses import negative_cosine
from lensml.ssl.views import LensViews

_PKG = "lensml"


@keras.saving.register_keras_serializable(package=_PKG)
class SimSiam(SSLTrainer):
    """Simple Siamese networks.

    encoder: keras.Model images (B, H, W, C) -> (B, D). projector (3-layer MLP with BN) to
    `projection_dim`, predictor bottleneck `predictor_dim`. Loss:
    (D(p1, sg(z2)) + D(p2, sg(z1))) / 2 with D the negative cosine similarity.
    """

    keras_parts = ("encoder", "views")

    def __init__(self, encoder, projection_dim=128, predictor_dim=32, views=None,
                 image_shape=None, seed=None, **kwargs):
        super().__init__(encoder, image_shape=image_shape, **kwargs)
        self.projection_dim, self.predictor_dim = int(projection_dim), int(predictor_dim)
        self.seed = seed
        self.views = views if views is not None else LensViews(seed=seed)
        dim = feature_dim(encoder, self.image_shape)
        self.projector = simsiam_projection_head(dim, self.projection_dim, self.projection_dim)
        self.predictor = simsiam_prediction_head(self.projection_dim, self.predictor_dim, self.projection_dim)
        self.build((None,) + tuple(self.image_shape))  # every part exists: mark built

    def ssl_loss(self, images):
        v1, v2 = self.views(images), self.views(images)
        z1 = self.projector(self.encoder(v1, training=True), training=True)
        z2 = self.projector(self.encoder(v2, training=True), training=True)
        p1, p2 = self.predictor(z1, training=True), self.predictor(z2, training=True)
        return 0.5 * (negative_cosine(p1, ops.stop_gradient(z2))
                      + negative_cosine(p2, ops.stop_gradient(z1)))

    def get_config(self):
        return {**super().get_config(), "projection_dim": self.projection_dim,
                "predictor_dim": self.predictor_dim, "seed": self.seed}
