"""The model registry: ``build(name, ...)``, ``build_encoder(name, ...)``, ``available()``.

Each architecture registers a *feature function* ``features(inputs, **options) -> tensor``
that maps an image tensor ``(batch, H, W, 1)`` to features ``(batch, D)`` inside a
functional graph. ``build`` adds a task head to it; ``build_encoder`` stops at the features.
Models are flat functional graphs, so intermediate layers (e.g. LensPINN's "source") can be
reached with ``model.get_layer(name)``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Callable

import keras

from lensml.models.contract import LensModel

from lensml.models.heads import classification_head, regression_head

TASKS = ("classification", "regression")

#: CPU scale defaults (``cpu_scale``): the full architecture, 4 epochs of 150 stream batches.
CPU_SCALE = {"options": {}, "epochs": 4, "steps_per_epoch": 150}
#: Narrow transformers for a CPU: 128-d tokens, 4 blocks, 4 heads.
SMALL_TRANSFORMER = {"embed_dim": 128, "depth": 4, "num_heads": 4, "mlp_dim": 256}
#: Tiny sizes (``sizes(name)["tiny"]``) shared by a family of models.
TINY_TRANSFORMER = {"embed_dim": 16, "depth": 1, "num_heads": 2, "mlp_dim": 16, "dropout": 0.0}
TINY_EFFICIENTNET = {"width_coefficient": 0.25, "depth_coefficient": 0.25}
TINY_MOBILENET = {"alpha": 0.25, "minimalistic": True}
TINY_LENSPINN = {"embed_dim": 16, "num_heads": 2, "key_dim": 8, "mlp_dim": 8, "decoder_features": 8}
TINY_D4 = {"unet_fields": (2, 2, 2), "stem_kernel": 3,
           "head_options": {"width_coefficient": 0.25, "depth_coefficient": 0.1}}


@dataclasses.dataclass(frozen=True)
class _Entry:
    features: Callable
    head_hidden: tuple = ()
    head_activation: str = "relu"
    head_dropout: float = 0.0
    description: str = ""
    xla_on_cpu: bool = False
    cpu_scale: str = "{}"
    width: Callable | None = None
    tiny: str = "{}"


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, *, head_hidden=(), head_activation="relu", head_dropout=0.0,
             description: str = "", xla_on_cpu: bool = False,
             cpu_scale: dict | None = None, width: Callable | None = None, tiny: dict | None = None):
    """Decorator registering a feature function under ``name`` (with its default head).

    ``xla_on_cpu``: TensorFlow trains this model faster with XLA than with its graph mode on a
    CPU (measured by benchmarks/bench_models.py); ``default_jit_compile`` then picks XLA.
    ``cpu_scale``: how it trains in minutes on a laptop CPU, on the stream (see ``cpu_scale``).
    ``width``: ``w -> options``, the architecture at width multiplier ``w`` (1: the published
    size; depths kept), which ``lensml.models.budget.options_for_budget`` searches to give the
    model a parameter budget. ``tiny``: the options of its smallest working size (``sizes``)."""

    def wrap(fn):
        if name in _REGISTRY:
            raise ValueError(f"model name {name!r} is already registered")
        _REGISTRY[name] = _Entry(fn, tuple(head_hidden), head_activation, float(head_dropout),
                                 description or (fn.__doc__ or "").strip().splitlines()[0], bool(xla_on_cpu),
                                 json.dumps({**CPU_SCALE, **(cpu_scale or {})}, sort_keys=True), width,
                                 json.dumps(tiny or {}, sort_keys=True))
        return fn

    return wrap


def available() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_REGISTRY)


def describe(name: str) -> str:
    """One-line description of a registered model."""
    return _entry(name).description


#: Keyword arguments of ``build`` itself (besides the architecture's options).
BUILD_OPTIONS = ("task", "target_range", "classifier_activation", "head_hidden", "head_activation", "head_dropout",
                 "input_map")


def option_names(name: str) -> tuple[str, ...]:
    """The options ``build(name, ...)`` accepts: the feature function's keyword arguments and
    ``BUILD_OPTIONS`` (all of them when the feature function takes ``**options``)."""
    import inspect

    params = inspect.signature(_entry(name).features).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        # a thin wrapper (e.g. lenspinn_small -> lenspinn_features): read the function it calls
        return ()
    return tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY) + BUILD_OPTIONS


def option_defaults(name: str) -> dict:
    """The default values of the options of model ``name``'s feature function (empty for a
    thin wrapper taking ``**options``)."""
    import inspect

    params = inspect.signature(_entry(name).features).parameters.values()
    return {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY and p.default is not p.empty}


def check_options(name: str, options) -> None:
    """ValueError naming an option ``build(name, ...)`` does not take (and the ones it does)."""
    known = option_names(name)
    if not known:
        return
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"model {name!r} has no option {', '.join(map(repr, unknown))}; "
                         f"its options: {', '.join(sorted(known))}")


#: The named sizes every registered model has (``sizes``).
SIZES = ("tiny", "cpu", "paper")

#: The benchmark's budget-matched sizes (``size(name, "budget_1m")``): a parameter count each
#: architecture is scaled to by its width (depths as published; ``lensml.models.budget``).
#: ``budget_1m``: the controlled benchmark tables' (every row trains in minutes on a CPU);
#: ``budget_14m``: the LensPINN and Lens-JEPA papers' "similar number of parameters (about 14 M)".
#: Any other count is named the same way: ``budget_250k``, ``budget_2.5m``, ``budget_300000``.
BUDGET_SIZES = {"budget_1m": 1_000_000, "budget_14m": 14_000_000}


def budget_of(which: str) -> int | None:
    """The parameter count a budget-matched size names (``"budget_1m"`` -> 1,000,000,
    ``"budget_250k"`` -> 250,000, ``"budget_300000"``), None for a name that is no budget."""
    import re

    if which in BUDGET_SIZES:
        return BUDGET_SIZES[which]
    match = re.fullmatch(r"budget_(\d+(?:\.\d+)?)([km]?)", str(which))
    if not match:
        return None
    count = round(float(match.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[match.group(2)])
    return count if count > 0 else None


def sizes(name: str) -> dict[str, dict]:
    """The named sizes of model ``name``, as options of ``build(name, ...)``: ``"tiny"`` (tests and
    smoke runs: seconds to build and step), ``"cpu"`` (trains in minutes on a laptop CPU: the
    options of ``cpu_scale``), ``"paper"`` (the published architecture: no option). The
    budget-matched sizes depend on the input and the head: :func:`size`."""
    entry = _entry(name)
    return {"tiny": json.loads(entry.tiny), "cpu": json.loads(entry.cpu_scale).get("options", {}), "paper": {}}


def size(name: str, which: str, *, input_shape=(64, 64, 1), num_classes: int = 3, task: str = "classification",
         base_options: dict | None = None) -> dict:
    """The options of model ``name`` at the named size ``which``: one of ``SIZES`` (``sizes(name)``,
    ``base_options`` merged under it) or a budget (``BUDGET_SIZES``, or ``budget_<count>``), the width at which the model with
    this input shape, classes and task head has that many parameters (+-15 %; where the
    architecture cannot reach it, the closest width: ``lensml.models.budget.options_for_budget``
    says by how much and why).

    Example: ``build("vit", (64, 64, 1), 3, **size("vit", "budget_1m"))`` has 0.85-1.15 M parameters.
    """
    if which in SIZES:
        return {**(base_options or {}), **sizes(name)[which]}
    budget = budget_of(which)
    if budget is None:
        raise ValueError(f"which={which!r}: expected a named size, one of {list(SIZES) + list(BUDGET_SIZES)} "
                         "or budget_<count> (e.g. budget_250k)")
    from lensml.models.budget import options_for_budget

    return options_for_budget(name, budget, base_options=base_options, input_shape=input_shape,
                              num_classes=num_classes, task=task)["options"]


def cpu_scale(name: str) -> dict:
    """How model ``name`` trains at CPU scale (a 2-core laptop, minutes): ``{"options":
    architecture options (narrower where the full model is too slow on a CPU), "epochs",
    "steps_per_epoch": stream batches (of 48 fresh lenses in the quickstart)}``. Used by
    ``lensml quickstart`` and ``benchmarks/bench_recipes.py``."""
    return json.loads(_entry(name).cpu_scale)


def width_options(name: str, width: float) -> dict:
    """Architecture options of model ``name`` at width multiplier ``width`` (1: the published
    size, depths kept); ValueError for a model registered without a width rule."""
    entry = _entry(name)
    if entry.width is None:
        raise ValueError(f"model {name!r} has no width rule (register(..., width=...)); it cannot be sized to a budget")
    if not width > 0:
        raise ValueError(f"width={width!r}: expected a positive multiplier")
    return entry.width(float(width))


def prefers_xla_on_cpu(name: str) -> bool:
    """Whether the model registered as ``name`` trains faster with XLA on a CPU (False for
    names that are not registered, e.g. a user's own model)."""
    entry = _REGISTRY.get(name)
    return bool(entry and entry.xla_on_cpu)


def _entry(name: str) -> _Entry:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown model name {name!r}; known models: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def check_input_shape(input_shape) -> tuple[int, int, int]:
    """Validate ``input_shape == (height, width, 1)`` and return it as a tuple of ints."""
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise TypeError(f"input_shape={input_shape!r}: expected (height, width, 1) integers") from None
    if len(shape) != 3:
        raise ValueError(f"input_shape={input_shape!r}: expected rank 3, (height, width, 1)")
    if shape[-1] != 1:
        raise ValueError(
            f"input_shape={input_shape!r}: expected 1 channel (single-band lensing images), "
            f"got {shape[-1]}"
        )
    if min(shape[:2]) < 8:
        raise ValueError(f"input_shape={input_shape!r}: images must be at least 8x8 pixels")
    return shape


def build_encoder(name: str, input_shape=(64, 64, 1), **options) -> keras.Model:
    """Build a registered backbone without its head.

    Args:
      name: a name from ``available()``.
      input_shape: ``(height, width, 1)``.
      **options: architecture options (see the family's feature function).

    Returns:
      ``keras.Model`` mapping images ``(batch, height, width, 1)`` float32 to features
      ``(batch, D)``.
    """
    entry = _entry(name)
    check_options(name, options)  # a misspelled option names the ones the model takes
    shape = check_input_shape(input_shape)
    inputs = keras.Input(shape, name="images")
    features = entry.features(inputs, **options)
    return keras.Model(inputs, features, name=f"{name}_encoder")


def build(name: str, input_shape=(64, 64, 1), num_classes: int = 3, *,
          task: str = "classification", classifier_activation: str | None = "softmax",
          head_hidden=None, head_activation=None, head_dropout=None, target_range=None,
          normalization: str | None = "minmax", masked: str = "error", input_pixel_scale: float | None = None,
          input_map: str | None = None, **options) -> keras.Model:
    """Build a registered model with a task head.

    Args:
      name: a name from ``available()`` (unknown -> ValueError listing the known names).
      input_shape: ``(height, width, 1)``; 64x64 and 150x150 work for every model.
      num_classes: classes of the classification head.
      target_range: for regression, the (low, high) range of the targets (e.g. the axion prior
        (-24, -22) dex): the output starts at its centre (``heads.regression_head``).
      task: "classification" (``num_classes`` outputs) or "regression" (one linear output,
        e.g. log10 of the axion mass in eV).
      classifier_activation: "softmax" (probabilities, default, like keras.applications)
        or None for logits. Ignored for regression.
      head_hidden, head_activation, head_dropout: hidden Dense layers of the head
        (defaults per model: the papers' MLP for the physics-informed models, none otherwise).
      normalization: the model's input contract, "minmax" (the papers'), "standardize" or
        None: an ``ImageNormalization`` layer ("input_normalization") right after the input,
        saved with the model, so ``model.predict(raw_counts)`` sees what training saw (an
        input already normalised the same way is unchanged by it). The physics models also
        carry their pixel scale (arcsec) in their layers' configs.
      masked: what the model does with NaN / inf pixels: "error" (refuse the images, naming
        them) or "fill" (the median of the image's finite pixels); see ``lensml.models.contract``.
      input_pixel_scale: arcsec per pixel of the training images, recorded in the input contract
        (``lensml train`` sets it from the dataset's family) for ``lensml predict`` to check.
      input_map: what the architecture sees of the normalised image: None (the image itself),
        "lenspinn" (``lensml.physics.PhysicsPreprocessing``, layer "input_map": the LensPINN
        paper's Table 2 trains CNNs on this preprocessed image instead of the raw one) or
        "sobel_product" (``lensml.physics.SobelProduct``, D4LensPINN's map).
      **options: architecture options (width, depth, patch size, ...).

    Returns:
      A ``LensModel`` (a functional ``keras.Model``) from images ``(batch, height, width, 1)`` float32 to
      ``(batch, num_classes)`` (or ``(batch, 1)`` for regression).
    """
    if task not in TASKS:
        raise ValueError(f"task={task!r}: expected one of {TASKS}")
    if task == "classification" and (not isinstance(num_classes, int) or num_classes < 2):
        raise ValueError(f"num_classes={num_classes!r}: expected an integer >= 2")
    entry = _entry(name)
    check_options(name, options)  # a misspelled option names the ones the model takes
    shape = check_input_shape(input_shape)
    inputs = keras.Input(shape, name="images")
    images = input_contract_layer(inputs, normalization, masked, input_pixel_scale)
    features = entry.features(_input_map(images, input_map), **options)
    hidden = entry.head_hidden if head_hidden is None else tuple(head_hidden)
    activation = entry.head_activation if head_activation is None else head_activation
    dropout = entry.head_dropout if head_dropout is None else float(head_dropout)
    if task == "classification":
        outputs = classification_head(features, num_classes, classifier_activation,
                                      hidden=hidden, activation=activation, dropout=dropout)
    else:
        outputs = regression_head(features, 1, hidden=hidden, activation=activation, dropout=dropout,
                                  target_range=target_range)
    model = LensModel(inputs, outputs, name=name)  # checks images against its input contract
    _make_auto_jit_compile_default(model)
    return model


def _input_map(images, input_map: str | None):
    """``images`` through the physics map ``input_map`` (see ``build``), or unchanged for None."""
    if input_map is None:
        return images
    from lensml.physics.preprocessing import MAPS, preprocessing_layer

    if input_map not in MAPS:
        raise ValueError(f"input_map={input_map!r}: expected None or one of {sorted(MAPS)}")
    return preprocessing_layer(input_map, name="input_map")(images)


def input_contract_layer(inputs, normalization: str | None, masked: str = "error", pixel_scale: float | None = None):
    """``inputs`` through ``ImageNormalization(normalization, masked, pixel_scale)`` named
    "input_normalization", or ``inputs`` unchanged for None / "none"."""
    from lensml.layers.normalization import ImageNormalization, check_masked, check_normalization

    check_masked(masked)
    if check_normalization(normalization) == "none":
        return inputs
    return ImageNormalization(normalization, masked=masked, pixel_scale=pixel_scale, name="input_normalization")(inputs)


def input_contract(model: keras.Model) -> dict:
    """What ``model`` expects of its input: ``{"normalization": "minmax" | "standardize" | None,
    "pixel_scale": arcsec per pixel | None, "image_shape": (H, W, C), "masked": "error" | "fill"}`` (None: the model does not carry it; a model saved
    before lensml models carried their normalisation expects min-max normalised images)."""
    from lensml.layers.normalization import ImageNormalization
    from lensml.layers.walk import iter_layers

    norm, scale = None, None
    for layer in iter_layers(model):
        if isinstance(layer, ImageNormalization) and norm is None:
            norm = layer.normalization
        if scale is None and isinstance(getattr(layer, "pixel_scale", None), (int, float)):
            scale = float(layer.pixel_scale)
    from lensml.models.contract import masked_policy

    shape = tuple(model.inputs[0].shape[1:]) if len(getattr(model, "inputs", []) or []) == 1 else None
    return {"normalization": norm, "pixel_scale": scale, "image_shape": shape, "masked": masked_policy(model)}


def _make_auto_jit_compile_default(model: keras.Model) -> None:
    # Keras resolves compile(jit_compile="auto") through this method of the model (keras 3,
    # Trainer._resolve_auto_jit_compile); answering with default_jit_compile(model) gives a
    # user who just calls compile/fit the measured fastest path. Keras still turns XLA off
    # for a model that cannot be jit-compiled.
    from lensml.models.compile import default_jit_compile

    if hasattr(model, "_resolve_auto_jit_compile"):
        model._resolve_auto_jit_compile = lambda: default_jit_compile(model)


