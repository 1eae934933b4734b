"""Fixtures for the experiments tests: a tiny model factory and a config writer."""

import textwrap

import pytest


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
