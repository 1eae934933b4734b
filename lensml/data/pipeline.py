"""tf.data pipelines from the TFDS ``deeplense`` dataset to ``model.fit`` (TF and JAX backends).

``pipeline("model_ii_3k", "train")`` gives batches of (images (B, H, W, 1) float32, targets):
load the stored split -> (stratified subset) -> cache -> shuffle -> normalise per image ->
augment (D4, noise) -> batch -> prefetch.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lensml.data.augment import check_augment, random_d4, random_noise
from lensml.data.normalization import check_normalization, normalize
from lensml.data.subset import take_stratified

from lensml.simulation.targets import HR
from lensml.simulation.targets import TARGETS as _SCHEMA

#: target -> what the targets of a batch are (the schema of ``lensml.simulation.targets``; the
#: classes and the carriers of a class-specific target are the dataset's family's).
TARGETS = {t.name: t.describe() for t in _SCHEMA + (HR,)}
TARGETS[None] = "no targets: batches of images only"


def builder_name(name: str) -> str:
    """'model_ii_tiny' or 'deeplense/model_ii_tiny' -> 'deeplense/model_ii_tiny' (checked)."""
    from lensml.datasets.deeplense import Deeplense

    if not isinstance(name, str):
        raise TypeError(f"name must be a dataset name (str), got {type(name).__name__}")
    dataset, _, config = name.rpartition("/")
    if dataset not in ("", "deeplense"):
        raise ValueError(f"unknown dataset {dataset!r} in name {name!r}; expected 'deeplense/<config>'")
    if Deeplense.get_builder_config(config) is None:  # also makes "<family>_n<N>" on demand
        raise ValueError(
            f"unknown deeplense config {config!r}; known configs: {sorted(Deeplense.builder_configs)} "
            "and <family>_n<N> (N examples per class)"
        )
    return f"deeplense/{config}"


def _family_of(name: str):
    from lensml.simulation.families import get_family

    return get_family(dataset_family(name))


def dataset_family(name: str) -> str:
    """The simulation family of a deeplense dataset name ('deeplense/model_ii_published_n300'
    -> 'model_ii_published'): what ``SimulatedStream`` draws fresh lenses of."""
    from lensml.datasets.deeplense import Deeplense

    config = builder_name(name).rpartition("/")[2]
    return Deeplense.get_builder_config(config).family


def load_split(name: str, split: str, *, data_dir=None, download: bool = True):
    """(tf.data.Dataset of feature dicts, tfds builder) of a stored split; builds the
    dataset first if needed and ``download`` is True."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(builder_name(name), data_dir=data_dir)
    if download:
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    elif not builder.is_prepared():
        raise FileNotFoundError(
            f"{builder_name(name)} is not built in {str(builder.data_dir)!r} and download=False; build it "
            "first (download=True, the default, simulates it) or pass the data_dir that holds it")
    base_split = split.split("[")[0]
    if base_split not in builder.info.splits:
        raise ValueError(f"unknown split {split!r} of {name}; splits: {list(builder.info.splits)}")
    read_config = tfds.ReadConfig(shuffle_seed=0, interleave_cycle_length=1)
    return builder.as_dataset(split=split, shuffle_files=False, read_config=read_config), builder


def split_labels(name: str, split: str, *, data_dir=None) -> "np.ndarray":
    """(N,) int64 class labels of a stored split in stored order (only the labels are decoded)."""
    import numpy as np
    import tensorflow_datasets as tfds

    builder = tfds.builder(builder_name(name), data_dir=data_dir)
    read_config = tfds.ReadConfig(shuffle_seed=0, interleave_cycle_length=1)
    ds = builder.as_dataset(split=split, shuffle_files=False, read_config=read_config,
                            decoders=tfds.decode.PartialDecoding({"label": True}))
    return np.fromiter((int(ex["label"]) for ex in tfds.as_numpy(ds)), dtype=np.int64)


