"""I-JEPA: predict EMA-target features of hidden blocks from a context block, in latent space."""

from __future__ import annotations

import keras
from keras import ops

from lensml.ssl.base import clone_network, ema_update, replica_loss
from lensml.ssl.losses import smooth_l1
from lensml.ssl.masking import jepa_masks
from lensml.ssl.schedules import linear_momentum
from lensml.layers.tokens import sincos_position_embedding
from lensml.layers.attention import TransformerEncoder
from lensml.ssl.tokens import TokenTrainer, image_encoder

_PKG = "lensml"


def _layer_norm(x, epsilon=1e-6):
    """Parameter-free layer norm over the feature axis (I-JEPA's target normalisation)."""
    mean = ops.mean(x, axis=-1, keepdims=True)
    var = ops.var(x, axis=-1, keepdims=True)
    return (x - mean) / ops.sqrt(var + epsilon)


@keras.saving.register_keras_serializable(package=_PKG)
class IJEPA(TokenTrainer):
    """Image-based joint-embedding predictive architecture.

    tokenizer: layer images (B, H, W, C) -> tokens (B, N, D) with positions, N = grid_h *
    grid_w patches of `patch_size` (default ``lensml.ssl.tokens.patch_tokenizer``). encoder: token encoder taking
    ``(tokens, key_mask=...)`` (default TransformerEncoder(embed_dim, depth, num_heads)).
    The context encoder sees only the context tokens (a key mask); the target encoder
    (EMA copy, momentum linear from base_momentum to final_momentum over total_steps, read
    from the `step` variable) sees the whole image; its features are layer-normed. The
    predictor (width predictor_dim, predictor_depth blocks) predicts each of the
    `num_targets` target blocks from the context plus mask tokens at the target positions;
    loss: smooth-L1 on the target tokens. Masks: see lensml.ssl.masking.jepa_masks.
    call(images) -> (B, D), the mean target-encoder token of the whole image.
    """

    def __init__(self, encoder=None, tokenizer=None, image_shape=(64, 64, 1), patch_size=8,
                 embed_dim=64, depth=4, num_heads=4, predictor_dim=32, predictor_depth=2,
                 predictor_heads=4, num_targets=4, target_scale=(0.15, 0.2),
                 target_aspect=(0.75, 1.5), context_scale=(0.85, 1.0), base_momentum=0.996,
                 final_momentum=1.0, total_steps=1000, seed=None, **kwargs):
        super().__init__(encoder=encoder, tokenizer=tokenizer, image_shape=image_shape, patch_size=patch_size,
                         embed_dim=embed_dim, depth=depth, num_heads=num_heads, seed=seed, **kwargs)
        self.predictor_dim, self.predictor_depth = int(predictor_dim), int(predictor_depth)
        self.predictor_heads = int(predictor_heads)
        self.num_targets = int(num_targets)
        if self.num_targets < 1:
            raise ValueError(f"num_targets={num_targets!r}: expected an integer >= 1")
        self.target_scale = tuple(float(v) for v in target_scale)
        self.target_aspect = tuple(float(v) for v in target_aspect)
        self.context_scale = tuple(float(v) for v in context_scale)
        self.base_momentum, self.final_momentum = float(base_momentum), float(final_momentum)
        self.total_steps = int(total_steps)
        # Shapes only: no eager forward pass (slow on JAX, where every op compiles).
        if not self.tokenizer.built:
            self.tokenizer.build((None,) + self.image_shape)
        token_shape = tuple(self.tokenizer.compute_output_shape((None,) + self.image_shape))
        if token_shape[1:] != (self.num_patches, self.embed_dim):
            raise ValueError(f"tokenizer: expected tokens (B, {self.num_patches}, {self.embed_dim}), "
                             f"got {token_shape}")
        tokens_shape = (None, self.num_patches, self.embed_dim)
        if not self.encoder.built:
            self.encoder.build(tokens_shape)
        self.target_tokenizer = clone_network(self.tokenizer, "target_tokenizer",
                                              input_shape=(None,) + self.image_shape)
        self.target_encoder = clone_network(self.encoder, "target_encoder",
                                            input_shape=tokens_shape)
        self.predictor_embed = keras.layers.Dense(self.predictor_dim, name="predictor_embed")
        self.predictor = TransformerEncoder(self.predictor_dim, self.predictor_depth,
                                            self.predictor_heads, name="predictor")
        self.predictor_out = keras.layers.Dense(self.embed_dim, name="predictor_out")
        self.predictor_embed.build(tokens_shape)
        self.predictor.build((None, self.num_patches, self.predictor_dim))
        self.predictor_out.build((None, self.num_patches, self.predictor_dim))
        self._predictor_pos = sincos_position_embedding(*self.grid, self.predictor_dim)
        self.mask_token = self.add_weight(shape=(self.predictor_dim,), name="mask_token",
                                          initializer=keras.initializers.RandomNormal(stddev=0.02))
        self.step = self.add_weight(shape=(), initializer="zeros", trainable=False, name="step")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.build((None,) + tuple(self.image_shape))  # every part exists: mark built

    def momentum(self):
        """Current target EMA momentum (float32 scalar tensor)."""
        return linear_momentum(self.step, self.total_steps, self.base_momentum, self.final_momentum)

    def build(self, input_shape=None):
        # Every part is built in __init__.
        pass

    def call(self, images, training=False):
        return ops.mean(self.target_encoder(self.target_tokenizer(images)), axis=1)

    def masks(self, batch_size):
        """(context (B, N), targets (num_targets, B, N)) float32 masks, 1 = in the block."""
        return jepa_masks(batch_size, self.grid, self.seed_generator, self.num_targets,
                          self.target_scale, self.target_aspect, self.context_scale)

    def jepa_loss(self, images, training=True):
        """Smooth-L1 between predicted and layer-normed target features on the target blocks."""
        batch = ops.shape(images)[0]
        m, n = self.num_targets, self.num_patches
        context, targets = self.masks(batch)
        target_feats = _layer_norm(self.target_encoder(self.target_tokenizer(images)))
        target_feats = ops.stop_gradient(target_feats)
        ctx = self.encoder(self.tokenizer(images), key_mask=context, training=training)
        z = self.predictor_embed(ctx)
        pos = ops.convert_to_tensor(self._predictor_pos, dtype=z.dtype)[None]
        # All target blocks in one predictor pass: tile the batch num_targets times.
        z = ops.tile(z + pos, (m, 1, 1))
        ctx_m = ops.tile(context, (m, 1))[:, :, None]
        tgt_m = ops.reshape(targets, (m * batch, n))[:, :, None]
        filler = ops.cast(self.mask_token, z.dtype)[None, None, :] + pos
        x = ctx_m * z + tgt_m * filler
        out = self.predictor(x, key_mask=ctx_m[..., 0] + tgt_m[..., 0], training=training)
        pred = self.predictor_out(out)
        return smooth_l1(pred, ops.tile(target_feats, (m, 1, 1)), mask=tgt_m[..., 0])

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images = x[0] if isinstance(x, (tuple, list)) else x
        loss = self.jepa_loss(images, training=training)
        if training:
            mom = self.momentum()
            ema_update(self.target_tokenizer, self.tokenizer, mom)
            ema_update(self.target_encoder, self.encoder, mom)
            self.step.assign_add(1.0)
        return replica_loss(loss)

    def image_encoder(self, pool="default", which="target"):
        """The pretrained encoder as a keras.Model: images -> (B, D) (the mean token; "default"
        is "mean") or tokens (pool=None).

        which: "target" (the EMA encoder, as I-JEPA evaluates) or "context".
        """
        pool = self.default_pool if pool == "default" else pool
        if which == "target":
            return image_encoder(self.target_tokenizer, self.target_encoder, self.image_shape,
                                 pool=pool, name="jepa_target_encoder")
        if which == "context":
            return image_encoder(self.tokenizer, self.encoder, self.image_shape, pool=pool,
                                 name="jepa_context_encoder")
        raise ValueError(f"which={which!r}: expected 'target' or 'context'")

    def get_config(self):
        return {**super().get_config(),
                "predictor_dim": self.predictor_dim, "predictor_depth": self.predictor_depth,
                "predictor_heads": self.predictor_heads, "num_targets": self.num_targets,
                "target_scale": list(self.target_scale), "target_aspect": list(self.target_aspect),
                "context_scale": list(self.context_scale), "base_momentum": self.base_momentum,
                "final_momentum": self.final_momentum, "total_steps": self.total_steps}
