"""Grad-CAM, activation patching, linear probes and equivariance error on tiny models."""

import keras
import numpy as np
import pytest
from keras import ops

from lensml.evaluation.equivariance import equivariance_error
from lensml.evaluation.gradcam import grad_cam
from lensml.evaluation.intercept import find_layer, last_conv_layer, layer_outputs
from lensml.evaluation.patching import activation_patching
from lensml.evaluation.probes import extract_features, linear_probe, probe_layers
from lensml.evaluation.transforms import d4_inverse, d4_transform


def test_last_conv_layer_and_unknown_layer(tiny_cnn):
    assert last_conv_layer(tiny_cnn).name == "conv2"
    with pytest.raises(ValueError, match="not a layer"):
        find_layer(tiny_cnn, "nope")
    dense_only = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no convolution"):
        last_conv_layer(dense_only)


def test_grad_cam_matches_manual_formula(tiny_cnn, tiny_data):
    images, _ = tiny_data
    # conv2 -> add -> global average pool -> dense: d score / d A[h, w, c] = W_head[c, k] / (h w) (pre-softmax),
    # so for a linear head (no softmax) the channel weights are known in closed form.
    logits_model = _with_linear_head(tiny_cnn)
    _, acts = layer_outputs(logits_model, images[:3], ["conv2"])
    a = ops.convert_to_numpy(acts["conv2"])
    w = ops.convert_to_numpy(logits_model.get_layer("head").kernel)[:, 1] / (16 * 16)
    expected = np.maximum((a * w).sum(-1), 0)
    peak = expected.reshape(3, -1).max(1)[:, None, None]
    expected = np.where(peak > 0, expected / np.where(peak > 0, peak, 1), 0)
    got = grad_cam(logits_model, images[:3], layer="conv2", class_index=1)
    assert got.shape == (3, 16, 16) and got.min() >= 0 and got.max() <= 1 + 1e-6
    np.testing.assert_allclose(got, expected, atol=1e-4)


def _with_linear_head(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.get_layer("head").activation = keras.activations.linear
    return clone


def test_activation_patching_identity_is_zero(tiny_cnn, tiny_data):
    images, _ = tiny_data
    result = activation_patching(tiny_cnn, images[:4], lambda x: x)
    assert set(result) >= {"conv1", "conv2", "add", "pool", "head", "_full_input"}
    assert max(r["delta_l2"] for r in result.values()) < 1e-5


def test_activation_patching_detects_change(tiny_cnn, tiny_data):
    images, _ = tiny_data
    result = activation_patching(tiny_cnn, images[:4], lambda x: 1.0 - x, layers=["conv1", "head"])
    # Patching the output layer reproduces the full transformed run exactly.
    assert result["head"]["delta_l2"] == pytest.approx(result["_full_input"]["delta_l2"], rel=1e-4, abs=1e-6)
    assert result["head"]["delta_l2"] > 1e-4
    with pytest.raises(ValueError, match="shape"):
        activation_patching(tiny_cnn, images[:4], lambda x: x[:, :8])


def test_linear_probe_on_leaking_features(rng):
    labels = np.repeat(np.arange(3), 20)
    leaking = np.c_[np.eye(3)[labels] * 3.0, rng.normal(size=(60, 5))]
    assert linear_probe(leaking, labels)["accuracy_mean"] > 0.98
    noise = linear_probe(rng.normal(size=(60, 8)), labels)
    assert noise["accuracy_mean"] < 0.75 and noise["chance"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="folds"):
        linear_probe(leaking[::10], labels[::10])
    with pytest.raises(ValueError, match="single class"):
        linear_probe(leaking[:10], labels[:10])


def test_probe_layers_on_model(tiny_cnn, rng):
    labels = np.repeat(np.arange(3), 10)
    images = (rng.random((30, 16, 16, 1)) * 0.1 + labels[:, None, None, None] * 0.5).astype("float32")
    feats = extract_features(tiny_cnn, images, ["conv1", "pool"], batch_size=15)
    assert feats["conv1"].shape == (30, 4) and feats["pool"].shape == (30, 4)
    assert extract_features(tiny_cnn, images, ["conv1"], pool="flatten")["conv1"].shape == (30, 16 * 16 * 4)
    result = probe_layers(tiny_cnn, images, labels, ["pool"], folds=3)
    # the classes differ by a brightness offset, which the pooled features carry linearly
    assert result["pool"]["accuracy_mean"] > 0.9


def test_d4_transforms_are_a_group(rng):
    x = ops.convert_to_tensor(rng.random((2, 5, 5, 1)).astype("float32"))
    for g in range(8):
        back = d4_transform(d4_transform(x, g), d4_inverse(g))
        np.testing.assert_allclose(ops.convert_to_numpy(back), ops.convert_to_numpy(x))
    r90 = ops.convert_to_numpy(d4_transform(x, 1))[0, ..., 0]
    np.testing.assert_allclose(r90, np.rot90(ops.convert_to_numpy(x)[0, ..., 0]))
    assert len({ops.convert_to_numpy(d4_transform(x, g)).tobytes() for g in range(8)}) == 8
    mirrored = ops.convert_to_numpy(d4_transform(x, 4))[0, ..., 0]
    np.testing.assert_allclose(mirrored, ops.convert_to_numpy(x)[0, :, ::-1, 0])


class _Subclassed(keras.Model):
    """A subclassed classifier: interception must not depend on the functional graph."""

    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="sub_conv")
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(3, name="sub_head")

    def call(self, x, training=False):
        return self.head(self.pool(self.conv(x)))


