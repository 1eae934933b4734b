"""``data.source = "stream"``: training on fresh simulated lenses with the stored splits for
validation and test, resumable; and ``training.recipe``."""

import json
from pathlib import Path

import numpy as np
import pytest

from lensml.training import load_config, run
from lensml.training.config import config_from_dict

STREAM = """
seeds = [0]
[data]
dataset = "deeplense/model_ii_published_tiny"
source = "stream"
steps_per_epoch = 2
batch_size = 6
data_dir = "{data_dir}"
[model]
name = "tiny"
[training]
epochs = 3
learning_rate = 0.01
verbose = 0
run_eagerly = true
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tfds")


def test_stream_training_uses_fresh_lenses_and_stored_validation(write_config, model_factory, data_dir):
    from lensml.training.runner import default_data_factory

    config = load_config(write_config(STREAM.format(data_dir=data_dir), name="stream"))
    train = default_data_factory(config.data, "train", training=True, seed=0)
    assert type(train).__name__ == "SimulatedStream" and train.num_batches == 2
    assert train.family.name == "model_ii_published"
    x0, y0 = train[0]
    train.epoch = 1
    x1, _ = train[0]
    assert x0.shape == (6, 64, 64, 1) and sorted(y0.tolist()) == [0, 0, 1, 1, 2, 2]
    assert not np.allclose(x0, x1)  # every epoch draws new lenses
    result = run(config, model_factory=model_factory)["runs"][0]
    assert len(result["history"]["loss"]) == 3 and "val_loss" in result["history"]
    assert result["metrics"]["test_accuracy"] is not None  # the stored test split was evaluated
    metrics = json.loads(Path(result["paths"]["metrics"]).read_text())
    assert metrics["metrics"]["test_accuracy"] == result["metrics"]["test_accuracy"]


def test_interrupted_stream_run_resumes_with_the_same_lenses(write_config, model_factory, data_dir, crash_after):
    text = STREAM.format(data_dir=data_dir)
    straight = run(load_config(write_config(text, name="straight")), model_factory=model_factory,
                   evaluate_test=False)["runs"][0]

    config = load_config(write_config(text, name="killed"))
    with pytest.raises(KeyboardInterrupt):
        run(config, model_factory=model_factory, callbacks=[crash_after(1)], evaluate_test=False)
    resumed = run(config, model_factory=model_factory, evaluate_test=False)["runs"][0]
    # the resumed epoch 3 saw epoch 3's lenses (not epoch 1's again): the same losses
    assert len(resumed["history"]["loss"]) == 3
    np.testing.assert_allclose(resumed["history"]["loss"], straight["history"]["loss"], rtol=1e-4)


def _raw(**data):
    return {"data": {"dataset": "deeplense/model_ii_tiny", "source": "stream", "steps_per_epoch": 3, **data},
            "model": {"name": "resnet18"}}


def test_stream_config_errors():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        config_from_dict(_raw(steps_per_epoch=None))
    with pytest.raises(ValueError, match="label limit"):
        config_from_dict(_raw(label_fraction=0.1))
    with pytest.raises(ValueError, match="label limit"):
        config_from_dict({**_raw(), "label_fractions": [0.1, 1.0]})
    with pytest.raises(ValueError, match="augment"):
        config_from_dict(_raw(augment="d4"))
    with pytest.raises(ValueError, match="family"):
        config_from_dict(_raw(dataset="synthetic:24:12"))
    with pytest.raises(ValueError, match="data.source"):
        config_from_dict(_raw(source="river"))
    with pytest.raises(ValueError, match="data.target"):
        config_from_dict(_raw(target="convergence"))


def test_recipe_fills_what_the_config_leaves_out():
    from lensml.models import available
    from lensml.training import recipe

    for name in available():
        r = recipe(name)
        assert r["training.schedule"] == "warmup_cosine" and r["training.learning_rate"] > 0, name
    assert recipe("vit")["training.learning_rate"] < recipe("resnet18")["training.learning_rate"]
    config = config_from_dict({"model": {"name": "vit"}, "training": {"recipe": True, "weight_decay": 0.3}})
    assert config.training.learning_rate == recipe("vit")["training.learning_rate"]
    assert config.training.clipnorm == 1.0 and config.training.schedule == "warmup_cosine"
    assert config.training.weight_decay == 0.3  # the file's own value wins
    assert config.data.batch_size == recipe("vit")["data.batch_size"]
    plain = config_from_dict({"model": {"name": "vit"}})
    assert plain.training.schedule == "constant" and plain.training.clipnorm is None
    with pytest.raises(ValueError, match="unknown model name"):
        config_from_dict({"model": {"name": "vitt"}, "training": {"recipe": True}})


def test_tune_and_reproduce_accept_a_stream_config(write_config, model_factory, data_dir, tmp_path):
    from lensml.protocols import tune
    from lensml.protocols.reproduce import SCALES, Row, TABLES, scaled_config

    text = STREAM.format(data_dir=data_dir) + '''
[tune]
objectives = ["val_accuracy"]
n_trials = 2
pruner = "none"

[tune.params."training.learning_rate"]
type = "float"
low = 1e-3
high = 1e-1
log = true
'''
    config = load_config(write_config(text, name="stream_tune"))
    result = tune(config, model_factory=model_factory, report=False)
    assert result["trials_run"] == 2 and result["best"] and result["best"][0]["values"][0] >= 0
    # the reproduction harness keeps a stream row's epoch length (it drops it for stored data)
    path = write_config(text.split("[tune]")[0], name="stream_row")
    row = Row("stream row", str(path), "resnet18", "model_ii_3k", "Ojha")
    scaled = scaled_config(row, SCALES["tiny"], tmp_path / "rep", tmp_path, TABLES["lenspinn"])
    assert scaled.data.source == "stream" and scaled.data.steps_per_epoch == 2


def test_stored_split_with_steps_per_epoch_repeats_a_label_subset(write_config, model_factory, data_dir):
    """1/8 of the tiny training split (one image per class) still trains steps_per_epoch
    batches every epoch: a stored split with data.steps_per_epoch is repeated."""
    from lensml.training.runner import default_data_factory, training_steps

    text = STREAM.format(data_dir=data_dir).replace('source = "stream"', 'label_fraction = 0.125')
    config = load_config(write_config(text.replace("steps_per_epoch = 2", "steps_per_epoch = 4"), name="subset"))
    train = default_data_factory(config.data, "train", training=True, seed=0)
    labels = np.concatenate([np.asarray(y) for _, y in train.take(4)])
    assert labels.shape == (24,) and np.bincount(labels).tolist() == [8, 8, 8]  # 3 images, over and over
    assert training_steps(config) == 3 * 4
    result = run(config, model_factory=model_factory, evaluate_test=False)["runs"][0]
    assert len(result["history"]["loss"]) == 3


def test_damaged_dataset_shard_is_an_error_naming_the_folder(write_config, model_factory, tmp_path):
    """Bytes flipped in the middle of a stored shard (a bad disk, a broken copy): training stops
    with an error that names the dataset folder and says to rebuild it."""
    import tensorflow_datasets as tfds

    data_dir = tmp_path / "tfds"
    tfds.builder("deeplense/model_ii_published_tiny", data_dir=data_dir).download_and_prepare()
    shard = next((data_dir / "deeplense" / "model_ii_published_tiny" / "1.0.0").glob("deeplense-train.tfrecord*"))
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 64] = bytes(64)  # zero a block: the record's checksum fails
    shard.write_bytes(bytes(raw))
    text = STREAM.format(data_dir=data_dir).replace('source = "stream"\n', "")
    config = load_config(write_config(text, name="damaged_data"))
    with pytest.raises(RuntimeError, match=r"damaged .*Delete '.*model_ii_published_tiny' and run again"):
        run(config, model_factory=model_factory, evaluate_test=False)
