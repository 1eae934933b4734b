"""Label-efficiency subsets, instrument matching and the protocol summary."""

import json

import numpy as np
import pytest
from keras import ops

from lensml.evaluation import (
    match_instrument,
    stratified_subset,
    write_protocol_report,
)


def test_stratified_subset_is_stratified_nested_and_seeded():
    labels = np.repeat([0, 1, 2], [300, 200, 100])
    small = stratified_subset(labels, 0.01, seed=3)
    ten = stratified_subset(labels, 0.1, seed=3)
    assert np.bincount(labels[small]).tolist() == [3, 2, 1]
    assert np.bincount(labels[ten]).tolist() == [30, 20, 10]
    assert set(small) <= set(ten)
    np.testing.assert_array_equal(small, stratified_subset(labels, 0.01, seed=3))
    assert not np.array_equal(ten, stratified_subset(labels, 0.1, seed=4))
    assert stratified_subset(labels, 1.0, seed=0).size == 600
    np.testing.assert_array_equal(stratified_subset(labels, 0.01, seed=None), [0, 1, 2, 300, 301, 500])
    assert np.bincount(labels[stratified_subset(labels, 0.001, seed=0)]).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="fraction"):
        stratified_subset(labels, 0.0, seed=0)
    with pytest.raises(ValueError, match="labels"):
        stratified_subset(np.zeros((4, 2)), 0.5)
    # Any number of classes, from the labels (a family's classes): four here.
    assert np.bincount(np.repeat([0, 1, 2, 3], 10)[stratified_subset(np.repeat([0, 1, 2, 3], 10), 0.2)]).tolist() == [2] * 4


def test_match_instrument_keeps_angles(rng):
    # A point at +1 arcsec on the Model I grid (0.05"/px) lands at +1 arcsec on the Model II grid (0.101"/px).
    size, scale = 150, 0.05
    coords = (np.arange(size) - (size - 1) / 2) * scale
    image = np.exp(-((coords[None, :] - 1.0) ** 2 + coords[:, None] ** 2) / (2 * 0.2**2)).astype("float32")
    out = ops.convert_to_numpy(match_instrument(image[None, ..., None], scale, 64, 0.101))
    assert out.shape == (1, 64, 64, 1)
    target = (np.arange(64) - 31.5) * 0.101
    col = np.argmax(out[0, 32, :, 0])
    assert abs(target[col] - 1.0) < 0.101
    padded = match_instrument(rng.random((2, 16, 16, 1)), 0.1, 32, 0.1)
    assert tuple(padded.shape) == (2, 32, 32, 1)


def test_write_protocol_report(tmp_path):
    results = [
        {"model": m, "fraction": f, "seed": s, "metrics": {"accuracy": base + f * 0.1 + s * 0.01}}
        for m, base in (("resnet18", 0.5), ("lenspinn", 0.6)) for f in (0.01, 0.1, 1.0) for s in (0, 1, 2)
    ]
    summary = write_protocol_report(results, tmp_path, metric="accuracy")
    assert summary["resnet18"][1.0]["mean"] == pytest.approx(0.61)
    assert summary["resnet18"][1.0]["std"] == pytest.approx(0.01)
    md = (tmp_path / "summary.md").read_text()
    assert "0.6100 +- 0.0100 (n=3)" in md and "(label_efficiency.png)" in md
    assert (tmp_path / "label_efficiency.png").stat().st_size > 2000
    assert json.loads((tmp_path / "summary.json").read_text())["metric"] == "accuracy"
    with pytest.raises(ValueError, match="metric"):
        write_protocol_report(results, tmp_path, metric="macro_auc")


def test_protocol_scripts_import_and_split_overrides():
    import runpy
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "evaluate"
    runpy.run_path(str(folder / "label_efficiency.py"), run_name="imported")
    script = runpy.run_path(str(folder / "cross_instrument.py"), run_name="imported")
    sides = script["_split_overrides"](["training.epochs=3", "source.data.dataset=deeplense/model_i_n60",
                                        "target.training.epochs=5"])
    assert sides["source"] == {"training.epochs": 3, "data.dataset": "deeplense/model_i_n60"}
    assert sides["target"] == {"training.epochs": 5}
    from lensml.evaluation import TRANSFER_SETTINGS
    from lensml.protocols.transfer import TRANSFER_TRAINING

    assert set(TRANSFER_TRAINING) | {"zero_shot"} == set(TRANSFER_SETTINGS)  # the protocol trains the others
