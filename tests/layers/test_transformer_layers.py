"""Tokenizers, attention layers and transformer blocks: shapes, behaviour, config, .keras."""

import numpy as np
import pytest
import keras

from lensml.layers import (
    MLP,
    ClassAttention,
    ClassAttentionBlock,
    ClassToken,
    ConvProjection,
    ConvTokenEmbedding,
    ConvTransformerBlock,
    LayerScale,
    LocalitySelfAttention,
    PatchEmbedding,
    ShiftedPatchTokenization,
    TransformerBlock,
)
from lensml.layers.tokens import extract_patches, shift_image


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def test_patch_embedding_shapes(rng):
    x = rng.random((2, 16, 16, 1)).astype("float32")
    assert PatchEmbedding(4, 8)(x).shape == (2, 17, 8)
    assert PatchEmbedding(4, 8, cls_token=False)(x).shape == (2, 16, 8)


def test_linear_and_conv_patch_projections_are_the_same_map(rng):
    # MAE's linear projection of flattened patches is ViT's strided convolution with its kernel
    # reshaped: one token stack, two weight layouts.
    x = rng.random((2, 16, 16, 3)).astype("float32")
    conv = PatchEmbedding(4, 8, cls_token=False, position_embedding=None)
    linear = PatchEmbedding(4, 8, projection="linear", cls_token=False, position_embedding=None)
    conv(x), linear(x)
    kernel, bias = conv.projection.get_weights()
    linear.projection.set_weights([kernel.reshape(4 * 4 * 3, 8), bias])
    np.testing.assert_allclose(_np(linear(x)), _np(conv(x)), atol=1e-5)


def test_sincos_positions_are_fixed_and_mae_s(rng):
    from lensml.layers import sincos_position_embedding

    layer = PatchEmbedding(4, 8, projection="linear", cls_token=False, position_embedding="sincos")
    zeros = np.zeros((1, 16, 16, 1), "float32")
    np.testing.assert_allclose(_np(layer(zeros))[0], sincos_position_embedding(4, 4, 8) + _np(layer.projection.bias))
    assert len(layer.trainable_weights) == 2  # the projection only: the positions are no weight
    pos = sincos_position_embedding(2, 3, 8)
    assert pos.shape == (6, 8)
    # [sin, cos] of the row index, then of the column index, at frequencies 1 and 1/100 (dim 8)
    np.testing.assert_allclose(pos[0], [0, 0, 1, 1, 0, 0, 1, 1], atol=1e-7)  # patch (0, 0)
    np.testing.assert_allclose(pos[3, :4], [np.sin(1), np.sin(0.01), np.cos(1), np.cos(0.01)], rtol=1e-6)  # row 1
    np.testing.assert_allclose(pos[3, 4:], pos[0, 4:])  # column 0 again
    with pytest.raises(ValueError, match="cls_token=False"):
        PatchEmbedding(4, 8, position_embedding="sincos")
    with pytest.raises(ValueError, match="position_embedding='rope'"):
        PatchEmbedding(4, 8, position_embedding="rope")
    with pytest.raises(ValueError, match="projection='mlp'"):
        PatchEmbedding(4, 8, projection="mlp")


def test_a_token_encoder_saved_with_the_earlier_patch_tokenizer_loads_with_its_weights():
    # tests/layers/data: lensml's small ViT encoder (build_vit_encoder) saved by the version whose token
    # trainers had their own PatchTokenizer layer, with its features on fixed images.
    from pathlib import Path

    from lensml.layers import PatchTokenizer

    data = Path(__file__).with_name("data") / "ssl_vit_encoder_patch_tokenizer"
    model = keras.saving.load_model(data.with_suffix(".keras"), safe_mode=True)
    tokenizer = model.get_layer("tokenizer")
    assert isinstance(tokenizer, PatchTokenizer) and isinstance(tokenizer, PatchEmbedding)
    reference = np.load(data.with_suffix(".npz"))
    np.testing.assert_allclose(_np(model(reference["images"])), reference["features"], atol=1e-5)
    # and it is the configuration the token trainers build now
    from lensml.ssl import patch_tokenizer

    now = patch_tokenizer(4, 8)
    assert {k: v for k, v in now.get_config().items() if k not in ("name", "dtype", "trainable")} == {
        "patch_size": 4, "embed_dim": 8, "projection": "linear", "cls_token": False, "position_embedding": "sincos"}


