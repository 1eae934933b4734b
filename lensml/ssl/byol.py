"""BYOL: online network + predictor regressing an EMA target network."""

from __future__ import annotations

import keras
from keras import ops

from lensml.ssl.base import SSLTrainer, clone_network, ema_update, feature_dim
from lensml.ssl.heads import byol_prediction_head, byol_projection_head
from lensml.ssl.losses import byol_loss
from lensml.ssl.schedules import cosine_momentum
from lensml.ssl.views import LensViews

_PKG = "lensml"


@keras.saving.register_keras_serializable(package=_PKG)
class BYOL(SSLTrainer):
    """Bootstrap Your Own Latent.

    encoder: keras.Model images (B, H, W, C) -> (B, D). The target encoder and projector are
    EMA copies, updated in every train step (one step of lag) with momentum
    m = 1 - (1 - base_momentum) * (cos(pi * k / total_steps) + 1) / 2 at step k, read from
    the `step` variable. Loss: symmetrised 2 - 2 cos(q(view_a), z_target(view_b)).
    views: Keras layer making one random view per call (default: lens-safe D4 + noise + blur,
    the self-supervised DeepLense paper BYOL used flips and rotations).
    """

    keras_parts = ("encoder", "views")

    def __init__(self, encoder, projection_dim=128, hidden_dim=512, base_momentum=0.996,
                 total_steps=1000, views=None, image_shape=None, seed=None, **kwargs):
        super().__init__(encoder, image_shape=image_shape, **kwargs)
        self.projection_dim, self.hidden_dim = int(projection_dim), int(hidden_dim)
        self.base_momentum = float(base_momentum)
        if not 0.0 <= self.base_momentum <= 1.0:
            raise ValueError(f"base_momentum={base_momentum!r}: expected a float in [0, 1]")
        self.total_steps = int(total_steps)
        self.seed = seed
        self.views = views if views is not None else LensViews(seed=seed)
        dim = feature_dim(encoder, self.image_shape)
        self.projector = byol_projection_head(dim, self.hidden_dim, self.projection_dim)
        self.predictor = byol_prediction_head(self.projection_dim, self.hidden_dim, self.projection_dim)
        self.target_encoder = clone_network(encoder, name="target_encoder")
        self.target_projector = clone_network(self.projector, name="target_projector")
        self.build((None,) + tuple(self.image_shape))  # every part exists: mark built

    def momentum(self):
        """Current EMA momentum (float32 scalar tensor)."""
        return cosine_momentum(self.step, self.total_steps, self.base_momentum, 1.0)

    def ssl_loss(self, images):
        v1, v2 = self.views(images), self.views(images)
        q1 = self.predictor(self.projector(self.encoder(v1, training=True), training=True),
                            training=True)
        q2 = self.predictor(self.projector(self.encoder(v2, training=True), training=True),
                            training=True)
        t1 = ops.stop_gradient(self.target_projector(self.target_encoder(v1)))
        t2 = ops.stop_gradient(self.target_projector(self.target_encoder(v2)))
        loss = 0.5 * (byol_loss(q1, t2) + byol_loss(q2, t1))
        m = self.momentum()
        ema_update(self.target_encoder, self.encoder, m)
        ema_update(self.target_projector, self.projector, m)
        return loss

    def get_config(self):
        return {**super().get_config(), "projection_dim": self.projection_dim,
                "hidden_dim": self.hidden_dim, "base_momentum": self.base_momentum,
                "total_steps": self.total_steps, "seed": self.seed}
