"""Masked autoencoder (MAE) pretraining of a ViT encoder that sees only the visible patches."""

from __future__ import annotations

import keras
from keras import ops

from lensml.ssl.base import replica_loss
from lensml.ssl.losses import masked_patch_mse
from lensml.ssl.masking import num_kept, random_masking
from lensml.layers.tokens import extract_patches, sincos_position_embedding, unpatchify
from lensml.layers.attention import TransformerEncoder
from lensml.ssl.tokens import TokenTrainer

_PKG = "lensml"


@keras.saving.register_keras_serializable(package=_PKG)
class MAE(TokenTrainer):
    """Masked autoencoder.

    tokenizer: layer images (B, H, W, C) -> tokens (B, N, D) with positions (default
    ``lensml.ssl.tokens.patch_tokenizer(patch_size, embed_dim)``). encoder: token encoder (B, n, D) -> (B, n, D)
    (default TransformerEncoder(embed_dim, depth, num_heads)); it only ever sees the
    round((1 - mask_ratio) * N) visible tokens of each image. A light decoder (width
    decoder_dim, decoder_depth blocks) fills mask tokens back in and predicts each patch's
    pixels; the loss is the MSE on the hidden patches, against per-patch normalised pixels
    when norm_pix_loss. mask_ratio in [0.5, 0.9] (the MAE paper found 0.9 best for classification).
    cls_token: a learned class token prepended to the visible tokens (as He et al.'s MAE); the
    image feature is then its output (the DeepLense MAE paper classifies with "a linear head on
    the CLS token"); the decoder reads the patch tokens only. Else the feature is the mean token.
    call(images) -> (B, D) image features of the unmasked image.
    """

    encoder_name = "mae_encoder"

    def __init__(self, encoder=None, tokenizer=None, image_shape=(64, 64, 1), patch_size=8,
                 embed_dim=64, depth=4, num_heads=4, decoder_dim=32, decoder_depth=1,
                 decoder_heads=4, mask_ratio=0.75, norm_pix_loss=True, cls_token=False, seed=None, **kwargs):
        if not 0.5 <= float(mask_ratio) <= 0.9:
            raise ValueError(f"mask_ratio={mask_ratio!r}: expected a float in [0.5, 0.9]")
        super().__init__(encoder=encoder, tokenizer=tokenizer, image_shape=image_shape, patch_size=patch_size,
                         embed_dim=embed_dim, depth=depth, num_heads=num_heads, seed=seed, **kwargs)
        c = self.image_shape[2]
        self.decoder_dim, self.decoder_depth = int(decoder_dim), int(decoder_depth)
        self.decoder_heads = int(decoder_heads)
        self.mask_ratio, self.norm_pix_loss = float(mask_ratio), bool(norm_pix_loss)
        self.cls_token = bool(cls_token)
        if self.cls_token:
            from lensml.layers import ClassToken

            self.class_token = ClassToken(name="cls_token")
        self.decoder_embed = keras.layers.Dense(self.decoder_dim, name="decoder_embed")
        self.decoder = TransformerEncoder(self.decoder_dim, self.decoder_depth, self.decoder_heads,
                                          name="decoder")
        self.decoder_pred = keras.layers.Dense(self.patch_size ** 2 * c, name="decoder_pred")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._decoder_pos = sincos_position_embedding(*self.grid, self.decoder_dim)
        self.mask_token = self.add_weight(shape=(self.decoder_dim,), name="mask_token",
                                          initializer=keras.initializers.RandomNormal(stddev=0.02))
        self._build_all()
        self.build((None,) + tuple(self.image_shape))  # every part exists: mark built

    def _build_all(self):
        # Shapes only: no eager forward pass (slow on JAX, where every op compiles).
        h, w, c = self.image_shape
        n, d = self.num_patches, self.embed_dim
        if not self.tokenizer.built:
            self.tokenizer.build((None,) + self.image_shape)
        if not self.encoder.built:
            self.encoder.build((None, None, d))
        if self.class_token is not None:
            self.class_token.build((None, None, d))
        self.decoder_embed.build((None, None, d))
        self.decoder.build((None, n, self.decoder_dim))
        self.decoder_pred.build((None, n, self.decoder_dim))

    @property
    def num_visible(self):
        """Visible patches per image: round((1 - mask_ratio) * N)."""
        return num_kept(self.num_patches, self.mask_ratio)

    def build(self, input_shape=None):
        # Every part is built in __init__.
        pass

    def _encode(self, tokens, training=False):
        """The encoder on ``tokens`` (B, n, D), with the class token first when there is one:
        (class token output (B, D) or None, patch token outputs (B, n, D))."""
        if self.class_token is None:
            return None, self.encoder(tokens, training=training)
        out = self.encoder(ops.concatenate([self.class_token(tokens), tokens], axis=1), training=training)
        return out[:, 0], out[:, 1:]

    def call(self, images, training=False):
        cls, tokens = self._encode(self.tokenizer(images))
        return ops.mean(tokens, axis=1) if cls is None else cls

    def reconstruct(self, images, training=False):
        """Run the masked autoencoder once.

        Returns (pred_patches (B, N, p*p*C), mask (B, N) with 1 = hidden).
        """
        batch = ops.shape(images)[0]
        tokens = self.tokenizer(images)
        keep, restore, mask = random_masking(batch, self.num_patches, self.mask_ratio,
                                             self.seed_generator)
        visible = ops.take_along_axis(tokens, keep[:, :, None], axis=1)
        _, latent = self._encode(visible, training=training)
        x = self.decoder_embed(latent)
        n_mask = self.num_patches - self.num_visible
        filler = ops.broadcast_to(ops.cast(self.mask_token, x.dtype)[None, None, :],
                                  (batch, n_mask, self.decoder_dim))
        x = ops.concatenate([x, filler], axis=1)
        x = ops.take_along_axis(x, restore[:, :, None], axis=1)
        x = x + ops.convert_to_tensor(self._decoder_pos, dtype=x.dtype)[None]
        return self.decoder_pred(self.decoder(x, training=training)), mask

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images = x[0] if isinstance(x, (tuple, list)) else x
        pred, mask = self.reconstruct(images, training=training)
        return replica_loss(masked_patch_mse(pred, extract_patches(images, self.patch_size), mask, self.norm_pix_loss))

    def reconstruction_images(self, images):
        """Predicted images (B, H, W, C) (in normalised-patch units if norm_pix_loss) and mask."""
        pred, mask = self.reconstruct(images)
        h, w, c = self.image_shape
        return unpatchify(pred, self.patch_size, h, w, c), mask

    def get_config(self):
        return {**super().get_config(), "decoder_dim": self.decoder_dim, "decoder_depth": self.decoder_depth,
                "decoder_heads": self.decoder_heads, "mask_ratio": self.mask_ratio,
                "norm_pix_loss": self.norm_pix_loss, "cls_token": self.cls_token}
