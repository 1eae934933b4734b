"""Each SSL loss and schedule against values computed by hand with numpy."""

import math

import numpy as np
import pytest
from keras import ops

from lensml.ssl import losses, schedules


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_nt_xent_matches_numpy(rng):
    z1, z2 = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    t = 0.5
    z = _unit(np.concatenate([z1, z2]))
    sim = z @ z.T / t
    total = 0.0
    for i in range(6):
        pos = (i + 3) % 6
        others = [sim[i, j] for j in range(6) if j != i]
        total += -(sim[i, pos] - np.log(np.sum(np.exp(others))))
    expected = total / 6
    got = float(losses.nt_xent_loss(ops.convert_to_tensor(z1, "float32"),
                                    ops.convert_to_tensor(z2, "float32"), t))
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_nt_xent_matches_keras_cv_simclr_loss(rng, temperature):
    """keras-cv's SimCLRLoss is the reference implementation of NT-Xent; it sums the two view
    directions (a -> b and b -> a) where lensml averages over all 2N anchors: exactly 2x."""
    from keras_cv.losses import SimCLRLoss

    a = rng.normal(size=(8, 16)).astype("float32")
    b = (a + 0.3 * rng.normal(size=(8, 16))).astype("float32")
    reference = float(SimCLRLoss(temperature=temperature)(a, b))
    assert float(losses.nt_xent_loss(a, b, temperature)) == pytest.approx(reference / 2, rel=1e-5)


def test_nt_xent_identical_views_with_orthogonal_rows_is_low():
    z = np.eye(4, dtype="float32")
    low = float(losses.nt_xent_loss(z, z, 0.1))
    high = float(losses.nt_xent_loss(z, z[::-1], 0.1))
    assert low < 1e-3 < high


def test_nt_xent_rejects_bad_temperature():
    with pytest.raises(ValueError, match="temperature"):
        losses.nt_xent_loss(np.ones((2, 2), "float32"), np.ones((2, 2), "float32"), 0.0)


def test_negative_cosine_and_byol(rng):
    p, z = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
    cos = np.sum(_unit(p) * _unit(z), axis=-1)
    assert float(losses.negative_cosine(p, z)) == pytest.approx(-cos.mean(), rel=1e-5)
    assert float(losses.byol_loss(p, z)) == pytest.approx(np.mean(2 - 2 * cos), rel=1e-5)
    assert float(losses.byol_loss(p, 3 * p)) == pytest.approx(0.0, abs=1e-6)


def test_dino_loss_matches_numpy(rng):
    s = [rng.normal(size=(2, 4)).astype("float32") for _ in range(3)]
    t = [rng.normal(size=(2, 4)).astype("float32") for _ in range(2)]
    c = rng.normal(size=(4,)).astype("float32")
    ts, tt = 0.1, 0.04

    def softmax(x):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    terms = []
    for i in range(2):
        for j in range(3):
            if i != j:
                terms.append(np.mean(np.sum(-softmax((t[i] - c) / tt)
                                            * np.log(softmax(s[j] / ts)), -1)))
    got = float(losses.dino_loss(s, t, c, ts, tt))
    assert got == pytest.approx(np.mean(terms), rel=1e-4)


def test_smooth_l1_matches_numpy():
    pred = np.array([[[0.0, 2.0]], [[0.5, -0.5]]], "float32")  # (2, 1, 2)
    target = np.zeros_like(pred)
    mask = np.array([[1.0], [0.0]], "float32")
    # item 0: (0 + (2 - 0.5)) / 2 = 0.75 ; item 1 is masked out
    assert float(losses.smooth_l1(pred, target, mask=mask)) == pytest.approx(0.75)
    # no mask: item 1 = (0.125 + 0.125) / 2 = 0.125 -> mean 0.4375
    assert float(losses.smooth_l1(pred, target)) == pytest.approx(0.4375)
    assert float(losses.smooth_l1(pred, target, mask=np.zeros((2, 1), "float32"))) == 0.0


def test_masked_patch_mse_only_counts_hidden_patches(rng):
    target = rng.normal(size=(1, 3, 4)).astype("float32")
    pred = target.copy()
    pred[0, 1] += 1.0  # error only on patch 1
    mask_hidden = np.array([[0.0, 1.0, 0.0]], "float32")
    mask_visible = np.array([[1.0, 0.0, 1.0]], "float32")
    assert float(losses.masked_patch_mse(pred, target, mask_hidden, False)) == pytest.approx(1.0)
    assert float(losses.masked_patch_mse(pred, target, mask_visible, False)) == pytest.approx(0.0)
    # normalised targets: each target patch standardised by its own mean / variance
    norm = (target - target.mean(-1, keepdims=True)) / np.sqrt(target.var(-1, keepdims=True) + 1e-6)
    expected = np.mean((pred[0, 1] - norm[0, 1]) ** 2)
    assert float(losses.masked_patch_mse(pred, target, mask_hidden, True)) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("step", [0, 25, 50, 100, 150])
def test_momentum_schedules_follow_their_formulas(step):
    total, base = 100, 0.996
    k = min(step, total)
    cos_expected = 1 - (1 - base) * (math.cos(math.pi * k / total) + 1) / 2
    lin_expected = base + (1 - base) * k / total
    assert float(schedules.cosine_momentum(step, total, base)) == pytest.approx(cos_expected, abs=1e-7)
    assert float(schedules.linear_momentum(step, total, base)) == pytest.approx(lin_expected, abs=1e-7)
    assert float(schedules.linear_ramp(step, 0, 0.04, 0.07)) == pytest.approx(0.07)  # no ramp
    with pytest.raises(ValueError, match="momentum_schedule"):
        schedules.get_schedule("step")
