"""Test-wide settings: quiet TensorFlow, a default backend, fast compiles, fixed seeds.

CI runs the whole suite twice, with ``KERAS_BACKEND=tensorflow`` and ``KERAS_BACKEND=jax``.
"""

import os
import tempfile
import textwrap

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests run tiny inputs, so compile time dominates: XLA (JAX, and TF with jit_compile) skips
# its expensive LLVM optimisations (mobilenetv3_small's train step: 16 s -> 12 s on 2 cores).
# Set before JAX or TF starts; child processes (CLI and worker tests) inherit it.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true")
# JAX compiles every weight initialiser per shape (~0.1-0.3 s each, hundreds per model): a
# compilation cache on disk shared by the xdist workers and the CLI subprocesses compiles each
# program once per machine (a cache: the results are the same with or without it).
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), f"lensml-tests-jax-cache-{os.getuid()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    """A numpy Generator with a fixed seed."""
    return np.random.default_rng(1234)


@pytest.fixture
def backend():
    import keras

    return keras.backend.backend()


def pytest_collection_modifyitems(config, items):
    """Run the tests marked ``slow`` first (stable order otherwise): with ``-n 2 --dist
    worksteal`` the long ones then overlap each other instead of leaving one core idle at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# --- the training and protocols tests: a tiny model factory and a config writer ---



def tiny_model(name, input_shape, num_classes, width=4, **options):
    """A few-hundred-parameter CNN standing in for lensml.models.build in fast tests."""
    import keras

    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(width, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


@pytest.fixture
def model_factory():
    return tiny_model


@pytest.fixture
def write_config(tmp_path):
    """write_config(text, name="exp") -> path of a TOML file whose output goes under tmp_path."""

    def write(text, name="exp"):
        path = tmp_path / f"{name}.toml"
        body = textwrap.dedent(text)
        if "[output]" not in body:
            body += f'\n[output]\ndir = "{tmp_path}/runs/{{name}}"\n'
        path.write_text(body)
        return path

    return write


TINY = """
[data]
dataset = "synthetic:24:12"
batch_size = 8
[model]
name = "tiny"
[training]
epochs = 2
learning_rate = 0.01
verbose = 0
run_eagerly = true
"""


@pytest.fixture
def tiny_toml():
    return TINY


@pytest.fixture
def crash_after():
    """crash_after(epoch) -> a callback that raises KeyboardInterrupt at the end of ``epoch``
    (an interrupted run: the backup of that epoch is written, the run stops)."""
    import keras

    class Crash(keras.callbacks.Callback):
        def __init__(self, at):
            super().__init__()
            self.at = at

        def on_epoch_end(self, epoch, logs=None):
            if epoch == self.at:
                raise KeyboardInterrupt("killed")

    return Crash
