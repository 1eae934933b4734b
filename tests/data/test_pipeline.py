"""lensml.data.pipeline: TFDS -> model.fit on both backends."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lensml.data import normalize, pipeline
from lensml.layers.d4 import d4_transform
from lensml.data.normalization import normalize_ops


def _first(ds):
    return next(iter(ds.as_numpy_iterator()))


def test_batches_minmax_and_labels(tiny_data_dir):
    ds = pipeline("model_ii_tiny", "train", batch_size=24, data_dir=tiny_data_dir)
    x, y = _first(ds)
    assert x.shape == (24, 64, 64, 1) and x.dtype == np.float32
    assert np.allclose(x.min(axis=(1, 2, 3)), 0) and np.allclose(x.max(axis=(1, 2, 3)), 1)
    assert np.bincount(y).tolist() == [8, 8, 8]
    z, _ = _first(pipeline("deeplense/model_ii_tiny", "test", batch_size=4, normalization="standardize",
                           data_dir=tiny_data_dir))
    assert np.allclose(z.mean(axis=(1, 2, 3)), 0, atol=1e-5) and np.allclose(z.std(axis=(1, 2, 3)), 1, atol=1e-3)


def test_seeded_shuffle_and_augmentation_repeat(tiny_data_dir):
    make = lambda seed: pipeline("model_ii_tiny", "train", batch_size=8, augment="d4+noise",  # noqa: E731
                                 seed=seed, data_dir=tiny_data_dir)
    a, b, c = _first(make(1)), _first(make(1)), _first(make(2))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_d4_moves_image_and_map_target_together(tiny_data_dir):
    plain = pipeline("model_ii_tiny", "validation", batch_size=12, shuffle=False, target="convergence",
                     data_dir=tiny_data_dir)
    aug = pipeline("model_ii_tiny", "validation", batch_size=12, shuffle=False, target="convergence",
                   augment="d4", seed=3, data_dir=tiny_data_dir)
    (x0, k0), (x1, k1) = _first(plain), _first(aug)
    moved = 0
    for i in range(12):
        matches = [e for e in range(8) if np.array_equal(d4_transform(x0[i], e, axes=(0, 1), xp=np), x1[i])]
        assert matches, i
        assert any(np.array_equal(d4_transform(k0[i], e, axes=(0, 1), xp=np), k1[i]) for e in matches)
        moved += 0 not in matches
    assert moved > 0


def test_regression_target_keeps_axion_only(tiny_data_dir):
    ys = np.concatenate([y for _, y in pipeline("model_ii_tiny", "train", batch_size=5, target="log10_axion_mass",
                                                data_dir=tiny_data_dir).as_numpy_iterator()])
    assert ys.shape == (8,) and np.isfinite(ys).all() and ((ys >= -24) & (ys <= -22)).all()


def test_stratified_fraction_is_the_protocol_subset(tiny_data_dir):
    # pipeline(fraction=f) trains on exactly lensml.data.stratified_subset(labels, f), the rule
    # the synthetic data, the evaluation report and the benchmarks use, served class by class.
    from lensml.data import split_labels, stratified_subset

    labels = split_labels("model_ii_tiny", "train", data_dir=tiny_data_dir)
    every = pipeline("model_ii_tiny", "train", batch_size=64, shuffle=False, target="theta_E", data_dir=tiny_data_dir)
    theta = np.concatenate([y for _, y in every.as_numpy_iterator()])
    assert labels.shape == theta.shape and np.bincount(labels).tolist() == [8, 8, 8]
    keep = stratified_subset(labels, 0.25)
    subset = pipeline("model_ii_tiny", "train", batch_size=64, shuffle=False, target="theta_E", fraction=0.25,
                      data_dir=tiny_data_dir)
    expected = np.concatenate([keep[labels[keep] == c] for c in range(3)])
    np.testing.assert_array_equal(np.concatenate([y for _, y in subset.as_numpy_iterator()]), theta[expected])
    ys = np.concatenate([y for _, y in pipeline("model_ii_tiny", "train", batch_size=64, fraction=0.25,
                                                data_dir=tiny_data_dir).as_numpy_iterator()])
    assert np.bincount(ys).tolist() == [2, 2, 2]


def test_super_resolution_pairs(tiny_data_dir):
    lr, hr = _first(pipeline("model_ii_sr16_tiny", "train", batch_size=4, target="hr", augment="d4",
                             data_dir=tiny_data_dir))
    assert lr.shape == (4, 16, 16, 1) and hr.shape == (4, 64, 64, 1)


def test_fit_on_this_backend(tiny_data_dir):
    model = keras.Sequential([keras.Input((64, 64, 1)), keras.layers.Conv2D(2, 3, strides=4),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(pipeline("model_ii_tiny", "train", batch_size=12, augment="d4", data_dir=tiny_data_dir),
                        validation_data=pipeline("model_ii_tiny", "validation", batch_size=12, shuffle=False,
                                                 data_dir=tiny_data_dir), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_normalisations_agree_between_tf_and_keras_ops(rng):
    images = rng.normal(size=(3, 8, 8, 1)).astype(np.float32)
    images[2] = 1.0  # constant image -> 0
    for name in ("minmax", "standardize"):
        a = normalize(images, name).numpy()
        b = keras.ops.convert_to_numpy(normalize_ops(keras.ops.convert_to_tensor(images), name))
        np.testing.assert_allclose(a, b, atol=1e-5)
        assert (a[2] == 0).all()


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="model_iv_tiny"), "unknown deeplense config 'model_iv_tiny'"),
    (dict(name="mnist/x"), "unknown dataset 'mnist'"),
    (dict(target="mass"), "target must be one of"),
    (dict(normalization="zscore"), "normalization must be one of"),
    (dict(batch_size=0), "batch_size must be a positive int, got 0"),
    (dict(augment="rotate"), "augment must be None or a combination"),
    (dict(augment="d4", target="source_center"), "moves the source"),
    (dict(target="hr"), "needs a super-resolution config"),
    (dict(split="holdout"), "unknown split 'holdout'"),
])
def test_bad_input(tiny_data_dir, kwargs, match):
    args = dict(name="model_ii_tiny", split="train", data_dir=tiny_data_dir) | kwargs
    with pytest.raises(ValueError, match=match):
        pipeline(args.pop("name"), args.pop("split"), **args)


def test_pipeline_is_tf_data_on_every_backend(tiny_data_dir):
    ds = pipeline("model_ii_tiny", "train", batch_size=4, data_dir=tiny_data_dir)
    assert isinstance(ds, tf.data.Dataset)
    images, labels = next(iter(ds))
    assert images.shape == (4, 64, 64, 1) and images.dtype == tf.float32 and labels.dtype == tf.int64


def test_one_d4_transform_everywhere():
    # One implementation and one convention (mirror, then counter-clockwise quarter turns) for
    # the layers, the SSL views and the tf.data augmentation.
    import keras
    import tensorflow as tf

    from lensml.ssl import views

    assert views.d4_transform is d4_transform
    x = np.arange(2 * 3 * 3, dtype="float32").reshape(2, 3, 3, 1)
    for g in range(8):
        expected = np.rot90(x[:, :, ::-1] if g >= 4 else x, g % 4, axes=(1, 2))
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(d4_transform(x, g)), expected)
        in_tf = d4_transform(tf.constant(x[0]), g, axes=(0, 1), xp=tf.experimental.numpy)
        np.testing.assert_array_equal(np.asarray(in_tf), expected[0])


def test_epoch_indexed_batches_depend_on_the_epoch_only(tiny_data_dir):
    """Epoch e's batches are a function of (seed, e): a new iterator (a resumed run, or the one
    a multi-worker strategy makes each epoch) gives them again, whatever the global seed and
    however many iterators came before; each pass is a permutation of the split."""
    import keras
    import numpy as np
    import tensorflow as tf

    from lensml.data.pipeline import pipeline

    def batches(epoch_value, count, global_seed):
        keras.utils.set_random_seed(global_seed)
        epoch = tf.Variable(epoch_value, dtype=tf.int64)
        ds = pipeline("deeplense/model_ii_tiny", "train", batch_size=4, shuffle=True, seed=3,
                      data_dir=tiny_data_dir, epoch=epoch, steps_per_epoch=2)
        first = [np.asarray(x) for x, _ in ds.take(count)]
        again = [np.asarray(x) for x, _ in ds.take(count)]  # a second iterator of the same dataset
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)
        return first

    straight = batches(0, 4, global_seed=0)
    resumed = batches(1, 2, global_seed=7)
    for a, b in zip(straight[2:], resumed):
        np.testing.assert_array_equal(a, b)
    n = int(tf.data.experimental.cardinality(
        pipeline("deeplense/model_ii_tiny", "train", batch_size=1, data_dir=tiny_data_dir)))
    whole = batches(0, -(-n // 4) + 1, global_seed=0)
    sums = np.concatenate([x.reshape(len(x), -1).sum(axis=1) for x in whole])[:n]
    assert len(np.unique(sums.round(4))) == n  # the first pass shows every example once