def pipeline(
    name: str,
    split: str,
    *,
    batch_size: int = 64,
    normalization: str | None = "minmax",
    augment=None,
    target: str | None = "label",
    shuffle: bool = True,
    seed: int = 0,
    data_dir=None,
    noise_stddev: float = 0.02,
    fraction: float | None = None,
    drop_remainder: bool = False,
    repeat: bool = False,
    download: bool = True,
    epoch=None,
    steps_per_epoch: int | None = None,
):
    """A batched ``tf.data.Dataset`` of (inputs, targets) for ``model.fit``.

    Args:
      name: a deeplense config, e.g. "model_ii_3k" or "deeplense/model_ii_3k".
      split: "train", "validation", "test" (TFDS slicing like "train[:50%]" works).
      batch_size: examples per batch (> 0).
      normalization: "minmax" (per image, as the papers), "standardize" or None.
      augment: None, "d4", "noise", "d4+noise" (or a list): random D4 element (applied
        jointly to map targets) and additive Gaussian noise of ``noise_stddev`` (in
        normalised units, inputs only). Only for training splits, usually.
      target: one of ``TARGETS`` (see there); "log10_axion_mass" keeps axion examples only.
      shuffle: shuffle examples (seeded, reshuffled every epoch).
      seed: seed of the shuffle and the augmentation.
      fraction: keep ``lensml.data.stratified_subset(labels, fraction)`` of the split: the first
        ceil(fraction * n_c) examples of each class c (label-efficiency curves).
      repeat: repeat forever.
      epoch: a ``tf.Variable`` (int64) for resumable training: the dataset becomes the endless
        sequence of the split's examples (reshuffled every pass, in orders fixed by ``seed``;
        example j augmented with seeds from ``(seed, j)``), batched, starting at batch
        ``epoch * steps_per_epoch`` (read when an iterator is created, so a run resumed at epoch
        k, with ``epoch`` set to k, sees exactly the batches an uninterrupted run saw from k on).
        ``steps_per_epoch``: batches per training epoch (default: one pass over the split);
        the result carries ``fit_steps_per_epoch`` (that number)
        and ``fit_callbacks()`` (``DataEpoch``: the variable follows fit's epoch).
    Returns:
      tf.data.Dataset yielding (images (B, H, W, 1) float32, targets) or images only
      (target=None).
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {list(TARGETS)}, got {target!r}")
    family = _family_of(name)
    # what the target is (lensml.simulation.targets); ``hr`` belongs to the super-resolution configs
    schema = HR if target == HR.name else None if target is None else family.target(target)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    normalization = check_normalization(normalization)
    augments = check_augment(augment)
    if "d4" in augments and target == "source_center":
        raise ValueError("augment 'd4' moves the source: it cannot be used with target='source_center'")
    ds, builder = load_split(name, split, data_dir=data_dir, download=download)
    if target == "hr" and not builder.builder_config.sr_factor:
        raise ValueError(f"target='hr' needs a super-resolution config (e.g. model_ii_sr16), got {name!r}")
    num_examples = builder.info.splits[split].num_examples
    if num_examples == 0:
        raise ValueError(f"split {split!r} of {name} is empty")
    if fraction is not None:  # the protocol's stratified subset (lensml.data.subset), in stored order
        ds = take_stratified(ds, split_labels(name, split, data_dir=data_dir), fraction)
    if schema is not None and schema.carried_by is not None:  # the examples of the classes that carry it
        carriers = tf.constant([family.class_names.index(c) for c in schema.carried_by], tf.int64)
        ds = ds.filter(lambda ex: tf.reduce_any(tf.equal(ex["label"], carriers)))
    keep = ("lr", "hr") if target == HR.name else ("image",) + tuple(t.name for t in _SCHEMA if t.stored)
    ds = ds.map(lambda ex: {k: ex[k] for k in keep}).cache()
    base = ds
    if shuffle:
        ds = ds.shuffle(min(num_examples, 10_000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    rand = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, rand))

    def prepare(ex, r):
        seeds = tf.stack([tf.stack([r, tf.constant(i, tf.int64)]) for i in range(2)])
        if target == "hr":
            x, y = normalize(ex["lr"], normalization), normalize(ex["hr"], normalization)
        else:
            x = normalize(ex["image"], normalization)
            y = x if target == "image" else (None if target is None else ex[target])
        if "d4" in augments:
            if schema is not None and schema.is_map:  # maps move with the image
                x, y = random_d4([x, y], seeds[0])
            else:
                (x,) = random_d4([x], seeds[0])
        if "noise" in augments:
            x = random_noise(x, noise_stddev, seeds[1])
        return x if target is None else (x, y)

    if epoch is not None:
        return _epoch_indexed(base, prepare, epoch, steps_per_epoch, shuffle=shuffle, seed=seed,
                              buffer=min(num_examples, 10_000), batch_size=batch_size, drop_remainder=drop_remainder)
    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return global_batches(ds, batch_size, drop_remainder)


def global_batches(ds, batch_size: int, drop_remainder: bool):
    """``ds`` in global batches, prefetched. Several workers (``tf.distribute``'s multi-worker
    strategy) split each global batch between them (DATA sharding: every worker reads the
    split, worker w keeps its part of each batch), so a job of several workers trains on the
    batches of a one-process run; TensorFlow's default would first try to give each worker
    other files, which changes the batches and fails for a split stored in one file."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE).with_options(options)


