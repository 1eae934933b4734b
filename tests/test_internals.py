"""The private Keras and Optuna internals lensml relies on, each because no public API does the
job, and each pinned here (or by the test named) so that an upgrade that changes one fails
a test that names it, not a user's run. The README's "Private internals" lists the same.

| internal | used by | why no public API |
|---|---|---|
| ``keras.Model._resolve_auto_jit_compile`` | ``lensml.models.build`` | how ``compile(jit_compile="auto")`` resolves; lensml answers with ``default_jit_compile`` |
| ``keras.layers.Layer._flatten_layers`` | ``lensml.layers.walk.iter_layers`` | Keras has no public recursive layer walk |
| ``keras.src.losses.loss.scale_loss_for_distribution`` | ``lensml.ssl.base.replica_loss`` | the public way (tf.distribute's replica count) imports TensorFlow into backend-agnostic code |
| ``keras.src.applications.efficientnet(_v2).EfficientNet(V2)`` | ``lensml.models.cnn`` | the public ``EfficientNetB0``/``V2S`` fix the width and depth coefficients |
| ``tfds.core.DatasetBuilder.builder_configs`` (mutated) | ``lensml.datasets.sized_config`` | TFDS has no public way to register a config made at run time (``<family>_n<N>``) |
| ``optuna.Study._storage``, ``_CachedStorage._backend``, ``RDBStorage._create_new_trial`` | ``lensml.tuning.budget`` | Optuna exposes neither a study's storage nor a hook on trial creation (tests/tuning/test_storage.py::test_storage_of_a_study) |
| ``optuna.storages._heartbeat.BaseHeartbeat``, ``_get_stale_trial_ids``, ``FrozenTrial._trial_id`` | ``lensml.tuning.heartbeat`` | the heartbeat interface ``fail_stale_trials`` and ``study.optimize`` look for |
| ``optuna.storages._rdb.models``, ``_create_scoped_session`` | ``HeartbeatRDBStorage`` | the heartbeat table is not in ``FrozenTrial`` (tests/tuning/test_workers.py::test_trial_killed_before_its_first_heartbeat_is_failed_and_retried) |
| ``keras.src.backend.tensorflow.trainer.TensorFlowTrainer._maybe_symbolic_build``, ``trainer.reduce_per_replica``, ``_collective_all_reduce_multi_worker`` (wrapped) | ``lensml.training.distribute`` (every ``tf.distribute`` strategy) | Keras builds metrics from a drawn training batch (a mirrored run then starts at batch 2; the multi-worker reduce fails, keras-team/keras#20585) and reduces scalar logs with axis=0 |
| ``keras.src.backend.tensorflow.nn._compute_moments_sync`` (replaced) | ``lensml.training.distribute`` (every ``tf.distribute`` strategy) | Keras's synchronized BatchNorm variance is E[x^2] - E[x]^2 in float32 (a 2-worker ResNet18 gradient 0.9 % off a one-process one); no public option takes two passes |
"""

import inspect
import time

import keras
import optuna
import pytest


def test_keras_compile_auto_asks_resolve_auto_jit_compile():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    wanted = keras.backend.backend() == "tensorflow"  # the opposite of Keras's own CPU answer on TF
    model._resolve_auto_jit_compile = lambda: wanted
    model.compile("sgd", "mse")  # jit_compile="auto"
    assert model.jit_compile is wanted


