"""Beam builds do not depend on the number of workers: a tiny config built by Beam's
DirectRunner with 1 and with 2 workers stores the same examples, byte for byte, in the same
stored (key-hash) order.

The workers are threads (``direct_running_mode=multi_threading``): worker processes
(``multi_processing``) give the same bytes but start a Python with lensml each, too slow here.
"""

import glob
import os

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from lensml.datasets import deeplense as deeplense_module


def _build(data_dir, workers):
    beam = pytest.importorskip("apache_beam", reason="the 'beam' extra (CI installs it via 'dev')")
    from apache_beam.options.pipeline_options import PipelineOptions

    config = deeplense_module.DeeplenseConfig(
        name="beam_workers", family="model_ii", train_per_class=2, validation_per_class=1, test_per_class=1)
    builder = tfds.builder("deeplense", config=config, data_dir=data_dir)
    options = PipelineOptions([f"--direct_num_workers={workers}", "--direct_running_mode=multi_threading"])
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        beam_runner=beam.runners.DirectRunner(), beam_options=options))
    return builder


def _records(builder, split):
    """Serialized examples of ``split`` in stored (key-hash) order, re-serialized with
    deterministic map order (protobuf may write a tf.train.Example's feature map in any order)."""
    pattern = os.path.join(builder.data_dir, f"deeplense-{split}.tfrecord*")
    files = sorted(glob.glob(pattern))
    assert files, pattern
    return [tf.train.Example.FromString(r.numpy()).SerializeToString(deterministic=True)
            for r in tf.data.TFRecordDataset(files)]


@pytest.mark.slow
def test_one_and_two_beam_workers_store_identical_examples(tmp_path):
    one = _build(tmp_path / "one", 1)
    two = _build(tmp_path / "two", 2)
    for split, n in (("train", 6), ("validation", 3), ("test", 3)):
        a, b = _records(one, split), _records(two, split)
        assert len(a) == n and len(set(a)) == n
        assert a == b, split  # same bytes in the same stored order
    assert one.info.splits["train"].num_examples == two.info.splits["train"].num_examples == 6
