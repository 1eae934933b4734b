"""lensml.data.simulated_stream: fresh lenses per batch, straight into model.fit."""

import dataclasses

import keras
import numpy as np
import pytest

from lensml.data import simulated_stream
from lensml.simulation import AxionVortex, CDMSubhalos, deeplense_classes, get_family

BASE = get_family("model_ii")
# small and quick to compile: 32 px, 3 CDM subhalos, a 6-element vortex
SMALL = BASE.replace(name="stream_test", instrument=dataclasses.replace(BASE.instrument, num_pix=32),
                     substructure=deeplense_classes(cdm=CDMSubhalos(count=3), vortex=AxionVortex(count=6)))


def test_stream_batches_are_balanced_normalised_and_reproducible():
    stream = simulated_stream(SMALL, batch_size=5, seed=5)  # 2 per class rendered, one dropped
    x, y = stream[0]
    assert x.shape == (5, 32, 32, 1) and x.dtype == np.float32
    assert sorted(np.bincount(y, minlength=3).tolist()) == [1, 2, 2]
    assert np.allclose(x.min(axis=(1, 2, 3)), 0) and np.allclose(x.max(axis=(1, 2, 3)), 1)
    x_again, y_again = stream.batch(0)
    np.testing.assert_array_equal(x, x_again)
    x1, _ = stream[1]
    assert not np.array_equal(x, x1)
    stream.on_epoch_end()
    assert not np.array_equal(stream[0][0], x)  # fresh lenses every epoch


def test_stream_feeds_fit_and_regression_targets():
    model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Conv2D(2, 3, strides=4),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(simulated_stream(SMALL, batch_size=6, seed=1), steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    x, y = simulated_stream(SMALL, batch_size=2, classes=("axion",), target="log10_axion_mass")[0]
    assert y.shape == (2,) and ((y >= -24) & (y <= -22)).all()
    # a class-specific target draws the classes that carry it (the family's target schema)
    stream = simulated_stream(SMALL, batch_size=2, target="log10_axion_mass")
    assert stream.classes == ("axion",)
    np.testing.assert_array_equal(stream[0][1], y)


def test_stream_bad_input():
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        simulated_stream(SMALL, batch_size=0)
    with pytest.raises(ValueError, match="target: got 'mass', which the batched simulator .* cannot make"):
        simulated_stream(SMALL, batch_size=2, target="mass")
    with pytest.raises(ValueError, match="target: got 'convergence'"):
        simulated_stream(SMALL, batch_size=2, target="convergence")
    with pytest.raises(ValueError, match=r"classes: got \['cdm', 'axion'\], but target='log10_axion_mass' is "
                                         r"carried by \['axion'\] only"):
        simulated_stream(SMALL, batch_size=2, target="log10_axion_mass", classes=("cdm", "axion"))
    with pytest.raises(ValueError, match="no class of family 'no_sphere_vort_50' carries it"):
        simulated_stream("no_sphere_vort_50", batch_size=2, target="log10_axion_mass")
    with pytest.raises(ValueError, match="unknown family"):
        simulated_stream("model_x", batch_size=2)


@pytest.mark.parametrize("count", [2, 3])
def test_processes_draw_disjoint_parts_that_make_the_one_process_batch(count):
    """A multi-process job: process i draws slots [i B/count, (i+1) B/count) of every global
    batch, the very lenses the one-process stream has there; classes stay balanced in each part."""
    stream = simulated_stream(SMALL, batch_size=6, seed=2, steps_per_epoch=2)
    x, y = stream.batch(1, epoch=3)
    parts = [stream.part(i, count).batch(1, epoch=3) for i in range(count)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), x)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), y)
    assert all(p[0].shape == (6 // count, 32, 32, 1) for p in parts)
    assert not np.array_equal(parts[0][0], parts[1][0])  # each process its own lenses
    if count == 2:  # three classes in three slots: one of each
        assert all(sorted(p[1].tolist()) == [0, 1, 2] for p in parts)
    # TensorFlow's multi-worker strategy takes each worker's part of a global-size batch
    padded, labels = stream.part(1, count, global_batches=True).batch(1, epoch=3)
    size = 6 // count
    np.testing.assert_array_equal(padded[size:2 * size], parts[1][0])
    assert not padded[:size].any() and not padded[2 * size:].any()


def test_stream_part_bad_input():
    stream = simulated_stream(SMALL, batch_size=6)
    with pytest.raises(ValueError, match="batch_size: got 6, expected a multiple of the 4 processes"):
        stream.part(0, 4)
    with pytest.raises(ValueError, match="expected 0 <= index < count, got index=2, count=2"):
        stream.part(2, 2)