def test_nested_and_subclassed_models(tiny_data):
    images, _ = tiny_data
    keras.utils.set_random_seed(0)
    enc_in = keras.Input((16, 16, 1))
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, padding="same", name="enc_conv")(enc_in))
    encoder = keras.Model(enc_in, features, name="encoder")
    inputs = keras.Input((16, 16, 1))
    nested = keras.Model(inputs, keras.layers.Dense(3, name="head")(encoder(inputs)))
    sub = _Subclassed()
    sub(images[:1])
    for model, conv in ((nested, "enc_conv"), (sub, "sub_conv")):
        assert last_conv_layer(model).name == conv
        assert grad_cam(model, images[:2]).shape == (2, 16, 16)
        patch = activation_patching(model, images[:2], lambda x: x)
        assert max(r["delta_l2"] for r in patch.values()) < 1e-5
        assert extract_features(model, images, [conv])[conv].shape == (12, 4)


def test_equivariance_error(rng):
    from lensml.layers import D4GroupConv2D, D4GroupPooling, D4LiftingConv2D

    keras.utils.set_random_seed(1)
    inputs = keras.Input((7, 7, 1))
    # A 1x1 convolution commutes with rotations and mirrors; a 3x3 one with a random kernel does not.
    point = keras.layers.Conv2D(3, 1, name="point")(inputs)
    full = keras.layers.Conv2D(3, 3, padding="same", name="full")(point)
    gap = keras.layers.GlobalAveragePooling2D(name="gap")(point)
    # D4 layers carry regular-representation fields; group pooling makes them scalar again.
    lifted = D4LiftingConv2D(1, 3, name="lift")(inputs)
    group = D4GroupConv2D(1, 3, name="group")(lifted)
    pooled = D4GroupPooling("max", name="gpool")(group)
    model = keras.Model(inputs, [full, gap, pooled])
    x = rng.random((2, 7, 7, 1)).astype("float32")
    errors = equivariance_error(model, x)
    expected = {"point": "trivial", "gap": "invariant", "lift": "regular", "group": "regular", "gpool": "trivial"}
    for name, representation in expected.items():
        assert errors[name]["representation"] == representation and errors[name]["mean"] < 1e-4, (name, errors[name])
    assert errors["full"]["mean"] > 1e-2
    assert errors["full"]["per_element"]["e"] < 1e-6
    with pytest.raises(ValueError, match="square"):
        equivariance_error(model, x[:, :, :4], layers=["point"])


def _two_output_model():
    """A functional classifier whose middle layer returns two tensors (like the Poisson solver)."""
    class Split(keras.layers.Layer):
        def call(self, x):
            return x * 2.0, x - 1.0

    inputs = keras.Input((8, 8, 1))
    a, b = Split(name="split")(inputs)
    merged = keras.layers.Concatenate(name="merge")([a, b])
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(keras.layers.GlobalAveragePooling2D(name="pool")(merged))
    return keras.Model(inputs, outputs)