@pytest.mark.parametrize("layer", [PatchEmbedding, ShiftedPatchTokenization])
def test_patch_size_must_divide_image(layer):
    with pytest.raises(ValueError, match="not divisible by patch_size=5"):
        layer(5, 8)(np.zeros((1, 16, 16, 1), "float32"))


def test_extract_patches_order():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    p = _np(extract_patches(x, 2))
    np.testing.assert_array_equal(p[0, 0], [0, 1, 4, 5])
    np.testing.assert_array_equal(p[0, 1], [2, 3, 6, 7])
    # several channels: each patch flattened (row, column, channel), as the reshape reference
    x = np.random.default_rng(0).normal(size=(2, 8, 12, 3)).astype("float32")
    ref = x.reshape(2, 2, 4, 3, 4, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 6, 48)
    np.testing.assert_array_equal(_np(extract_patches(x, 4)), ref)
    from lensml.layers.tokens import unpatchify

    np.testing.assert_array_equal(_np(unpatchify(extract_patches(x, 4), 4, 8, 12, 3)), x)


def test_shift_image_zero_fill():
    x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    y = _np(shift_image(x, 1, -1))[0, :, :, 0]
    np.testing.assert_array_equal(y, [[0, 0, 0], [1, 2, 0], [4, 5, 0]])


@pytest.mark.parametrize("shift", ["diagonal", "rectangular"])
def test_shifted_patch_tokenization(rng, shift):
    x = rng.random((2, 16, 16, 1)).astype("float32")
    spt = ShiftedPatchTokenization(8, 12, shift=shift, layer_norm=shift == "diagonal")
    assert spt(x).shape == (2, 5, 12)
    # 5 image copies x 8 x 8 pixels feed the projection.
    assert spt.projection.kernel.shape == (320, 12)
    with pytest.raises(ValueError, match="shift"):
        ShiftedPatchTokenization(8, 12, shift="sideways")


def test_lsa_masks_the_diagonal(rng):
    x = rng.normal(size=(1, 3, 4)).astype("float32")
    lsa = LocalitySelfAttention(1)
    lsa(x)
    # Values are the one-hot token index: the output is then the attention matrix
    # (through an identity output projection), whose diagonal must be 0.
    lsa.v.kernel.assign(np.eye(4, dtype="float32"))
    lsa.out.kernel.assign(np.eye(4, dtype="float32"))
    lsa.out.bias.assign(np.zeros(4, "float32"))
    onehot = np.eye(3, 4, dtype="float32")[None]
    out = _np(lsa(x, x, onehot))[0, :, :3]
    np.testing.assert_allclose(np.diag(out), 0.0, atol=1e-7)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert lsa.temperature.trainable and np.allclose(_np(lsa.temperature), 0.5)
    plain = LocalitySelfAttention(2, diagonal_mask=False, learnable_temperature=False)
    plain(x)
    assert not plain.temperature.trainable


def test_lsa_cross_attention_needs_equal_tokens(rng):
    with pytest.raises(ValueError, match="diagonal mask"):
        LocalitySelfAttention(2)(np.zeros((1, 3, 4), "float32"), np.zeros((1, 5, 4), "float32"))


def test_class_attention_and_layer_scale(rng):
    tokens = rng.normal(size=(2, 5, 8)).astype("float32")
    assert ClassAttention(2)(tokens).shape == (2, 1, 8)
    ls = LayerScale(0.1)
    np.testing.assert_allclose(_np(ls(tokens)), 0.1 * tokens, rtol=1e-6)
    cls = ClassToken()(tokens)
    assert cls.shape == (2, 1, 8)
    assert ClassAttentionBlock(2, 16)([cls, tokens]).shape == (2, 1, 8)


def test_transformer_block_modes(rng):
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    assert TransformerBlock(2, 16)(x).shape == (2, 5, 8)
    assert TransformerBlock(2, 16, attention="lsa", layer_scale=0.1, key_dim=6)(x).shape == (2, 5, 8)
    assert TransformerBlock(2, 16, attention="lsa")([x, x[::-1]]).shape == (2, 5, 8)
    with pytest.raises(ValueError, match="num_heads"):
        TransformerBlock(3, 16)(x)
    with pytest.raises(ValueError, match="attention"):
        TransformerBlock(2, 16, attention="linear")