def test_keras_flatten_layers_walks_nested_models_and_sublayers():
    from lensml.layers.walk import iter_layers

    class Holder(keras.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner = keras.layers.Dense(2, name="held")

        def call(self, x):
            return self.inner(x)

    inputs = keras.Input((3,))
    sub = keras.Sequential([keras.layers.Dense(2, name="nested")], name="sub")
    model = keras.Model(inputs, Holder(name="holder")(sub(inputs)))
    assert {"sub", "nested", "holder", "held"} <= {layer.name for layer in iter_layers(model)}
    assert next(iter(iter_layers(model, include_self=True))) is model


def test_keras_generic_efficientnet_builders():
    from keras.src.applications.efficientnet import EfficientNet
    from keras.src.applications.efficientnet_v2 import EfficientNetV2

    for builder in (EfficientNet, EfficientNetV2):
        names = list(inspect.signature(builder).parameters)
        assert names[:3] == ["width_coefficient", "depth_coefficient", "default_size"], (builder, names)
        assert {"include_top", "weights", "input_shape", "pooling"} <= set(names)


def test_optuna_heartbeat_interface(tmp_path):
    # fail_stale_trials (public) fails what a BaseHeartbeat storage's _get_stale_trial_ids names;
    # lensml's journal storage implements that interface.
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled

    from lensml.tuning import make_storage

    storage = make_storage(f"journal:{tmp_path / 's.log'}", heartbeat_interval=1, grace_period=1, max_retry=1)
    assert isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage)
    study = optuna.create_study(storage=storage)
    with pytest.warns(UserWarning, match="Heartbeat"):
        orphan = study.ask()  # a worker killed before its first beat
    assert storage._get_stale_trial_ids(study._study_id) == []
    time.sleep(1.2)
    assert storage._get_stale_trial_ids(study._study_id) == [orphan._trial_id]
    optuna.storages.fail_stale_trials(study)
    trials = study.trials
    assert trials[0].state == optuna.trial.TrialState.FAIL
    assert trials[1].state == optuna.trial.TrialState.WAITING and trials[1].system_attrs["failed_trial"] == 0


def test_tfds_serves_configs_added_to_builder_configs(tmp_path):
    # Built once, a sized config is read back through lensml's builder (with its config class),
    # not through TFDS's read-only builder, only because it is in Deeplense.builder_configs.
    import tensorflow_datasets as tfds

    from lensml.datasets import Deeplense, sized_config
    from lensml.datasets.deeplense import DeeplenseConfig

    assert Deeplense.builder_configs is Deeplense.builder_configs  # one memoised dict
    name = sized_config("model_i", 5)
    assert name.split("/")[1] in Deeplense.builder_configs
    tfds.builder(name, data_dir=str(tmp_path)).download_and_prepare()
    again = tfds.builder(name, data_dir=str(tmp_path))
    assert isinstance(again, Deeplense) and isinstance(again.builder_config, DeeplenseConfig)
    assert again.builder_config.test_per_class >= 1


def test_keras_scales_a_replica_s_loss():
    # Identity outside tf.distribute (one replica) on both backends; what replica_loss calls.
    from keras.src.losses.loss import scale_loss_for_distribution

    from lensml.ssl.base import replica_loss

    loss = keras.ops.convert_to_tensor(2.5)
    assert float(scale_loss_for_distribution(loss)) == 2.5 and float(replica_loss(loss)) == 2.5


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the TensorFlow trainer's internals")
def test_keras_tensorflow_trainer_symbolic_build_and_replica_reduce():
    from keras.src.backend.tensorflow import trainer as tf_trainer

    from lensml.training.distribute import _build_without_a_batch

    params = inspect.signature(tf_trainer.TensorFlowTrainer._maybe_symbolic_build).parameters
    assert {"iterator", "data_batch"} <= set(params)
    assert list(inspect.signature(tf_trainer.reduce_per_replica).parameters) == ["values", "strategy", "reduction"]
    assert callable(tf_trainer._collective_all_reduce_multi_worker)
    _build_without_a_batch()
    assert tf_trainer.TensorFlowTrainer._maybe_symbolic_build._lensml_local_batch


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the TensorFlow backend's BatchNorm moments")
def test_synchronized_batch_norm_moments_take_two_passes():
    # Keras's synchronized moments (E[x^2] - E[x]^2, one pass) lose the variance of a channel
    # whose mean is large against its spread; lensml's replacement subtracts the global mean
    # first, as tf.nn.moments does on one device (a one-step ResNet18 gradient under 2 workers
    # differed from one process by 0.9 % before, 5e-6 after).
    import numpy as np
    import tensorflow as tf
    from keras.src.backend.tensorflow import nn as tf_nn

    from lensml.training.distribute import _two_pass_synchronized_moments

    assert list(inspect.signature(tf_nn._compute_moments_sync).parameters) == ["x", "axes", "keepdims"]
    _two_pass_synchronized_moments()
    assert tf_nn._compute_moments_sync._lensml_two_pass
    x = (1000.0 + np.random.default_rng(0).normal(0, 0.01, (64, 3))).astype(np.float32)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])  # a replica context with all-reduces
    mean, variance = strategy.run(lambda: keras.ops.moments(tf.constant(x), axes=[0], synchronized=True))
    np.testing.assert_allclose(variance.numpy(), x.astype(np.float64).var(axis=0), rtol=2e-2)
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=0), rtol=1e-6)
