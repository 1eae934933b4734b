"""Read or replace the output of any layer inside a Keras model during a forward pass.

Works for functional, Sequential and subclassed models and for layers inside nested
sub-models: while the context is open, the layer's ``call`` returns the recorded (or
replacing) tensor. A layer called several times in one forward pass (a shared layer) records
one output per call and is replaced at every call.

A *site* names what is read or replaced: a layer name, or ``"name/k"`` for output ``k`` of a
layer with several outputs (the Poisson solver's ``(kappa, alpha)``: ``"poisson/0"``,
``"poisson/1"``); only that output is then replaced, the layer's others pass through.
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


def split_site(model: keras.Model, site) -> tuple[keras.layers.Layer, int | None]:
    """The layer and output index (None: the layer's only output) a site names.

    ``site``: a Layer, a layer name, or ``"name/k"`` (output ``k``; Keras forbids ``/`` in names).
    """
    if isinstance(site, str) and "/" in site:
        name, _, index = site.rpartition("/")
        if not index.isdigit():
            raise ValueError(f"site {site!r}: expected 'layer_name/k' with an integer output index k.")
        return find_layer(model, name), int(index)
    return find_layer(model, site), None


def site_name(model: keras.Model, site) -> str:
    """The canonical name of ``site``: ``"name"`` or ``"name/k"``."""
    layer, index = split_site(model, site)
    return layer.name if index is None else f"{layer.name}/{index}"


def layer_sites(layer: keras.layers.Layer) -> list[str]:
    """The sites of ``layer``: its name, or ``name/k`` for each output of a multi-output layer
    (known once the layer has been called in a functional model; else its name)."""
    try:
        outputs = layer.output
    except (AttributeError, ValueError):  # a layer of a subclassed model has no symbolic output
        return [layer.name]
    if isinstance(outputs, (list, tuple)) and len(outputs) > 1:
        return [f"{layer.name}/{k}" for k in range(len(outputs))]
    return [layer.name]


def _select(layer, output, index):
    if index is None:
        if isinstance(output, (list, tuple, dict)):
            count = len(output)
            raise ValueError(f"layer {layer.name!r} has {count} outputs; name one as a site "
                             f"{', '.join(repr(f'{layer.name}/{k}') for k in range(count))}.")
        return output
    if not isinstance(output, (list, tuple)) or not 0 <= index < len(output):
        count = len(output) if isinstance(output, (list, tuple)) else 1
        raise ValueError(f"site '{layer.name}/{index}': layer {layer.name!r} has {count} output(s).")
    return output[index]


@contextlib.contextmanager
def intercept(layer: keras.layers.Layer, replacement=None, output: int | None = None):
    """Context manager recording (and optionally replacing) ``layer``'s outputs.

    Yields a list that receives the layer's true output at every call. If ``replacement`` is
    given, the layer returns it instead at every call; with ``output=k`` only the layer's
    k-th output is replaced.
    """
    original = layer.call
    recorded: list = []

    def call(*args, **kwargs):
        result = original(*args, **kwargs)
        recorded.append(result)
        if replacement is None:
            return result
        if output is None:
            return replacement
        _select(layer, result, output)  # a clear error for a wrong index
        return type(result)(replacement if k == output else r for k, r in enumerate(result))

    # object.__setattr__ bypasses Keras attribute tracking; the instance attribute shadows the method.
    object.__setattr__(layer, "call", call)
    try:
        yield recorded
    finally:
        object.__delattr__(layer, "call")


def layer_outputs(model: keras.Model, inputs, sites) -> tuple[object, dict]:
    """Run ``model(inputs, training=False)`` once, recording the outputs at ``sites``.

    Returns ``(model_output, {site_name: output})`` (the first call's output for shared layers).
    A multi-output layer must be named with its output (``"poisson/0"``). On JAX the pass is
    one jitted program (un-jitted, JAX compiles every primitive apart).
    """
    targets = [split_site(model, site) for site in sites]
    layers = list({id(layer): layer for layer, _ in targets}.values())  # a layer read at two outputs: one hook

    def forward(x):
        with contextlib.ExitStack() as stack:
            records = {id(layer): stack.enter_context(intercept(layer)) for layer in layers}
            output = model(x, training=False)
        missing = [layer.name for layer in layers if not records[id(layer)]]
        if missing:
            raise ValueError(f"layers {missing} were not called in model {model.name!r}'s forward pass.")
        return output, [_select(layer, records[id(layer)][0], index) for layer, index in targets]

    if keras.backend.backend() == "jax":
        import jax

        forward = jax.jit(forward)
    output, recorded = forward(inputs)
    return output, {site_name(model, site): r for site, r in zip(sites, recorded)}


def call_with_replacement(model: keras.Model, inputs, site, replacement):
    """``model(inputs, training=False)`` with the output at ``site`` replaced by ``replacement``."""
    layer, index = split_site(model, site)
    with intercept(layer, replacement, output=index):
        return model(inputs, training=False)