def test_cvt_layers(rng):
    x = rng.normal(size=(2, 16, 16, 1)).astype("float32")
    t = ConvTokenEmbedding(8, 7, 4)(x)
    assert t.shape == (2, 4, 4, 8)
    assert ConvProjection(3, 2)(t).shape == (2, 4, 8)
    assert ConvTransformerBlock(2, kv_strides=2)(t).shape == (2, 4, 4, 8)


def test_transformer_layers_save_roundtrip(tmp_path, rng):
    inputs = keras.Input((16, 16, 1))
    a = ShiftedPatchTokenization(8, 8)(inputs)
    a = TransformerBlock(2, 16, attention="lsa")(a)
    b = PatchEmbedding(8, 8)(inputs)
    b = TransformerBlock(2, 16, layer_scale=0.1)([b, a])
    c = ClassAttentionBlock(2, 16)([ClassToken()(b), b])
    d = ConvTransformerBlock(2)(ConvTokenEmbedding(8, 3, 4)(inputs))
    d = keras.layers.GlobalAveragePooling2D()(d)
    out = keras.layers.Concatenate()([keras.layers.Flatten()(c), d,
                                      keras.layers.Flatten()(MLP(4, 2)(a))])
    model = keras.Model(inputs, out)
    data = rng.random((2, 16, 16, 1)).astype("float32")
    path = tmp_path / "tf.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_np(loaded(data)), _np(model(data)), rtol=1e-5, atol=1e-6)


def test_lsa_attention_mask_follows_multi_head_attention(rng):
    # With its two LSA changes off, LocalitySelfAttention is plain attention: the same outputs
    # as Keras MultiHeadAttention (weights copied over) under the same boolean attention_mask.
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    mask = rng.random((2, 5, 5)) > 0.4
    mask[:, :, 0] = True
    lsa = LocalitySelfAttention(2, diagonal_mask=False, learnable_temperature=False)
    mha = keras.layers.MultiHeadAttention(2, 4, use_bias=False)
    lsa(x)
    mha(x, x)
    mha.query_dense.kernel.assign(_np(lsa.q.kernel).reshape(8, 2, 4))
    mha.key_dense.kernel.assign(_np(lsa.k.kernel).reshape(8, 2, 4))
    mha.value_dense.kernel.assign(_np(lsa.v.kernel).reshape(8, 2, 4))
    mha.output_dense.kernel.assign(_np(lsa.out.kernel).reshape(2, 4, 8))
    out = _np(lsa(x, attention_mask=mask)) - _np(lsa.out.bias)
    np.testing.assert_allclose(out, _np(mha(x, x, attention_mask=mask)), atol=1e-5)
    assert not np.allclose(_np(lsa(x)), _np(lsa(x, attention_mask=mask)))


@pytest.mark.parametrize("locality", [False, True])
def test_token_encoder_key_mask_hides_tokens(rng, locality):
    # lensml.ssl.tokens.TransformerEncoder: a stack of TransformerBlock; a masked token changes
    # nothing for the others, whatever its value (what the JEPA context encoder relies on).
    from lensml.layers import TransformerEncoder

    encoder = TransformerEncoder(8, depth=2, num_heads=2, locality=locality)
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    key_mask = np.array([[1, 1, 1, 0, 1, 0], [1, 0, 1, 1, 1, 1]], "float32")
    changed = np.where(key_mask[..., None] > 0, x, 100.0 * rng.normal(size=x.shape)).astype("float32")
    a, b = _np(encoder(x, key_mask=key_mask)), _np(encoder(changed, key_mask=key_mask))
    visible = key_mask > 0
    np.testing.assert_allclose(a[visible], b[visible], atol=1e-4)
    assert not np.allclose(_np(encoder(x)), a)
    assert [type(blk).__name__ for blk in encoder.blocks] == ["TransformerBlock"] * 2
    attention = type(encoder.blocks[0].attention).__name__
    assert attention == ("LocalitySelfAttention" if locality else "MultiHeadAttention")