def _epoch_indexed(base, prepare, epoch, steps_per_epoch, *, shuffle, seed, buffer, batch_size, drop_remainder):
    """``pipeline(epoch=...)``: the endless example sequence of ``base`` (reshuffled every pass
    in an order fixed by ``seed``), example j augmented with seeds from (seed, j), batched, and
    started at batch ``epoch * steps_per_epoch`` (see ``pipeline``)."""
    n = int(base.cardinality())
    if n < 0:  # a filtered split (stratified subset, axion-only): count it once
        n = int(base.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))
    per_epoch = n // batch_size if drop_remainder else -(-n // batch_size)
    if per_epoch == 0:
        raise ValueError(f"batch_size: {batch_size} with drop_remainder leaves no batch of the {n} examples")
    steps = int(steps_per_epoch or per_epoch)
    salt = tf.constant(int(seed) * 1_000_003, tf.int64)

    def one_pass(p):
        # Pass p's order is fixed by (seed, p) alone: not by how many iterators came before
        # (a reshuffle_each_iteration shuffle gives every new iterator, e.g. the one a
        # multi-worker strategy makes each epoch, another order). The graph seed is set
        # inside this traced function only: the order then does not depend on the global
        # seed either (and TensorFlow cannot check a tensor op seed against a global seed 0).
        if not shuffle:
            return base
        tf.random.set_seed(1)  # sets this function graph's seed, not the program's
        return base.shuffle(buffer, seed=salt + p, reshuffle_each_iteration=False)

    def from_start(_):
        first = epoch.read_value() * steps * batch_size  # read when an iterator is created
        examples = (tf.data.Dataset.range(first // n, tf.int64.max).flat_map(one_pass)
                    .skip(first % n))  # whole passes are not read through
        indexed = tf.data.Dataset.zip((tf.data.Dataset.range(first, tf.int64.max), examples))
        return indexed.map(lambda j, ex: prepare(ex, salt + j), num_parallel_calls=tf.data.AUTOTUNE,
                           deterministic=True)

    ds = global_batches(tf.data.Dataset.from_tensors(0).flat_map(from_start), batch_size, drop_remainder)
    # what model.fit needs beside the dataset: its length, and its epoch following fit's
    ds.fit_steps_per_epoch = steps
    ds.fit_callbacks = lambda: [DataEpoch(epoch)]
    return ds


class DataEpoch(keras.callbacks.Callback):
    """Sets the epoch variable of an epoch-indexed training dataset (``pipeline(epoch=...)``)
    to ``fit``'s epoch when it begins, so the iterator a (resumed) run creates starts at that
    epoch's batches."""

    def __init__(self, variable):
        super().__init__()
        self.variable = variable

    def on_epoch_begin(self, epoch, logs=None):
        self.variable.assign(int(epoch))
