"""Typed experiment configs read from TOML.

An experiment config is a TOML file with the tables ``[data]``, ``[model]``, ``[training]``,
``[output]`` and optionally ``[tune]``, plus top-level ``name``, ``description`` and ``seeds``.
Every key is checked: an unknown key raises ``ValueError`` naming the key and listing the
allowed ones, so a typo never silently falls back to a default.

Configs are plain dataclasses; overrides use dotted paths (``"training.learning_rate"``,
``"model.options.depth"``) and go through the same validation as the file.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, get_args, get_origin, get_type_hints

SCHEDULES = ("constant", "cosine", "warmup_cosine")
OPTIMIZERS = ("adamw", "adam", "sgd")
MIXED_PRECISION = ("auto", "off", "bfloat16", "float16")
JIT_COMPILE = ("auto", True, False)
# model.trainable: every layer, or only the task head (lensml.training.warm_start).
TRAINABLE = ("all", "head")
# Names of lensml.training.distribute.STRATEGIES (kept here so configs load without Keras).
DISTRIBUTE = ("none", "data_parallel", "mirrored", "multi_worker", "tpu")


@dataclass
class DataConfig:
    """Where the examples come from and how they are batched.

    ``dataset`` is a TFDS name served by ``lensml.data.pipeline`` (e.g.
    ``"deeplense/model_ii_3k"``) or ``"synthetic:<examples>:<size>"`` for a tiny built-in
    random dataset of ``size x size`` single-channel images (tests, smoke runs).
    ``label_fraction`` in (0, 1] keeps that fraction of the training split (label-efficiency
    experiments). ``steps_per_epoch`` / ``validation_steps`` set the number of batches per
    epoch (required for infinite streams); a stored training split with ``steps_per_epoch``
    is repeated, so every run takes the same number of steps whatever its label fraction.

    ``source``: ``"stored"`` trains on the stored training split; ``"stream"`` trains on fresh
    lenses of the dataset's family from the batched simulator (``lensml.data.SimulatedStream``,
    ``steps_per_epoch`` batches of new lenses every epoch, seeded by ``seed`` + the run's
    seed), while validation and test stay the stored splits, so results stay comparable.
    A stream has no label limit, so it does not combine with ``label_fraction`` (or
    ``label_fractions``) and needs no ``augment``.

    ``test_tta``: ``"d4"`` evaluates the test split with D4 test-time augmentation (the model
    averaged over the 8 rotations / reflections of each image; ``lensml.models.tta``); the
    validation metrics during training stay without it.
    """

    dataset: str = "deeplense/model_ii_3k"
    source: str = "stored"
    train_split: str = "train"
    val_split: str = "validation"
    test_split: str = "test"
    test_tta: str | None = None
    batch_size: int = 64
    normalization: str = "minmax"
    augment: str | None = None
    target: str = "label"
    label_fraction: float = 1.0
    shuffle: bool = True
    seed: int = 0
    data_dir: str | None = None
    steps_per_epoch: int | None = None
    validation_steps: int | None = None


@dataclass
class ModelConfig:
    """Which model ``lensml.models.build(name, input_shape, num_classes, **options)`` makes.

    ``input_shape`` is read from the dataset when left out. ``init_from``: a ``.keras`` file
    (``{seed}`` is filled in) whose weights initialise the model, layer by layer
    (``lensml.training.warm_start``: transfer from another dataset or instrument);
    ``trainable``: ``"all"`` (fine-tune) or ``"head"`` (a linear probe: only the task head
    trains).
    """

    name: str = "resnet18"
    num_classes: int = 3
    input_shape: list[int] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    init_from: str | None = None
    trainable: str = "all"


@dataclass
class TrainingConfig:
    """Optimiser, schedule and fit settings.

    Learning rates are per step; ``warmup_epochs`` and ``epochs`` are converted to steps
    with the number of batches per epoch. ``schedule``: ``"constant"``, ``"cosine"`` (from
    ``learning_rate`` to ``min_learning_rate``) or ``"warmup_cosine"`` (linear from
    ``warmup_start_factor * learning_rate`` to ``learning_rate`` over ``warmup_epochs``, then
    cosine). ``jit_compile="auto"`` picks the fast path per backend and device (TF graph
    without XLA on CPU, XLA on GPU/TPU, always jit on JAX). ``mixed_precision="auto"`` uses
    bfloat16 on GPU/TPU and float32 on CPU. ``physics_phase2_epoch``: models with physics
    losses (D4LensPINN) train with cross-entropy only before this epoch (0-based), then add
    them (``lensml.models.physics_loss.PhysicsLossSchedule``). ``run_eagerly``: no graph or
    jit at all (debugging; also the fastest for tiny smoke runs). ``distribute``: ``"none"`` or
    ``"data_parallel"`` (also ``"mirrored"``, ``"multi_worker"``, ``"tpu"``): split each batch
    of ``data.batch_size`` (the global batch) over the devices, see
    ``lensml.training.distribute``. ``recipe = true``: every training key (and
    ``data.batch_size``) that the file does not set comes from the model's recipe
    (``lensml.training.recipe(model.name)``) instead of the defaults below.
    """

    recipe: bool = False
    epochs: int = 50
    optimizer: str = "adamw"
    learning_rate: float = 1e-4
    weight_decay: float = 1e-4
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    warmup_start_factor: float = 0.0
    min_learning_rate: float = 0.0
    clipnorm: float | None = None
    loss: str = "sparse_categorical_crossentropy"
    from_logits: bool = False
    label_smoothing: float = 0.0
    metrics: list[str] = field(default_factory=lambda: ["accuracy"])
    monitor: str = "val_loss"
    early_stopping_patience: int | None = None
    physics_phase2_epoch: int | None = None
    mixed_precision: str = "auto"
    jit_compile: Any = "auto"
    run_eagerly: bool = False
    tensorboard: bool = False
    verbose: Any = "auto"
    distribute: str = "none"


@dataclass
class OutputConfig:
    """Where a run writes (``dir``; ``{name}`` and ``{seed}`` are filled in).

    A run folder belongs to one run (``lensml.training.run_folder``): an interrupted run
    there is resumed only with the config it started with, a finished one is kept.
    ``overwrite``: empty the folder and start afresh. ``resume_with_changes``: resume although
    keys of ``run_folder.SAFE_TO_CHANGE`` (presentation, data location) changed.
    """

    dir: str = "runs/{name}"
    save_model: bool = True
    overwrite: bool = False
    resume_with_changes: bool = False


@dataclass
class TuneConfig:
    """An Optuna study over this experiment (see ``lensml.tuning``).

    ``params`` maps dotted config paths to search-space specs, e.g.
    ``{"training.learning_rate": {"type": "float", "low": 1e-5, "high": 1e-2, "log": true}}``.
    ``objectives`` are metric names on the validation split (``"val_accuracy"``,
    ``"val_macro_auc"``, ``"val_loss"``) or ``"num_params"``; ``directions`` default to
    minimise for losses, errors and parameter counts and maximise otherwise. ``reduce``:
    the objective is the ``"best"`` or the ``"last"`` epoch's value.
    """

    objectives: list[str] = field(default_factory=lambda: ["val_accuracy"])
    directions: list[str] | None = None
    reduce: str = "best"
    n_trials: int = 20
    timeout: float | None = None
    study_name: str | None = None
    storage: str | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    startup_trials: int = 5
    warmup_epochs: int = 0
    seed: int = 0
    seed_policy: str = "fixed"
    heartbeat_interval: int = 60
    grace_period: int | None = None
    max_retry: int = 2
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ExperimentConfig:
    """A whole experiment: one training run per seed in ``seeds``; with ``label_fractions``
    (e.g. ``[0.01, 0.1, 1.0]``) one per fraction and seed, plus the label-efficiency curve."""

    name: str = "experiment"
    description: str = ""
    seeds: list[int] = field(default_factory=lambda: [0])
    label_fractions: list[float] | None = None
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    tune: TuneConfig | None = None


# Sections whose contents are free-form (passed on to another API, or keyed by user names).
_FREE_FORM = {("model", "options"), ("tune", "params")}


def _fields(cls) -> dict[str, Any]:
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _is_dataclass_type(tp) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _unwrap_optional(tp):
    args = get_args(tp)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], True
        return tp, True
    return tp, False


def _check_value(path: str, value: Any, tp) -> Any:
    """Check (and lightly coerce: int -> float) ``value`` against the annotation ``tp``."""
    inner, optional = _unwrap_optional(tp)
    if value is None:
        if optional or tp is Any:
            return None
        raise ValueError(f"config key {path!r}: None is not allowed (expected {tp})")
    if inner is Any:
        return value
    origin = get_origin(inner)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"config key {path!r}: expected a list, got {value!r}")
        (item_tp,) = get_args(inner) or (Any,)
        return [_check_value(f"{path}[{i}]", v, item_tp) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise TypeError(f"config key {path!r}: expected a table, got {value!r}")
        return dict(value)
    if get_args(inner):  # a union of several types, e.g. str | bool
        return value
    if inner is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"config key {path!r}: expected a number, got {value!r}")
        if not math.isfinite(value):  # nan / inf would train to NaN weights and pass as a result
            raise ValueError(f"config key {path!r}: got {value!r}, expected a finite number")
        return float(value)
    if inner is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise TypeError(f"config key {path!r}: expected an integer, got {value!r}")
        return value
    if inner is bool:
        if not isinstance(value, bool):
            raise TypeError(f"config key {path!r}: expected true or false, got {value!r}")
        return value
    if inner is str:
        if not isinstance(value, str):
            raise TypeError(f"config key {path!r}: expected a string, got {value!r}")
        return value
    return value


def _build(cls, raw: Mapping[str, Any], prefix: str):
    if not isinstance(raw, Mapping):
        raise TypeError(f"config section {prefix or '<top>'!r}: expected a table, got {raw!r}")
    fields = _fields(cls)
    kwargs = {}
    for key, value in raw.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in fields:
            raise ValueError(
                f"unknown config key {path!r}; allowed keys in "
                f"{'[' + prefix + ']' if prefix else 'the top level'}: {', '.join(sorted(fields))}"
            )
        tp = fields[key]
        inner, _ = _unwrap_optional(tp)
        if _is_dataclass_type(inner) and value is not None:
            kwargs[key] = _build(inner, value, path)
        else:
            kwargs[key] = _check_value(path, value, tp)
    return cls(**kwargs)


def _validate(config: ExperimentConfig) -> None:
    t, d = config.training, config.data
    check_name(config.name, "config key 'name'")
    if config.tune is not None and config.tune.study_name is not None:
        check_name(config.tune.study_name, "config key 'tune.study_name'")
    if not config.seeds:
        raise ValueError("config key 'seeds': expected at least one seed, got []")
    for f in config.label_fractions or []:
        if not 0.0 < f <= 1.0:
            raise ValueError(f"config key 'label_fractions': got {f}, expected fractions in (0, 1]")
    if t.schedule not in SCHEDULES:
        raise ValueError(f"config key 'training.schedule': got {t.schedule!r}, expected one of {SCHEDULES}")
    if t.optimizer.lower() not in OPTIMIZERS:
        raise ValueError(f"config key 'training.optimizer': got {t.optimizer!r}, expected one of {OPTIMIZERS}")
    mp = t.mixed_precision
    if mp not in MIXED_PRECISION:
        raise ValueError(f"config key 'training.mixed_precision': got {mp!r}, expected one of {MIXED_PRECISION}")
    if t.jit_compile not in JIT_COMPILE or isinstance(t.jit_compile, (int, float)) and not isinstance(t.jit_compile, bool):
        raise ValueError(f"config key 'training.jit_compile': got {t.jit_compile!r}, expected 'auto', true or false")
    if t.verbose not in ("auto", 0, 1, 2) or isinstance(t.verbose, float):
        raise ValueError(f"config key 'training.verbose': got {t.verbose!r}, expected 'auto', 0, 1 or 2")
    if t.distribute not in DISTRIBUTE:
        raise ValueError(f"config key 'training.distribute': got {t.distribute!r}, expected one of {DISTRIBUTE}")
    if t.epochs < 1:
        raise ValueError(f"config key 'training.epochs': got {t.epochs}, expected >= 1")
    if t.learning_rate <= 0:
        raise ValueError(f"config key 'training.learning_rate': got {t.learning_rate}, expected > 0")
    if t.weight_decay < 0:
        raise ValueError(f"config key 'training.weight_decay': got {t.weight_decay}, expected >= 0")
    for key, value, ok, expected in (
        ("training.clipnorm", t.clipnorm, t.clipnorm is None or t.clipnorm > 0, "> 0 (or left out)"),
        ("training.warmup_epochs", t.warmup_epochs, t.warmup_epochs >= 0, ">= 0"),
        ("training.warmup_start_factor", t.warmup_start_factor, 0 <= t.warmup_start_factor <= 1, "in [0, 1]"),
        ("training.min_learning_rate", t.min_learning_rate, t.min_learning_rate >= 0, ">= 0"),
        ("training.label_smoothing", t.label_smoothing, 0 <= t.label_smoothing < 1, "in [0, 1)"),
        ("training.early_stopping_patience", t.early_stopping_patience,
         t.early_stopping_patience is None or t.early_stopping_patience >= 1, ">= 1 (or left out)"),
        ("training.physics_phase2_epoch", t.physics_phase2_epoch,
         t.physics_phase2_epoch is None or t.physics_phase2_epoch >= 0, ">= 0 (or left out)"),
        ("data.seed", d.seed, d.seed >= 0, ">= 0"),
    ):
        if not ok:
            raise ValueError(f"config key {key!r}: got {value}, expected {expected}")
    for i, s in enumerate(config.seeds):
        if s < 0:
            raise ValueError(f"config key 'seeds[{i}]': got {s}, expected a seed >= 0")
    _validate_output_dir(config.output.dir)
    if d.batch_size < 1:
        raise ValueError(f"config key 'data.batch_size': got {d.batch_size}, expected >= 1")
    if d.test_tta not in (None, "d4"):
        raise ValueError(f"config key 'data.test_tta': got {d.test_tta!r}, expected 'd4' or no value")
    if not 0.0 < d.label_fraction <= 1.0:
        raise ValueError(f"config key 'data.label_fraction': got {d.label_fraction}, expected in (0, 1]")
    if d.normalization not in ("", None, "minmax"):  # the common case validates without TensorFlow
        from lensml.data.normalization import NORMALIZATIONS

        if d.normalization not in NORMALIZATIONS:
            raise ValueError(f"config key 'data.normalization': got {d.normalization!r}, expected one of "
                             f"{NORMALIZATIONS}")
    for key in ("steps_per_epoch", "validation_steps"):
        v = getattr(d, key)
        if v is not None and v < 1:
            raise ValueError(f"config key 'data.{key}': got {v}, expected >= 1")
    _validate_source(config)
    if config.model.trainable not in TRAINABLE:
        raise ValueError(f"config key 'model.trainable': got {config.model.trainable!r}, expected one of {TRAINABLE}")
    if config.model.trainable != "all" and not config.model.init_from:
        raise ValueError("config key 'model.trainable': 'head' freezes the features, so it needs model.init_from")
    if config.model.input_shape is not None and len(config.model.input_shape) != 3:
        raise ValueError(
            f"config key 'model.input_shape': got {config.model.input_shape}, expected [height, width, channels]"
        )
    if config.tune is not None:
        tn = config.tune
        if tn.reduce not in ("best", "last"):
            raise ValueError(f"config key 'tune.reduce': got {tn.reduce!r}, expected 'best' or 'last'")
        if tn.seed_policy not in ("fixed", "per_trial"):
            raise ValueError(f"config key 'tune.seed_policy': got {tn.seed_policy!r}, expected 'fixed' or 'per_trial'")
        if not tn.objectives:
            raise ValueError("config key 'tune.objectives': expected at least one metric name, got []")
        if tn.directions is not None and len(tn.directions) != len(tn.objectives):
            raise ValueError(
                f"config key 'tune.directions': got {tn.directions}, expected one direction per objective {tn.objectives}"
            )


def check_name(value: str, key: str) -> str:
    """A run or study name: one path component (it names a folder under its root), so
    ``../x`` or ``a/b`` cannot write outside that root."""
    if not isinstance(value, str) or not value or value in (".", "..") or any(c in value for c in "/\\\0"):
        raise ValueError(f"{key}: got {value!r}, expected a name without '/', '\\' or '..' "
                         "(it names a folder inside the output folder)")
    return value


def _validate_output_dir(template: str) -> None:
    """``output.dir`` may hold ``{name}`` and ``{seed}`` only (a typo such as ``{nme}`` would be a
    KeyError deep inside a run)."""
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise ValueError(f"config key 'output.dir': {template!r} is not a valid path template ({e})") from None
    bad = [f for f in fields if f not in ("name", "seed")]
    if bad:
        raise ValueError(f"config key 'output.dir': {template!r} has the placeholder(s) "
                         f"{', '.join('{' + f + '}' for f in bad)}; expected only {{name}} and {{seed}}")


DATA_SOURCES = ("stored", "stream")


def _validate_source(config: ExperimentConfig) -> None:
    d = config.data
    if d.source not in DATA_SOURCES:
        raise ValueError(f"config key 'data.source': got {d.source!r}, expected one of {DATA_SOURCES}")
    if d.source != "stream":
        return
    if d.dataset.startswith("synthetic:"):
        raise ValueError("config key 'data.source': 'stream' simulates lenses of a deeplense family; "
                         f"data.dataset={d.dataset!r} has no family (use a 'deeplense/<config>' name)")
    if d.steps_per_epoch is None:
        raise ValueError("config key 'data.steps_per_epoch': data.source = 'stream' is endless, "
                         "so set the number of batches per epoch")
    if d.label_fraction < 1.0 or config.label_fractions:
        raise ValueError("config key 'data.source': a stream draws unlimited fresh labelled lenses, so a "
                         "label limit (data.label_fraction, label_fractions) does not apply to it; "
                         "use data.source = 'stored' for label-efficiency protocols")
    if d.augment:
        raise ValueError(f"config key 'data.augment': got {d.augment!r}; data.source = 'stream' draws new "
                         "lenses every step and takes no augmentation (set augment to none)")
    from lensml.simulation.targets import target_names

    if d.target not in target_names(stream=True):
        raise ValueError(f"config key 'data.target': got {d.target!r}, which data.source = 'stream' "
                         f"cannot make; expected one of {list(target_names(stream=True))}")


def with_recipe(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with the model's recipe filled in where ``training.recipe`` is true: each
    recipe key the config does not set (lensml.training.recipes; imports Keras)."""
    raw = copy.deepcopy(dict(raw))
    if not (raw.get("training") or {}).get("recipe"):
        return raw
    from lensml.training.recipes import recipe

    name = (raw.get("model") or {}).get("name", ModelConfig.name)
    for dotted, value in recipe(name).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node.setdefault(leaf, value)
    return raw


