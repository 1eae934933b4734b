"""Read or replace the output of any layer inside a Keras model during a forward pass.

Works for functional, Sequential and subclassed models and for layers inside nested
sub-models: while the context is open, the layer's ``call`` returns the recorded (or
replacing) tensor. A layer called several times in one forward pass (a shared layer) records
one tensor per call, and a replacement may be a list with one tensor per call.
"""

from __future__ import annotations

import contextlib

import keras

from lensml.layers.walk import iter_layers  # noqa: F401 - re-exported (lensml.evaluation.patching)


def find_layer(model: keras.Model, layer) -> keras.layers.Layer:
    """The layer named ``layer`` (searched recursively), or ``layer`` itself if it is a Layer."""
    if isinstance(layer, keras.layers.Layer):
        return layer
    if not isinstance(layer, str):
        raise TypeError(f"`layer` must be a layer name or a keras Layer, got {type(layer).__name__}.")
    matches = [candidate for candidate in iter_layers(model) if candidate.name == layer]
    if not matches:
        names = [candidate.name for candidate in iter_layers(model)]
        raise ValueError(f"`layer`={layer!r} is not a layer of model {model.name!r}; layers are {names}.")
    return matches[0]


def is_conv_layer(layer) -> bool:
    """True for layers producing spatial (batch, H, W, C) maps from a convolution kernel."""
    name = type(layer).__name__.lower()
    return "conv" in name and "transpose" not in name and not isinstance(layer, keras.Model)


def last_conv_layer(model: keras.Model) -> keras.layers.Layer:
    """The last convolution layer (in build order) of ``model``; ValueError if there is none."""
    convs = [layer for layer in iter_layers(model) if is_conv_layer(layer)]
    if not convs:
        raise ValueError(f"model {model.name!r} has no convolution layer; pass `layer=` explicitly.")
    return convs[-1]


@contextlib.contextmanager
def intercept(layer: keras.layers.Layer, replacement=None):
    """Context manager recording (and optionally replacing) ``layer``'s outputs.

    Yields a list that receives the layer's true output at every call. If ``replacement`` is
    given (a tensor, or a list with one tensor per call), the layer returns it instead.
    """
    original = layer.call
    recorded: list = []

    def call(*args, **kwargs):
        output = original(*args, **kwargs)
        index = len(recorded)
        recorded.append(output)
        if replacement is None:
            return output
        if isinstance(replacement, (list, tuple)):
            if index >= len(replacement):
                raise ValueError(f"layer {layer.name!r} was called {index + 1} times but got {len(replacement)} replacements.")
            return replacement[index]
        return replacement

    # object.__setattr__ bypasses Keras attribute tracking; the instance attribute shadows the method.
    object.__setattr__(layer, "call", call)
    try:
        yield recorded
    finally:
        object.__delattr__(layer, "call")


def layer_outputs(model: keras.Model, inputs, layers) -> tuple[object, dict]:
    """Run ``model(inputs, training=False)`` once, recording the outputs of ``layers``.

    Returns ``(model_output, {layer_name: output})`` (the first call's output for shared layers).
    On JAX the pass is one jitted program (un-jitted, JAX compiles every primitive apart).
    """
    targets = [find_layer(model, layer) for layer in layers]

    def forward(x):
        with contextlib.ExitStack() as stack:
            records = [stack.enter_context(intercept(layer)) for layer in targets]
            output = model(x, training=False)
        missing = [t.name for t, r in zip(targets, records) if not r]
        if missing:
            raise ValueError(f"layers {missing} were not called in model {model.name!r}'s forward pass.")
        return output, [r[0] for r in records]

    if keras.backend.backend() == "jax":
        import jax

        forward = jax.jit(forward)
    output, recorded = forward(inputs)
    return output, {t.name: r for t, r in zip(targets, recorded)}


def call_with_replacement(model: keras.Model, inputs, layer, replacement):
    """``model(inputs, training=False)`` with ``layer``'s output replaced by ``replacement``."""
    with intercept(find_layer(model, layer), replacement):
        return model(inputs, training=False)
