"""D4 layers: group structure, equivariance of every layer (< 1e-5 in float32), config, save."""

import numpy as np
import pytest
import keras

from lensml.layers import (
    D4BatchNormalization,
    D4GroupConv2D,
    D4GroupPooling,
    D4LiftingConv2D,
    D4Transform,
    d4_transform,
    d4_transform_fields,
)
from lensml.layers import d4


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _rel_err(a, b):
    return float(np.max(np.abs(_np(a) - _np(b))) / (np.max(np.abs(_np(b))) + 1e-12))


def test_group_table_is_a_group():
    table = d4.CAYLEY
    assert sorted(table[0]) == list(range(8))
    assert all(table[0, g] == g and table[g, 0] == g for g in range(8))
    for a in range(8):
        assert sorted(table[a]) == list(range(8))  # Latin square
        for b in range(8):
            for c in range(8):
                assert table[table[a, b], c] == table[a, table[b, c]]
    # D4 is not abelian; a quarter turn has order 4, a mirror order 2.
    assert any(table[a, b] != table[b, a] for a in range(8) for b in range(8))
    assert table[table[1, 1], table[1, 1]] == 0 and table[4, 4] == 0


def test_transform_matches_numpy(rng):
    x = rng.normal(size=(2, 5, 5, 3)).astype("float32")
    for g in range(8):
        expected = np.stack([d4._np_transform(xi, g) for xi in x])
        np.testing.assert_array_equal(_np(d4_transform(x, g)), expected)
    np.testing.assert_array_equal(_np(d4_transform(x, 1)), np.rot90(x, 1, axes=(1, 2)))


def test_transform_bad_element():
    with pytest.raises(ValueError, match="g=8"):
        d4_transform(np.zeros((1, 3, 3, 1), "float32"), 8)


@pytest.fixture(scope="module")
def d4_stack():
    lift = D4LiftingConv2D(3, 5, name="lift")
    conv = D4GroupConv2D(4, 3, name="conv")
    conv1 = D4GroupConv2D(2, 1, name="conv1x1")
    bn = D4BatchNormalization(name="bn")
    pool = D4GroupPooling("max", name="pool")
    return lift, conv, conv1, bn, pool


@pytest.mark.parametrize("g", range(1, 8))
def test_layer_equivariance(d4_stack, rng, g):
    lift, conv, conv1, bn, pool = d4_stack
    x = rng.normal(size=(2, 11, 11, 2)).astype("float32")
    f = lift(x)
    assert f.shape == (2, 11, 11, 24)
    assert _rel_err(lift(d4_transform(x, g)), d4_transform_fields(f, g)) < 1e-5
    h = conv(f)
    assert _rel_err(conv(d4_transform_fields(f, g)), d4_transform_fields(h, g)) < 1e-5
    assert _rel_err(conv1(d4_transform_fields(h, g)), d4_transform_fields(conv1(h), g)) < 1e-5
    for training in (True, False):
        assert _rel_err(bn(d4_transform_fields(h, g), training=training),
                        d4_transform_fields(bn(h, training=training), g)) < 1e-5
    for mode in ("max", "mean"):
        p = D4GroupPooling(mode)
        assert _rel_err(p(d4_transform_fields(h, g)), d4_transform(p(h), g)) < 1e-5
    act = keras.layers.ReLU()
    assert _rel_err(act(d4_transform_fields(h, g)), d4_transform_fields(act(h), g)) < 1e-5


def test_transform_fields_is_an_action(rng):
    f = rng.normal(size=(1, 4, 4, 16)).astype("float32")
    for a in range(8):
        for b in (1, 4, 5):
            ab = D4Transform.multiply(a, b)
            np.testing.assert_allclose(_np(d4_transform_fields(d4_transform_fields(f, b), a)),
                                       _np(d4_transform_fields(f, ab)))


def test_batch_norm_shares_statistics(rng):
    bn = D4BatchNormalization(momentum=0.0)
    x = rng.normal(2.0, 3.0, size=(4, 6, 6, 16)).astype("float32")
    y = _np(bn(x, training=True))
    per_field = y.reshape(4, 6, 6, 2, 8)
    np.testing.assert_allclose(per_field.mean(axis=(0, 1, 2, 4)), 0.0, atol=1e-4)
    np.testing.assert_allclose(per_field.var(axis=(0, 1, 2, 4)), 1.0, atol=1e-3)
    np.testing.assert_allclose(_np(bn.moving_mean), x.reshape(-1, 2, 8).mean(axis=(0, 2)), rtol=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size"):
        D4LiftingConv2D(4, 4)
    with pytest.raises(ValueError, match="filters"):
        D4GroupConv2D(0)
    with pytest.raises(ValueError, match="multiple of 8"):
        D4GroupConv2D(2)(np.zeros((1, 5, 5, 6), "float32"))
    with pytest.raises(ValueError, match="mode"):
        D4GroupPooling("sum")


def test_d4_layers_save_roundtrip(tmp_path, rng):
    inputs = keras.Input((9, 9, 1))
    x = D4LiftingConv2D(2, 3)(inputs)
    x = D4BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = D4GroupConv2D(3, 3)(x)
    x = D4GroupPooling("mean")(x)
    model = keras.Model(inputs, x)
    data = rng.normal(size=(2, 9, 9, 1)).astype("float32")
    path = tmp_path / "d4.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_np(loaded(data)), _np(model(data)), rtol=1e-6, atol=1e-6)
    for layer in model.layers[1:]:
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