def test_multi_output_layers_are_sites_per_output(rng):
    from lensml.evaluation.intercept import call_with_replacement
    from lensml.evaluation.patching import default_patch_layers

    model = _two_output_model()
    images = rng.random((4, 8, 8, 1)).astype("float32")
    assert default_patch_layers(model) == ["split/0", "split/1", "merge", "pool", "predictions"]
    _, acts = layer_outputs(model, images, ["split/1", "merge"])
    np.testing.assert_allclose(ops.convert_to_numpy(acts["split/1"]), images - 1.0, rtol=1e-6)
    # replacing output 1 only: output 0 passes through (the merge sees 2x and the replacement)
    zeros = np.zeros_like(images)
    with_zero = call_with_replacement(model, images, "split/1", zeros)
    manual = keras_forward_with(model, images * 2.0, zeros)
    np.testing.assert_allclose(ops.convert_to_numpy(with_zero), manual, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="'split/0'"):
        layer_outputs(model, images, ["split"])
    with pytest.raises(ValueError, match="has 2 output"):
        layer_outputs(model, images, ["split/5"])
    patched = activation_patching(model, images, lambda x: x[:, ::-1], None)
    assert patched["split/0"]["delta_l2"] > 0 and patched["split/1"]["delta_l2"] > 0


def keras_forward_with(model, a, b):
    merged = ops.concatenate([a, b], axis=-1)
    return ops.convert_to_numpy(model.get_layer("predictions")(model.get_layer("pool")(merged)))


def test_d4_grad_cam_is_equivariant(tiny_cnn, rng):
    """The TTA explanation moves with the image: Grad-CAM of the rotated image is the rotated map."""
    from lensml.evaluation.gradcam import d4_grad_cam

    images = rng.random((3, 16, 16, 1)).astype("float32")
    maps = d4_grad_cam(tiny_cnn, images)
    assert maps.shape == (3, 16, 16) and maps.min() >= 0 and np.allclose(maps.max(axis=(1, 2)), 1.0)
    for g in (1, 4, 6):
        moved = d4_grad_cam(tiny_cnn, d4_transform(images, g, xp=np))
        np.testing.assert_allclose(moved, d4_transform(maps[..., None], g, xp=np)[..., 0], atol=1e-4)


def test_evaluate_model_with_d4_tta(tmp_path, tiny_cnn, tiny_data):
    """tta='d4' and a D4TTA model give the same report; its metrics are the averaged model's."""
    import json

    from lensml.evaluation.report import evaluate_model
    from lensml.models.tta import D4TTA

    images, labels = tiny_data
    a = evaluate_model(tiny_cnn, (images, labels), "classification", tmp_path / "a", tta="d4")
    b = evaluate_model(D4TTA(tiny_cnn), (images, labels), "classification", tmp_path / "b")
    plain = evaluate_model(tiny_cnn, (images, labels), "classification", tmp_path / "c", gradcam=False)
    probs = np.load(tmp_path / "a" / "predictions.npz")["probs"]
    expected = np.asarray(D4TTA(tiny_cnn).predict(images, verbose=0))
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    assert a["tta"] == b["tta"] == "d4" and plain["tta"] is None and a["macro_auc"] == b["macro_auc"]
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["figures"]["gradcam"] == "gradcam.png"
    with pytest.raises(ValueError, match="`tta`"):
        evaluate_model(tiny_cnn, (images, labels), "classification", tmp_path / "d", tta="d8")


def test_d4_element_probe_tells_equivariant_from_invariant_layers(rng):
    """Images sharing one oriented feature (a bright pixel off every symmetry axis): a pointwise
    convolution's map moves with the image, so the element is decodable; its global average
    does not move at all (the probe sits at chance, 1/7)."""
    from lensml.evaluation.probes import d4_element_probe

    inputs = keras.Input((8, 8, 1))
    maps = keras.layers.Conv2D(2, 1, name="pointwise")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(maps)
    model = keras.Model(inputs, keras.layers.Dense(3, name="predictions")(pooled))
    images = 0.3 * rng.random((10, 8, 8, 1)).astype("float32")
    images[:, 1, 3] += 2.0
    probe = d4_element_probe(model, images, ["pointwise", "pool"], folds=5)
    assert probe["pointwise"]["accuracy_mean"] > 0.9
    assert probe["pool"]["accuracy_mean"] < 0.3 and probe["pool"]["chance"] == pytest.approx(1 / 7)
    with pytest.raises(ValueError, match="square"):
        d4_element_probe(model, images[:, :, :6], ["pool"])
