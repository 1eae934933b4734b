"""Data-parallel training on several devices or machines, through each backend's own engine.

``distribution_scope(name)`` is a context manager: build, compile and ``fit`` a model inside
it and every batch is split over the devices, gradients are all-reduced, and the weights stay
identical on every device (synchronous data parallelism)::

    from lensml.training.distribute import distribution_scope

    with distribution_scope("data_parallel"):
        model = lensml.models.build("resnet18")
        model.compile(...)
        model.fit(train_ds)          # batches of the GLOBAL batch size

Per backend (the names accepted by ``training.distribute`` / ``lensml train --distribute``):

======================  ======================================  =========================================
name                    JAX                                     TensorFlow
======================  ======================================  =========================================
``"none"``              one device                              one device (the default strategy)
``"data_parallel"``     ``keras.distribution.DataParallel``     the strategy the environment calls for:
                        over every device of every process      ``TPUStrategy`` if ``TPU_NAME`` is set
                        (``keras.distribution.initialize()``    and a TPU is found,
                        first when ``KERAS_DISTRIBUTION_JOB_    ``MultiWorkerMirroredStrategy`` if
                        ADDRESSES`` is set: multi-host)         ``TF_CONFIG`` names several workers,
                                                                else ``MirroredStrategy`` (local devices)
``"mirrored"``          as ``"data_parallel"``                  ``tf.distribute.MirroredStrategy``
``"multi_worker"``      as ``"data_parallel"`` (multi-host)     ``tf.distribute.MultiWorkerMirroredStrategy``
``"tpu"``               as ``"data_parallel"``                  ``tf.distribute.TPUStrategy``
======================  ======================================  =========================================

The global batch (``data.batch_size``) is split evenly: it must be a multiple of the number
of devices. Results match a one-device run with the same global batch up to float
round-off, with two caveats that are properties of the engines, not of lensml:

- On TensorFlow each replica normalises with its own batch statistics unless the layer is
  ``BatchNormalization(synchronized=True)``; JAX's DataParallel is one global program, so
  statistics are global.
- Random ops (augmentation, SSL views, dropout) draw per replica on TensorFlow, so the
  random numbers differ from a one-device run (the distribution is the same).

TensorFlow is imported here only for ``tf.distribute``, and only on the TensorFlow backend
(the rest of lensml outside ``data/`` and ``datasets/`` stays backend-neutral).
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Iterator, Sequence

from lensml.training.config import DISTRIBUTE as STRATEGIES


def check_strategy(name: Any) -> str:
    """``name`` normalised (``None``/``"off"`` -> ``"none"``); ValueError if unknown."""
    if name is None or name is False:
        return "none"
    if not isinstance(name, str):
        raise TypeError(f"distribute: expected a string, one of {STRATEGIES}, got {name!r}")
    key = name.strip().lower().replace("-", "_")
    key = {"off": "none", "": "none", "multi_worker_mirrored": "multi_worker"}.get(key, key)
    if key not in STRATEGIES:
        raise ValueError(f"distribute: got {name!r}, expected one of {STRATEGIES}")
    return key


def _tf_config_workers() -> int:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (ValueError, AttributeError) as e:
        raise ValueError(f"TF_CONFIG: not valid JSON ({e}): {raw[:200]!r}") from None
    return sum(len(cluster.get(k, [])) for k in ("chief", "worker"))


def start_processes(name: Any) -> None:
    """Join this process to its multi-process job, first thing in a command: both engines
    must be set up before they run anything (TensorFlow: "collective ops must be configured
    at program startup"; JAX: ``jax.distributed.initialize`` before the first computation).

    TensorFlow: creates the ``MultiWorkerMirroredStrategy`` when ``name`` is ``"multi_worker"``
    or ``TF_CONFIG`` names several workers. JAX: ``keras.distribution.initialize()`` when
    ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` (or ``JAX_COORDINATOR_ADDRESS``) is set, with CPU
    collectives over gloo where the job runs on CPUs (JAX has none on CPU otherwise). Nothing
    for one-process runs.
    """
    import keras

    name = check_strategy(name)
    if name == "none":
        return
    backend = keras.backend.backend()
    if backend == "tensorflow" and (name == "multi_worker" or _tf_config_workers() > 1):
        tensorflow_strategy(name)
    elif backend == "jax" and _jax_multi_host(name) and not _jax_initialized():
        import jax

        if jax.config.jax_cpu_collectives_implementation in (None, "none", ""):
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize()


def _jax_multi_host(name: str) -> bool:
    return name == "multi_worker" or any(
        os.environ.get(v) for v in ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "JAX_COORDINATOR_ADDRESS"))


def jax_process_count() -> int:
    """How many processes a JAX job has (1 for a one-process run and on TensorFlow).

    JAX's data parallelism takes from each process its own part of every global batch
    (``jax.make_array_from_process_local_data``): Keras splits a ``tf.data`` batch into equal
    parts, so in a job of several processes lensml's stored splits give full batches only (a
    validation or test split's last partial batch is left out). TensorFlow's multi-worker
    strategy splits batches on its own.
    """
    import keras

    if keras.backend.backend() != "jax" or not _jax_initialized():
        return 1
    import jax

    return jax.process_count()


def process_part() -> tuple[int, int]:
    """(index, count): this process's place in its multi-process job, in the order the
    engine splits each global batch in ((0, 1) in a one-process run). TensorFlow: the
    ``TF_CONFIG`` task (the chief first, then the workers by index); JAX: ``jax.process_index``
    and ``jax.process_count``."""
    import keras

    if keras.backend.backend() == "tensorflow" and _tf_config_workers() > 1:
        tf_config = json.loads(os.environ["TF_CONFIG"])
        task, cluster = tf_config.get("task", {}), tf_config.get("cluster", {})
        chiefs = len(cluster.get("chief", []))
        index = 0 if task.get("type") == "chief" else chiefs + int(task.get("index", 0))
        return index, _tf_config_workers()
    count = jax_process_count()
    if count > 1:
        import jax

        return jax.process_index(), count
    return 0, 1


def is_chief() -> bool:
    """Whether this process writes a job's results: always in a one-process run; in a
    multi-process job, TensorFlow's chief (``TF_CONFIG`` task ``chief``, or worker 0 where
    there is no chief) and JAX's process 0."""
    import keras

    if keras.backend.backend() == "tensorflow" and _tf_config_workers() > 1:
        tf_config = json.loads(os.environ["TF_CONFIG"])
        task, cluster = tf_config.get("task", {}), tf_config.get("cluster", {})
        if cluster.get("chief"):
            return task.get("type") == "chief"
        return task.get("type") == "worker" and int(task.get("index", 0)) == 0
    if keras.backend.backend() == "jax":
        try:
            import jax

            return jax.process_index() == 0
        except ImportError:
            return True
    return True


def _find_tpu():
    """A TPU cluster resolver, or None where there is no TPU."""
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return resolver
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        return None


# One strategy object per kind and device list for the whole process: TF's collectives
# (all-reduce instance keys) get confused when several Mirrored strategies run one after another.
_TF_STRATEGIES: dict[tuple, Any] = {}


def tensorflow_strategy(name: str = "data_parallel", devices: Sequence[str] | None = None):
    """The ``tf.distribute.Strategy`` for ``name`` (see the module table); the same object for
    the same arguments within a process.

    devices: for ``"mirrored"`` (and ``"data_parallel"`` on one machine), device names such as
    ``["/cpu:0", "/cpu:1"]``; default: every GPU, else every logical CPU device.
    """
    import tensorflow as tf

    name = check_strategy(name)
    if name == "none":
        return tf.distribute.get_strategy()
    key = (name, tuple(devices) if devices is not None else None, os.environ.get("TF_CONFIG"))
    if key not in _TF_STRATEGIES:
        _TF_STRATEGIES[key] = _new_tensorflow_strategy(name, devices)
    return _TF_STRATEGIES[key]


def _new_tensorflow_strategy(name: str, devices: Sequence[str] | None):
    import tensorflow as tf

    _build_without_a_batch()
    _two_pass_synchronized_moments()
    if name == "tpu" or (name == "data_parallel" and devices is None and os.environ.get("TPU_NAME")):
        resolver = _find_tpu()
        if resolver is None:
            if name == "tpu":
                raise ValueError("distribute: 'tpu' asked for, but no TPU was found (TPUClusterResolver failed)")
        else:
            return tf.distribute.TPUStrategy(resolver)
    if name == "multi_worker" or (name == "data_parallel" and _tf_config_workers() > 1):
        return tf.distribute.MultiWorkerMirroredStrategy()
    if devices is None:
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices=list(devices))


def _build_without_a_batch() -> None:
    """Make Keras 3's ``fit`` / ``evaluate`` under a ``tf.distribute`` strategy start at the
    data's first batch, and work under ``MultiWorkerMirroredStrategy``.

    Before its first step the TensorFlow trainer builds the model's metrics and optimizer
    from one batch, which it takes from the training iterator and averages over the replicas
    with ``strategy.reduce("MEAN", batch, axis=None)``. That draws one batch: with
    ``steps_per_epoch`` set the iterator is kept, so training starts at the second batch and a
    data-parallel run differs from a one-device run (and from its own resumed run). Under the
    multi-worker strategy the reduce itself fails ("Attempt to convert a value
    (PerReplica...)", keras-team/keras#20585). Only the batch's shapes and dtypes matter, so
    this builds from zeros shaped like the dataset's elements: nothing drawn, no collective.
    Installed once, on the trainer class; pinned in tests/test_internals.py.
    """
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    if getattr(TensorFlowTrainer._maybe_symbolic_build, "_lensml_local_batch", False):
        return
    original = TensorFlowTrainer._maybe_symbolic_build

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        import tensorflow as tf
        from keras import tree

        adapter = getattr(iterator, "data_adapter", None)
        if adapter is not None and self._distribute_strategy is not None:
            spec = adapter.get_tf_dataset().element_spec
            data_batch = tree.map_structure(
                lambda s: tf.zeros([1 if d is None else d for d in s.shape], s.dtype), spec)
            with self.distribute_strategy.scope():
                self._symbolic_build(data_batch=data_batch)
            return
        return original(self, iterator=iterator, data_batch=data_batch)

    _maybe_symbolic_build._lensml_local_batch = True
    TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build

    # Each step's logs (scalars) are then averaged with ``strategy.reduce("MEAN", v, axis=0)``,
    # which fails for scalars under the multi-worker strategy: averaged with axis=None instead
    # (the mean over every replica of every worker, what one-machine strategies report).
    from keras.src.backend.tensorflow import trainer as tf_trainer

    reduce_per_replica = tf_trainer.reduce_per_replica

    def _reduce_per_replica(values, strategy, reduction):
        from keras import tree

        if (tf_trainer._collective_all_reduce_multi_worker(strategy)
                and reduction in ("auto", "mean")):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return reduce_per_replica(values, strategy, reduction)

    tf_trainer.reduce_per_replica = _reduce_per_replica


def _two_pass_synchronized_moments() -> None:
    """Make ``BatchNormalization(synchronized=True)`` compute its statistics as a one-device
    BatchNorm does, so a data-parallel run equals a one-device run beyond tiny batches.

    Keras's synchronized moments on TensorFlow take the variance as E[x^2] - E[x]^2 over the
    replicas (one all-reduce pass), which in float32 loses most of its digits where a
    channel's mean is large against its spread; ``tf.nn.moments`` (one device) subtracts the
    mean first. Measured: ResNet18 under ``MultiWorkerMirroredStrategy`` with a global batch
    of 24 differed from one process by 2 % in the first epoch's loss; with the two passes,
    by float round-off. Here: the global mean (one all-reduce), then the global mean of
    squared deviations (a second). Installed once; pinned in tests/test_internals.py.
    """
    from keras.src.backend.tensorflow import nn as tf_nn

    if getattr(tf_nn._compute_moments_sync, "_lensml_two_pass", False):
        return

    def _compute_moments_sync(x, axes, keepdims):
        import tensorflow as tf

        replica = tf.distribute.get_replica_context()
        if not replica:
            return tf.nn.moments(x, axes, keepdims=keepdims)
        total = replica.all_reduce("SUM", tf.reduce_sum(x, axis=axes, keepdims=True))
        count = replica.all_reduce("SUM", tf.reduce_sum(tf.ones_like(x), axis=axes, keepdims=True))
        mean = tf.math.divide_no_nan(total, count)
        # as tf.nn.moments: no gradient through the mean here (its gradient there is zero)
        squares = tf.reduce_sum(tf.math.squared_difference(x, tf.stop_gradient(mean)), axis=axes, keepdims=True)
        variance = tf.math.divide_no_nan(replica.all_reduce("SUM", squares), count)
        if not keepdims:
            mean, variance = tf.squeeze(mean, axes), tf.squeeze(variance, axes)
        return mean, variance

    _compute_moments_sync._lensml_two_pass = True
    tf_nn._compute_moments_sync = _compute_moments_sync


def jax_distribution(name: str = "data_parallel", devices: Sequence[Any] | None = None):
    """A ``keras.distribution.DataParallel`` over ``devices`` (default: every device of every
    process). Multi-host (``name="multi_worker"``, or ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` /
    ``JAX_COORDINATOR_ADDRESS`` set): ``keras.distribution.initialize()`` first, which reads
    ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` (coordinator first), ``KERAS_DISTRIBUTION_NUM_PROCESSES``
    and ``KERAS_DISTRIBUTION_PROCESS_ID``, or detects TPU pods and SLURM jobs."""
    import keras

    name = check_strategy(name)
    if name == "none":
        return None
    if _jax_multi_host(name) and not _jax_initialized():
        start_processes(name)  # reads KERAS_DISTRIBUTION_* (or detects TPU pods / SLURM)
    if devices is None:
        devices = keras.distribution.list_devices()
    return keras.distribution.DataParallel(devices=list(devices))


def _jax_initialized() -> bool:
    try:
        import jax

        return jax.distributed.is_initialized()
    except AttributeError:  # older jax: no query function; initialize() raises if repeated
        return False


def num_replicas(name: str = "data_parallel", devices: Sequence[Any] | None = None) -> int:
    """How many devices a global batch is split over under ``name`` (1 for ``"none"``)."""
    import keras

    if check_strategy(name) == "none":
        return 1
    if keras.backend.backend() == "tensorflow":
        return int(tensorflow_strategy(name, devices).num_replicas_in_sync)
    if devices is not None:
        return len(devices)
    return len(keras.distribution.list_devices())


def check_batch_size(batch_size: int, replicas: int) -> None:
    """ValueError unless the global batch splits evenly over ``replicas`` devices."""
    if replicas > 1 and batch_size % replicas:
        raise ValueError(
            f"data.batch_size: got {batch_size}, expected a multiple of the {replicas} devices "
            "that data-parallel training splits each global batch over"
        )


@contextlib.contextmanager
def distribution_scope(name: str | None = "data_parallel", devices: Sequence[Any] | None = None) -> Iterator[Any]:
    """Context manager: models built, compiled and fitted inside train data-parallel.

    Yields the engine object (``tf.distribute.Strategy`` on TensorFlow,
    ``keras.distribution.DataParallel`` on JAX, ``None`` for ``"none"``). The previous global
    distribution is restored on exit. Other backends (torch, numpy) accept only ``"none"``.
    """
    import keras

    name = check_strategy(name)
    if name == "none":
        yield None
        return
    backend = keras.backend.backend()
    if backend == "jax":
        dist = jax_distribution(name, devices)
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(dist)
        try:
            yield dist
        finally:
            keras.distribution.set_distribution(previous)
    elif backend == "tensorflow":
        strategy = tensorflow_strategy(name, devices)
        with strategy.scope():
            yield strategy
    else:
        raise ValueError(f"distribute: {name!r} is supported on the jax and tensorflow backends, not {backend!r}")


def replicas_of(engine: Any) -> int:
    """Devices one global batch is split over by ``engine`` (what ``distribution_scope`` yields)."""
    if engine is None:
        return 1
    if hasattr(engine, "num_replicas_in_sync"):  # tf.distribute.Strategy
        return int(engine.num_replicas_in_sync)
    mesh = getattr(engine, "device_mesh", None)  # keras.distribution.DataParallel
    return int(mesh.devices.size) if mesh is not None else 1


def is_multi_process(engine: Any) -> bool:
    """Whether ``engine`` joins several processes into one job (TensorFlow multi-worker with a
    ``TF_CONFIG`` of several workers, or JAX initialised for several processes): they share
    one run folder."""
    if engine is None:
        return False
    if hasattr(engine, "num_replicas_in_sync"):  # tf.distribute
        return _tf_config_workers() > 1
    try:
        import jax

        return jax.process_count() > 1
    except ImportError:
        return False


def barrier(engine: Any) -> None:
    """Wait until every process of ``engine``'s job gets here (no-op for one process): a
    collective all-reduce on TensorFlow, ``multihost_utils.sync_global_devices`` on JAX."""
    if not is_multi_process(engine):
        return
    if hasattr(engine, "num_replicas_in_sync"):
        import tensorflow as tf

        ones = engine.run(lambda: tf.ones(()))
        engine.reduce("SUM", ones, axis=None).numpy()
    else:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("lensml")


def synchronize_batch_norm(model: Any, synchronized: bool = True) -> int:
    """Make every ``keras.layers.BatchNormalization`` in ``model`` use global-batch statistics
    under ``tf.distribute`` (``synchronized=True``), so a multi-replica run matches a one-device
    run. No-op (returns 0) on other backends, where Keras allows only ``synchronized=False`` and
    JAX's DataParallel is global anyway. Call with ``synchronized=False`` before saving a model
    that must load on JAX. Returns the number of layers changed.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return 0
    count = 0
    from lensml.layers.walk import iter_layers

    for layer in iter_layers(model, include_self=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = bool(synchronized)
            count += 1
    return count


def enter_distribution(stack: contextlib.ExitStack, name: str | None, batch_size: int | None = None) -> Any:
    """Enter ``distribution_scope(name)`` on ``stack`` (closed by the caller) and check that
    ``batch_size`` splits over its devices. Returns the engine (None for ``"none"``)."""
    engine = stack.enter_context(distribution_scope(name))
    if batch_size is not None:
        check_batch_size(batch_size, replicas_of(engine))
    return engine


def prepare_model(model: Any, engine: Any) -> None:
    """Per-model settings for data-parallel training under ``engine``: global BatchNorm
    statistics on TensorFlow (see :func:`synchronize_batch_norm`)."""
    if replicas_of(engine) > 1:
        synchronize_batch_norm(model, True)


def release_model(model: Any) -> None:
    """Undo :func:`prepare_model` so the saved model loads on every backend."""
    synchronize_batch_norm(model, False)