def config_from_dict(raw: Mapping[str, Any]) -> ExperimentConfig:
    """Build and validate an :class:`ExperimentConfig` from a (TOML-shaped) dict
    (``training.recipe = true`` fills in the model's recipe first, see ``with_recipe``)."""
    config = _build(ExperimentConfig, with_recipe(raw), "")
    _validate(config)
    return config


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> ExperimentConfig:
    """Read an experiment config from a TOML file.

    Args:
        path: the ``.toml`` file.
        overrides: optional ``{"dotted.key": value}`` applied before validation
            (what ``lensml train --set key=value`` passes).

    Raises:
        FileNotFoundError: no such file. ValueError: invalid TOML, unknown keys or bad values.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"config file {str(path)!r} is not UTF-8 text (byte {e.start}: {e.reason}); "
                         "save it as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"config file {str(path)!r} is not valid TOML: {e}") from e
    raw.setdefault("name", path.stem)
    if overrides:
        raw = set_paths(raw, overrides)
    return config_from_dict(raw)


def config_to_dict(config: ExperimentConfig) -> dict[str, Any]:
    """The config as a plain dict (``None`` values dropped, as TOML has no null)."""

    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return strip(dataclasses.asdict(config))


def save_config(config: ExperimentConfig, path):
    """Write ``config`` as a TOML file that :func:`load_config` reads back."""
    from lensml.training.toml_writer import dump

    return dump(config_to_dict(config), path)


def _allowed_path(path: list[str]) -> None:
    """Raise ValueError when ``path`` is not a key of the schema."""
    cls = ExperimentConfig
    for i, part in enumerate(path):
        if tuple(path[:i]) in _FREE_FORM:
            return
        fields = _fields(cls)
        if part not in fields:
            where = ".".join(path[:i]) or "the top level"
            raise ValueError(
                f"unknown config key {'.'.join(path)!r}; allowed keys in {where}: {', '.join(sorted(fields))}"
            )
        inner, _ = _unwrap_optional(fields[part])
        if _is_dataclass_type(inner):
            cls = inner
        elif i < len(path) - 1 and tuple(path[: i + 1]) not in _FREE_FORM:
            raise ValueError(f"config key {'.'.join(path)!r}: {'.'.join(path[: i + 1])!r} is not a table")


def check_path(dotted: str) -> None:
    """Raise ``ValueError`` if ``dotted`` (e.g. ``"training.learning_rate"``) is not a config key."""
    if not isinstance(dotted, str) or not dotted:
        raise ValueError(f"config key: expected a dotted name like 'training.epochs', got {dotted!r}")
    _allowed_path(dotted.split("."))


def set_paths(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return a deep copy of ``raw`` with ``{"a.b.c": value}`` overrides applied."""
    out = copy.deepcopy(dict(raw))
    for dotted, value in overrides.items():
        check_path(dotted)
        parts = dotted.split(".")
        node = out
        for p in parts[:-1]:
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            node = nxt
        node[parts[-1]] = value
    return out


def apply_overrides(config: ExperimentConfig, overrides: Mapping[str, Any]) -> ExperimentConfig:
    """A new validated config with dotted-path ``overrides`` applied."""
    return config_from_dict(set_paths(config_to_dict(config), overrides))


def parse_set_option(text: str) -> tuple[str, Any]:
    """Parse one ``--set key=value``; the value is read as TOML (``3``, ``1e-4``,
    ``true``, ``[1, 2]``, ``"x"``), and falls back to a bare string."""
    if "=" not in text:
        raise ValueError(f"--set: expected key=value, got {text!r}")
    key, value = text.split("=", 1)
    key, value = key.strip(), value.strip()
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return key, parsed
