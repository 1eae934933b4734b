"""Metrics against scikit-learn / scikit-image on random inputs."""

import numpy as np
import pytest
from sklearn import metrics as skm

from lensml.evaluation import (
    aggregate_seeds,
    bicubic_upsample,
    classification_metrics,
    expected_calibration_error,
    regression_metrics,
    roc_curve,
    super_resolution_metrics,
)


def _random_probs(rng, n, c):
    logits = rng.normal(size=(n, c))
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def test_classification_matches_sklearn(rng):
    y = rng.integers(0, 3, size=200)
    probs = _random_probs(rng, 200, 3)
    probs[np.arange(200), y] += 0.3 * rng.random(200)  # some signal
    probs /= probs.sum(axis=1, keepdims=True)
    pred = probs.argmax(1)
    m = classification_metrics(y, probs, ["no_sub", "cdm", "axion"])
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["micro_f1"] == pytest.approx(skm.f1_score(y, pred, average="micro"))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["macro_auc"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    onehot = np.eye(3)[y]  # micro average: every (lens, class) pair one binary decision
    assert m["micro_auc"] == pytest.approx(skm.roc_auc_score(onehot, probs, average="micro"))
    for c, name in enumerate(["no_sub", "cdm", "axion"]):
        assert m["auc_per_class"][name] == pytest.approx(skm.roc_auc_score(y == c, probs[:, c]))
    np.testing.assert_array_equal(m["confusion_matrix"], skm.confusion_matrix(y, pred, labels=[0, 1, 2]))
    assert m["ece_bins"] == 15 and 0 <= m["ece"] <= 1


def test_roc_curve_with_ties_matches_sklearn(rng):
    y = rng.integers(0, 2, size=100).astype(bool)
    scores = np.round(rng.random(100), 1)  # many ties
    fpr, tpr, _ = roc_curve(y, scores)
    sk_fpr, sk_tpr, _ = skm.roc_curve(y, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)


def test_perfect_and_random_auc(rng):
    y = rng.integers(0, 3, size=3000)
    perfect = np.eye(3)[y]
    assert classification_metrics(y, perfect, list("abc"))["macro_auc"] == pytest.approx(1.0)
    random = classification_metrics(y, _random_probs(rng, 3000, 3), list("abc"))["macro_auc"]
    assert abs(random - 0.5) < 0.03


def test_ece_against_direct_formula(rng):
    y = rng.integers(0, 4, size=500)
    probs = _random_probs(rng, 500, 4)
    conf, correct = probs.max(1), probs.argmax(1) == y
    ece = 0.0
    for lo, hi in zip(np.linspace(0, 1, 11)[:-1], np.linspace(0, 1, 11)[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    assert expected_calibration_error(y, probs, num_bins=10) == pytest.approx(ece)
    # A perfectly confident, always-right classifier is perfectly calibrated.
    assert expected_calibration_error(y, np.eye(4)[y]) == pytest.approx(0.0)


def test_regression_matches_sklearn(rng):
    y = rng.uniform(-24, -22, size=300)
    p = y + rng.normal(0, 0.2, size=300)
    m = regression_metrics(y, p[:, None])
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert m["r2"] == pytest.approx(skm.r2_score(y, p))
    assert m["units"] == "dex"


def test_super_resolution_matches_skimage(rng):
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    from skimage.transform import resize

    hr = rng.random((3, 32, 32, 1))
    lr = hr[:, ::2, ::2]
    sr = np.clip(hr + rng.normal(0, 0.05, hr.shape), 0, 1)
    m = super_resolution_metrics(lr, sr, hr, data_range=1.0)
    psnr = np.mean([peak_signal_noise_ratio(h[..., 0], s[..., 0], data_range=1.0) for h, s in zip(hr, sr)])
    ssim = np.mean([structural_similarity(h[..., 0], s[..., 0], data_range=1.0) for h, s in zip(hr, sr)])
    assert m["psnr"] == pytest.approx(psnr)
    assert m["ssim"] == pytest.approx(ssim)
    bic = resize(lr[..., 0], (3, 32, 32), order=3, mode="reflect", anti_aliasing=False)
    bic_psnr = np.mean([peak_signal_noise_ratio(h[..., 0], b, data_range=1.0) for h, b in zip(hr, bic)])
    assert m["bicubic_psnr"] == pytest.approx(bic_psnr, rel=1e-5)
    assert bicubic_upsample(lr, (32, 32)).shape == (3, 32, 32, 1)


def test_aggregate_seeds():
    runs = [{"accuracy": 0.8, "auc_per_class": {"a": 0.9}, "name": "x"}, {"accuracy": 0.9, "auc_per_class": {"a": 0.7}}]
    agg = aggregate_seeds(runs)
    assert agg["accuracy"]["mean"] == pytest.approx(0.85)
    assert agg["accuracy"]["std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert agg["auc_per_class/a"]["n"] == 2 and "name" not in agg
    with pytest.raises(ValueError, match="runs"):
        aggregate_seeds([])


@pytest.mark.parametrize(
    "y, probs, names, match",
    [
        (np.zeros(4, int), np.full((4, 2), 0.5), ["a", "b", "c"], "one column per class"),
        (np.zeros(0, int), np.zeros((0, 3)), ["a", "b", "c"], "empty"),
        (np.array([0, 5]), np.full((2, 3), 1 / 3), ["a", "b", "c"], "y_true"),
        (np.zeros(3, int), np.full((2, 3), 1 / 3), ["a", "b", "c"], "must match"),
        (np.zeros(2, int), np.array([[np.nan, 0, 1], [0, 0, 1]]), ["a", "b", "c"], "NaN"),
    ],
)
def test_classification_bad_input(y, probs, names, match):
    with pytest.raises(ValueError, match=match):
        classification_metrics(y, probs, names)
