"""Bootstrap intervals over seeds and lenses, and paired orderings of two rows."""

import numpy as np
import pytest

from lensml.evaluation.classification import one_vs_rest_auc
from lensml.evaluation.intervals import (bootstrap_interval, paired_difference, point_estimate, verdict, _metric)


def _run(rng, labels, skill, classes=3):
    """Probabilities that put ``skill`` extra weight on the true class."""
    logits = rng.normal(size=(labels.size, classes))
    logits[np.arange(labels.size), labels] += skill
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return labels, e / e.sum(axis=1, keepdims=True)


def test_macro_auc_of_resamples_with_repeated_lenses_equals_the_protocol_s():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    labels, probs = _run(rng, labels, 1.0)
    probs[:5] = probs[5:10]  # ties
    pick = rng.integers(0, 60, 60)  # a resample: repeated lenses
    expected = one_vs_rest_auc(labels[pick], probs[pick])["macro"]
    assert _metric("macro_auc", labels[pick][None], probs[pick][None])[0] == pytest.approx(expected, abs=1e-12)
    assert _metric("accuracy", labels[None], probs[None])[0] == pytest.approx((probs.argmax(1) == labels).mean())


def test_interval_brackets_the_estimate_narrows_with_lenses_and_is_reproducible():
    rng = np.random.default_rng(1)
    small = [_run(rng, np.arange(90) % 3, 1.5) for _ in range(3)]
    labels = np.arange(900) % 3
    large = [_run(rng, labels, 1.5) for _ in range(3)]
    for metric in ("accuracy", "macro_auc"):
        low, high = bootstrap_interval(small, metric, n=300)
        assert low < point_estimate(small, metric) < high
        assert bootstrap_interval(small, metric, n=300) == (low, high)  # same seed, same interval
        low_l, high_l = bootstrap_interval(large, metric, n=300)
        assert high_l - low_l < (high - low) / 2  # 10x the lenses: about 1/sqrt(10) the width


def test_interval_covers_the_true_accuracy_about_95_percent_of_the_time():
    rng = np.random.default_rng(2)
    covered = 0
    trials = 60
    for _ in range(trials):
        runs = []
        for _ in range(3):  # each seed's model has its own accuracy around 0.8
            p = 0.8 + rng.normal(0, 0.02)
            correct = rng.random(300) < p
            labels = np.zeros(300, int)
            probs = np.where(correct[:, None], [[0.8, 0.1, 0.1]], [[0.1, 0.8, 0.1]])
            runs.append((labels, probs))
        low, high = bootstrap_interval(runs, "accuracy", n=400, seed=int(rng.integers(1 << 30)))
        covered += low <= 0.8 <= high
    assert covered / trials >= 0.8


def test_paired_difference_resolves_a_real_gap_and_not_a_null_one():
    rng = np.random.default_rng(3)
    labels = np.arange(600) % 3
    good = [_run(rng, labels, 3.0) for _ in range(3)]
    poor = [_run(rng, labels, 0.5) for _ in range(3)]
    twin = [_run(rng, labels, 3.0) for _ in range(3)]
    d = paired_difference(good, poor, "macro_auc", n=300)
    assert d["low"] > 0 and d["low"] < d["difference"] < d["high"]
    assert verdict(d, paper_says_a_better=True) == "confirms"
    assert verdict(d, paper_says_a_better=False) == "contradicts"
    null = paired_difference(good, twin, "accuracy", n=300)
    assert verdict(null, paper_says_a_better=True) == "unresolved"


def test_a_row_testing_the_same_models_again_is_paired_seed_for_seed():
    # D4-TTA: the same three trained models tested again, each a little better, while the models
    # differ a lot from seed to seed. Resampling each row's seeds on its own buries the gain in the
    # seed-to-seed spread; pairing the seeds resolves it.
    rng = np.random.default_rng(5)
    labels = np.arange(900) % 3
    base, tta = [], []
    for skill in (0.3, 1.5, 3.0):
        logits = rng.normal(size=(labels.size, 3))
        logits[np.arange(labels.size), labels] += skill
        again = logits.copy()
        again[np.arange(labels.size), labels] += 0.25  # the augmentation's consistent gain
        for runs, lg in ((base, logits), (tta, again)):
            e = np.exp(lg - lg.max(axis=1, keepdims=True))
            runs.append((labels, e / e.sum(axis=1, keepdims=True)))
    independent = paired_difference(tta, base, "macro_auc", n=400)
    paired = paired_difference(tta, base, "macro_auc", n=400, same_models=True)
    assert paired["difference"] == independent["difference"] > 0
    assert verdict(independent, paper_says_a_better=True) == "unresolved"
    assert verdict(paired, paper_says_a_better=True) == "confirms" and paired["paired_seeds"]
    with pytest.raises(ValueError, match="one run of each row per model"):
        paired_difference(tta, base[:2], "macro_auc", same_models=True)


def test_bad_inputs_name_what_was_expected(tmp_path):
    rng = np.random.default_rng(4)
    a = [_run(rng, np.arange(30) % 3, 1.0)]
    b = [_run(rng, (np.arange(30) + 1) % 3, 1.0)]
    with pytest.raises(ValueError, match="different lenses"):
        paired_difference(a, b, "accuracy")
    with pytest.raises(ValueError, match="metric"):
        bootstrap_interval(a, "f1")
    with pytest.raises(ValueError, match="at least one run"):
        bootstrap_interval([], "accuracy")
    from lensml.evaluation.intervals import load_predictions

    with pytest.raises(FileNotFoundError, match="predictions"):
        load_predictions(tmp_path / "missing.npz")


def test_resumed_controlled_table_keeps_earlier_statistics():
    """A controlled table resumed on another machine keeps the intervals and orderings of the
    rows whose predictions stayed behind; rows computed here replace earlier numbers."""
    from lensml.protocols.reproduce import merge_statistics

    earlier = {"metric": "accuracy", "intervals": {"A": [0.8, 0.9], "B": [0.5, 0.6]},
               "orderings": [{"a": "A", "b": "B", "verdict": "confirms"}, {"a": "A", "b": "C", "verdict": "unresolved"}]}
    fresh = {"metric": "accuracy", "intervals": {"B": [0.55, 0.65], "C": [0.7, 0.8]},
             "orderings": [{"a": "A", "b": "C", "verdict": "contradicts"}]}
    merged = merge_statistics(fresh, earlier)
    assert merged["intervals"] == {"A": [0.8, 0.9], "B": [0.55, 0.65], "C": [0.7, 0.8]}
    assert {(o["a"], o["b"]): o["verdict"] for o in merged["orderings"]} == {("A", "B"): "confirms",
                                                                          ("A", "C"): "contradicts"}
    assert merge_statistics(fresh, None) is fresh
