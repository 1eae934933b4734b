"""Data-parallel vs one-device training on 2 simulated CPU devices (not a test module itself).

    KERAS_BACKEND=jax|tensorflow python tests/training/distributed_worker.py

The virtual devices must exist before the backend starts (XLA_FLAGS for JAX, logical CPU
devices for TensorFlow), so this runs in its own process; it prints one JSON line with the
losses and weights of each pair of runs, for tests/training/test_distribute.py to compare.
"""

import json
import os
import sys

DEVICES = 2
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
if BACKEND == "jax":
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={DEVICES}").strip()
else:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * DEVICES)

sys.path.insert(0, os.getcwd())

import keras  # noqa: E402
import numpy as np  # noqa: E402

from lensml.training import config_from_dict  # noqa: E402
from lensml.training.distribute import distribution_scope, replicas_of, synchronize_batch_norm  # noqa: E402
from lensml.training.runner import run_seed  # noqa: E402


def bn_cnn(name, input_shape, num_classes, **options):
    """A tiny CNN with BatchNorm (global statistics must match across devices)."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3, strides=2, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def tf_data_factory(data, split, *, training, seed, num_classes=3):
    """The synthetic examples as a batched tf.data.Dataset, the type lensml.data.pipeline
    returns (tf.distribute splits a PyDataset's batches differently from a one-device run)."""
    from lensml.data.synthetic import synthetic_arrays

    images, labels = synthetic_arrays(data.dataset, split, num_classes=num_classes)
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(data.batch_size)


def runner_pair(out_dir):
    """``run_seed`` with training.distribute none vs data_parallel (the `lensml train` path)."""
    factory = tf_data_factory if BACKEND == "tensorflow" else None  # JAX: the built-in PyDataset
    result = {}
    for mode in ("none", "data_parallel"):
        config = config_from_dict({
            "name": f"dp_{mode}",
            "data": {"dataset": "synthetic:16:8", "batch_size": 8, "val_split": "", "test_split": ""},
            "model": {"name": "bn_cnn"},
            "training": {"epochs": 1, "optimizer": "sgd", "learning_rate": 0.1, "weight_decay": 0.0,
                         "verbose": 0, "distribute": mode, "jit_compile": BACKEND == "jax"},
            "output": {"dir": os.path.join(out_dir, "{name}")},
        })
        run = run_seed(config, 0, model_factory=bn_cnn, data_factory=factory, evaluate_test=False)
        model = keras.saving.load_model(run["paths"]["model"])
        result[mode] = {"loss": run["history"]["loss"],
                        "weights": [np.asarray(w).tolist() for w in model.get_weights()]}
    return result


def stream_pair(out_dir):
    """``run_seed`` on fresh lenses (``data.source = "stream"``), none vs data_parallel: the
    replicas share each global batch of new lenses, so the run equals the one-device run."""
    result = {}
    for mode in ("none", "data_parallel"):
        config = config_from_dict({
            "name": f"stream_{mode}",
            "data": {"dataset": "deeplense/model_ii_published_tiny", "source": "stream", "steps_per_epoch": 2,
                     "batch_size": 6, "val_split": "", "test_split": ""},
            "model": {"name": "bn_cnn"},
            "training": {"epochs": 2, "optimizer": "sgd", "learning_rate": 0.1, "weight_decay": 0.0,
                         "verbose": 0, "distribute": mode, "jit_compile": BACKEND == "jax"},
            "output": {"dir": os.path.join(out_dir, "{name}")},
        })
        run = run_seed(config, 0, model_factory=bn_cnn, evaluate_test=False)
        model = keras.saving.load_model(run["paths"]["model"])
        result[mode] = {"loss": run["history"]["loss"],
                        "weights": [np.asarray(w).tolist() for w in model.get_weights()]}
    return result


def byol_pair():
    """BYOL (EMA target, BatchNorm projector, step counter) fitted with and without the scope."""
    from lensml.ssl import BYOL

    images = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    start, result = None, {}
    for mode in ("none", "data_parallel"):
        keras.utils.set_random_seed(1)
        with distribution_scope(mode) as engine:
            inputs = keras.Input((8, 8, 1))
            x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(inputs)
            encoder = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
            # Deterministic views: random ops draw per replica on TF (see distribute.py).
            model = BYOL(encoder, projection_dim=4, hidden_dim=8, total_steps=8,
                         views=keras.layers.Identity())
            if start is None:
                start = model.get_weights()
            else:
                model.set_weights(start)
            synchronize_batch_norm(model)
            model.compile(optimizer=keras.optimizers.SGD(0.1))
            history = model.fit(images, batch_size=8, epochs=1, shuffle=False, verbose=0)
            result[mode] = {"loss": history.history["loss"], "replicas": replicas_of(engine),
                            "step": float(np.asarray(model.step)),
                            "weights": [np.asarray(w).tolist() for w in model.get_weights()]}
    result["initial"] = {"weights": [np.asarray(w).tolist() for w in start]}
    return result


def main() -> int:
    out = {"devices": [str(d) for d in keras.distribution.list_devices()],
           "runner": runner_pair(sys.argv[1]), "stream": stream_pair(sys.argv[1]), "byol": byol_pair()}
    print("RESULT " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
