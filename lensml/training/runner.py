"""``run(config)``: the one training entry point used by the CLI, the train/ scripts and tuning.

For each seed, one phase after the other: the data (``lensml.data.pipeline``, the stream, or
synthetic arrays; a training source may hand ``fit`` its own ``fit_callbacks()`` and
``fit_steps_per_epoch``), the model (``lensml.models.build``, warm start), compile (AdamW + a
learning-rate schedule), the run folder (claimed, its config written), the callbacks, fit, and
the results; the run folder holds::

    config.toml          the resolved config of this run (re-runnable as is)
    checkpoints/best.keras   best epoch by ``training.monitor`` (atomic writes)
    backup/              BackupAndRestore state; resumes a killed run; removed when done
    history.csv          one row per epoch, each epoch exactly once across resumes
    history.json         the same, as {metric: [values]}
    model.keras          the final model
    preset/              the best checkpoint as a keras-hub style preset with a model card
    metrics.json         final and best validation metrics (+ test, + evaluation report)
    evaluation/          the test report of the best checkpoint (``test_metrics``)

``test_metrics(model, test_data, data_config, out_dir, model_name=...)`` is the one test
evaluation of every protocol built on runs (fine-tuning, linear probes, label efficiency,
cross-instrument transfer, zero-shot included): ``lensml.evaluation.evaluate_model`` under the
task of ``data.target``, flattened to ``test_<metric>`` numbers.

Every file is written through a temporary file and a rename, so a killed run leaves the
previous complete version or nothing.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import lensml.training.distribute as _distribute
from lensml.training.config import ExperimentConfig, DataConfig, config_to_dict
from lensml._io import json_safe, read_history_csv, write_json_atomic
from lensml.training.toml_writer import dump as dump_toml

DataFactory = Callable[..., Any]
ModelFactory = Callable[..., Any]

# Metrics whose smaller value is better (used to pick "best" epochs and tuning directions).
_MINIMIZE_WORDS = ("loss", "error", "mae", "mse", "rmse", "num_params", "ece", "time")


def metric_mode(name: str) -> str:
    """``"min"`` for losses, errors and parameter counts, ``"max"`` otherwise."""
    return "min" if any(w in name.lower() for w in _MINIMIZE_WORDS) else "max"


# --------------------------------------------------------------------------- device choice


def resolve_jit_compile(setting: Any = "auto", model: str | None = None) -> bool:
    """The ``jit_compile`` value for ``model.compile``: ``"auto"`` is
    ``lensml.models.default_jit_compile(model)`` (JAX: always; TensorFlow: XLA on GPU/TPU, and
    on a CPU only for the registry models measured faster with it, because XLA's CPU
    convolutions are several times slower than TF's oneDNN graph path).
    """
    if setting != "auto":
        return bool(setting)
    from lensml.models.compile import default_jit_compile

    return default_jit_compile(model)


def resolve_mixed_precision(setting: str = "auto") -> str | None:
    """Keras dtype policy name for ``training.mixed_precision`` (None = float32)."""
    if setting == "off":
        return None
    if setting == "auto":
        from lensml.models.compile import accelerator_available

        return "mixed_bfloat16" if accelerator_available() else None
    return {"bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}[setting]


# --------------------------------------------------------------------------- data and model


def default_data_factory(data: DataConfig, split: str, *, training: bool, seed: int, num_classes: int = 3):
    """Dataset for one split: ``lensml.data.pipeline`` for TFDS names, or the built-in
    ``synthetic:<n>:<size>`` arrays. Returns something ``model.fit`` takes."""
    if data.dataset.startswith("synthetic:"):
        from lensml.data.synthetic import make_array_dataset, synthetic_arrays

        images, labels = synthetic_arrays(data.dataset, split, num_classes=num_classes)
        if training and data.label_fraction < 1.0:
            from lensml.data.subset import stratified_subset

            keep = stratified_subset(labels, data.label_fraction)  # the pipeline's rule, on arrays
            images, labels = images[keep], labels[keep]
        return make_array_dataset(images, labels, data.batch_size, shuffle=training and data.shuffle, seed=seed)

    if data.source == "stream" and training:
        return training_stream(data, seed)

    from lensml.data import pipeline

    fraction = data.label_fraction if training and data.label_fraction < 1.0 else None
    # The stored training split is an endless sequence of data epochs, each shuffled and
    # augmented from (seed, epoch) alone, starting where the run's epoch counter says
    # (``DataEpoch``): a run resumed after a kill sees the batches an uninterrupted run saw.
    # With data.steps_per_epoch a training epoch is that many batches whatever the split's (or
    # the label subset's) size, e.g. 1 % of the labels.
    epoch = None
    if training:
        import tensorflow as tf

        epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="data_epoch")
    return pipeline(data.dataset, split, batch_size=data.batch_size, normalization=data.normalization,
                    augment=data.augment if training else None, target=data.target,
                    shuffle=training and data.shuffle, seed=seed, data_dir=data.data_dir,
                    fraction=fraction, epoch=epoch, steps_per_epoch=data.steps_per_epoch,
                    # JAX's multi-process jobs split each batch evenly over the processes
                    # (keras.distribution): only full batches (see lensml.training.distribute)
                    drop_remainder=_distribute.jax_process_count() > 1)


def training_stream(data: DataConfig, seed: int):
    """The ``data.source = "stream"`` training data: a ``SimulatedStream`` of the family of
    ``data.dataset``, ``data.steps_per_epoch`` batches of fresh lenses per epoch, the
    family's own image recipe (the stored splits' noise), seeded by ``seed``."""
    from lensml.data import simulated_stream
    from lensml.data.pipeline import dataset_family

    # (a class-specific target, e.g. the axion mass, draws the classes that carry it)
    return simulated_stream(dataset_family(data.dataset), batch_size=data.batch_size, seed=seed,
                            steps_per_epoch=data.steps_per_epoch, normalization=data.normalization,
                            noise=True, target=data.target)


def training_pixel_scale(data: DataConfig) -> float | None:
    """Arcsec per pixel of ``data.dataset``'s images (its family's instrument; None for
    synthetic data): recorded in the model's input contract."""
    if data.dataset.startswith("synthetic:"):
        return None
    from lensml.data.pipeline import builder_name, dataset_family
    from lensml.datasets.deeplense import Deeplense
    from lensml.simulation import get_family

    try:
        config = Deeplense.get_builder_config(builder_name(data.dataset).rpartition("/")[2])
        instrument = get_family(dataset_family(data.dataset)).instrument
    except ValueError:  # a dataset of a custom data factory: no family to read it from
        return None
    # super-resolution configs feed the low-resolution images, sr_factor times coarser
    return instrument.pixel_scale * (config.sr_factor if config.sr_factor and data.target == "hr" else 1)


def registry_model_factory(name: str, **kwargs):
    """``lensml.models.build``."""
    try:
        from lensml.models import build
    except ImportError as e:
        raise RuntimeError(f"lensml.models.build is not available ({e})") from e
    return build(name, **kwargs)


default_model_factory = registry_model_factory


def check_config(config: ExperimentConfig, model_factory: ModelFactory | None = None) -> None:
    """``lensml.training.checks.check_names`` when the model comes from the registry (the
    default factory): an unknown model, option, loss, metric or target fails here, before any
    data is built."""
    if (model_factory or default_model_factory) is registry_model_factory:
        from lensml.training.checks import check_names

        check_names(config)


def _num_batches(ds) -> int | None:
    """Batches per epoch of a tf.data.Dataset / PyDataset, None if unknown or infinite."""
    if getattr(ds, "fit_steps_per_epoch", None):  # lensml.data.pipeline(epoch=...): endless, epoch-indexed
        return int(ds.fit_steps_per_epoch)
    if hasattr(ds, "cardinality"):
        n = int(ds.cardinality())
        if n == -2:  # unknown but finite (filtered, e.g. a stratified subset): count once
            return sum(1 for _ in ds)
        return n if n >= 0 else None
    try:
        return len(ds)
    except TypeError:
        return None


def training_steps(config: ExperimentConfig, seed: int = 0, data_factory: DataFactory | None = None) -> int:
    """Optimiser steps of one run of ``config``: ``training.epochs`` x batches per epoch
    (``data.steps_per_epoch``, else the training split's length at ``data.batch_size`` and
    ``data.label_fraction``). What an EMA schedule (BYOL, DINO, JEPA ``total_steps``) spans."""
    d = config.data
    steps = d.steps_per_epoch
    if steps is None:
        data_factory = data_factory or default_data_factory
        steps = _num_batches(data_factory(d, d.train_split, training=True, seed=d.seed + seed,
                                          num_classes=config.model.num_classes))
    if not steps:
        raise ValueError(f"data.steps_per_epoch: the training split {d.train_split!r} of {d.dataset!r} "
                         "has unknown or infinite length; set data.steps_per_epoch")
    return int(steps) * config.training.epochs


def _input_shape(ds) -> tuple[int, ...]:
    if hasattr(ds, "element_spec"):
        spec = ds.element_spec[0]
        return tuple(int(d) for d in spec.shape[1:])
    x = ds[0][0]
    return tuple(int(d) for d in x.shape[1:])


# --------------------------------------------------------------------------- compile pieces


def build_schedule(training, steps_per_epoch: int):
    """Learning rate (float or Keras schedule) for ``training.schedule``."""
    import keras

    t = training
    if t.schedule == "constant":
        return t.learning_rate
    total = max(1, t.epochs * steps_per_epoch)
    alpha = min(max(t.min_learning_rate / t.learning_rate, 0.0), 1.0)
    if t.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(t.learning_rate, decay_steps=total, alpha=alpha)
    warmup = int(round(t.warmup_epochs * steps_per_epoch))
    warmup = min(warmup, total - 1) if total > 1 else 0
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=t.learning_rate * t.warmup_start_factor,
        decay_steps=max(1, total - warmup),
        alpha=alpha,
        warmup_target=t.learning_rate,
        warmup_steps=warmup,
    )


def build_optimizer(training, steps_per_epoch: int):
    import keras

    lr = build_schedule(training, steps_per_epoch)
    kw = {"clipnorm": training.clipnorm} if training.clipnorm else {}
    name = training.optimizer.lower()
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=lr, weight_decay=training.weight_decay, **kw)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr, **kw)
    return keras.optimizers.SGD(learning_rate=lr, momentum=0.9, weight_decay=training.weight_decay or None, **kw)


def build_loss(training):
    import keras

    if training.loss == "sparse_categorical_crossentropy":
        if training.label_smoothing:
            raise ValueError(
                "training.label_smoothing: not supported with sparse labels; "
                f"got {training.label_smoothing}, expected 0"
            )
        return keras.losses.SparseCategoricalCrossentropy(from_logits=training.from_logits)
    return training.loss


def build_metrics(training, num_classes: int) -> list:
    from lensml.training.metrics import SparseMacroAUC

    out = []
    for m in training.metrics:
        if m == "macro_auc":
            out.append(SparseMacroAUC(num_classes=num_classes, from_logits=training.from_logits))
        else:
            out.append(m)
    return out


def logged_metric_names(training) -> list[str]:
    """Names that appear in ``fit``'s logs: loss, metrics, and their ``val_`` versions."""
    base = ["loss"] + list(training.metrics)
    return base + [f"val_{m}" for m in base]


# --------------------------------------------------------------------------- run


def _seed_dir(config: ExperimentConfig, seed: int) -> Path:
    d = config.output.dir.format(name=config.name, seed=seed)
    path = Path(d)
    if len(config.seeds) > 1 and "{seed}" not in config.output.dir:
        path = path / f"seed_{seed}"
    return path


def _write_json(path: Path, data) -> None:
    write_json_atomic(path, json_safe(data))


def _say(verbose: int, msg: str) -> None:
    if verbose:
        print(f"[lensml] {msg}", flush=True)


def run_seed(
    config: ExperimentConfig,
    seed: int,
    *,
    data_factory: DataFactory | None = None,
    model_factory: ModelFactory | None = None,
    callbacks: Iterable[Any] = (),
    evaluate_test: bool = True,
    out_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Train one seed of ``config``. Returns ``{"history", "metrics", "num_params", "paths", ...}``.

    ``data_factory(data_config, split, training=bool, seed=int, num_classes=int)`` and
    ``model_factory(name, input_shape=..., num_classes=..., **options)`` replace
    ``lensml.data.pipeline`` / ``lensml.models.build`` (tests, custom data).
    ``callbacks`` are added after the standard ones (e.g. an Optuna pruning callback).
    """
    with contextlib.ExitStack() as job:  # what outlives the run's distribution scope (a worker's scratch)
        return _run_seed(config, seed, job, data_factory=data_factory, model_factory=model_factory,
                         callbacks=callbacks, evaluate_test=evaluate_test, out_dir=out_dir)


def _run_paths(out: Path) -> dict[str, Path]:
    """The files of a run folder (the module docstring lists them)."""
    return {
        "dir": out,
        "config": out / "config.toml",
        "checkpoint": out / "checkpoints" / "best.keras",
        "backup": out / "backup",
        "history_csv": out / "history.csv",
        "history_json": out / "history.json",
        "model": out / "model.keras",
        "metrics": out / "metrics.json",
    }


def _data_phase(config, seed, data_factory, evaluate_test):
    """(train, validation, test, steps per epoch): every split is made now, so a misspelled
    split or an empty one fails before anything is trained or written."""
    d, num_classes = config.data, config.model.num_classes
    train_ds = data_factory(d, d.train_split, training=True, seed=d.seed + seed, num_classes=num_classes)
    val_ds = data_factory(d, d.val_split, training=False, seed=d.seed, num_classes=num_classes) if d.val_split else None
    test_ds = (data_factory(d, d.test_split, training=False, seed=d.seed, num_classes=num_classes)
               if evaluate_test and d.test_split else None)
    steps = d.steps_per_epoch or _num_batches(train_ds)
    if steps is None:
        raise ValueError(
            f"data.steps_per_epoch: the training split {d.train_split!r} of {d.dataset!r} has unknown or "
            "infinite length; set data.steps_per_epoch"
        )
    if steps == 0:
        raise ValueError(f"data.train_split: the split {d.train_split!r} of {d.dataset!r} is empty")
    return train_ds, val_ds, test_ds, steps


def _this_process_part(train_ds, engine):
    """The training data one process of a multi-process job draws: a source that can draw its
    own part of every global batch (``part``, the stream) draws only that; others are sharded by
    the distribution."""
    import keras

    if not (_distribute.is_multi_process(engine) and hasattr(train_ds, "part")):
        return train_ds
    # The part itself on JAX (keras.distribution joins the processes' parts), a global-size
    # batch with the others' slots zero on TensorFlow (the multi-worker strategy keeps each
    # worker's part of the global batch). Together: the one-process run's batches.
    index, count = _distribute.process_part()
    if hasattr(engine, "auto_shard_dataset"):
        # JAX: the parts are this process's data already. This run's own DataParallel (made per
        # scope), so the validation split, not sharded either, is evaluated by every process:
        # each validation batch counts twice, means unchanged.
        engine.auto_shard_dataset = False
    return train_ds.part(index, count, global_batches=keras.backend.backend() == "tensorflow")


def _model_phase(config, seed, model_factory, input_shape, verbose):
    """The model of ``config.model``, seeded by ``seed``, warm-started from ``model.init_from``."""
    import keras

    # Seeded again: building the data may have drawn random numbers (a dataset simulated on
    # first use), and the initial weights must not depend on whether it was.
    keras.utils.set_random_seed(seed)
    d = config.data
    contract = ({"normalization": d.normalization, "input_pixel_scale": training_pixel_scale(d)}
                if model_factory is registry_model_factory else {})
    model = model_factory(  # a registry model carries the data's normalisation (its input contract)
        config.model.name, input_shape=input_shape, num_classes=config.model.num_classes, **contract,
        **config.model.options
    )
    if config.model.init_from:
        from lensml.training.warm_start import warm_start

        init = config.model.init_from.format(seed=seed)
        moved = warm_start(model, init, trainable=config.model.trainable)
        _say(verbose, f"warm start from {init}: {len(moved['copied'])} layers copied, "
                      f"{len(moved['kept'])} kept at initialisation ({', '.join(moved['kept']) or 'none'}); "
                      f"trainable={config.model.trainable}")
    return model


def _compile_phase(model, training, steps: int, num_classes: int, jit: bool) -> None:
    """AdamW (or the config's optimiser) with its schedule, the loss and the metrics."""
    model.compile(
        optimizer=build_optimizer(training, steps),
        loss=build_loss(training),
        metrics=build_metrics(training, num_classes),
        jit_compile=jit and not training.run_eagerly,
        run_eagerly=training.run_eagerly,
    )


def _claim_phase(config, seed, paths, engine, scope, job) -> dict:
    """Claim the run folder and write its config: only now, so a run whose data, model or
    options are wrong fails before and leaves nothing on disk. One owner; an interrupted run
    there resumes only with its own config, a finished one is never overwritten silently
    (lensml.training.run_folder). A multi-process job's run folder is the chief's; the other
    workers write to a scratch folder of their own (``_worker_scratch``). The claim is released
    when ``scope`` (the distribution's) closes, a worker's scratch when ``job`` does. Returns the
    paths this process writes to."""
    run_config = config_to_dict(config)
    run_config["seeds"] = [seed]
    run_config.pop("tune", None)
    for key in ("overwrite", "resume_with_changes"):  # how this run was invoked, not what it is
        run_config.get("output", {}).pop(key, None)
    out = paths["dir"]
    chief = not _distribute.is_multi_process(engine) or _distribute.is_chief()
    if chief:
        from lensml.training.run_folder import claim as claim_run_folder

        scope.enter_context(claim_run_folder(
            out, run_config, overwrite=config.output.overwrite,
            resume_with_changes=config.output.resume_with_changes))
    if _distribute.is_multi_process(engine):
        _distribute.barrier(engine)  # the chief has claimed (and perhaps cleared) the folder
    if not chief:
        paths = _worker_scratch(out, paths, job)
    paths["dir"].mkdir(parents=True, exist_ok=True)
    dump_toml(run_config, paths["config"])
    return paths


def _callbacks_phase(config, seed, train_ds, val_ds, paths, verbose, extra):
    """(callbacks, the non-finite stop): checkpoint, history, backup, the physics schedule,
    early stopping, TensorBoard, the training data's own (``fit_callbacks``: its epoch follows
    fit's, also after a resume), the first-step notice, then ``extra``."""
    import keras

    from lensml.training.callbacks import (
        AtomicModelCheckpoint,
        BackupAndRestore,
        FirstStepNotice,
        HistoryCSV,
        StopOnNonFinite,
    )

    t = config.training
    # Order of an epoch's writes: best checkpoint, history row, backup. A run killed (or out
    # of disk) at any of them resumes at that epoch (its backup is the previous epoch's) and
    # redoes it; the best value it resumes with comes from history rows only, each written
    # after its epoch's checkpoint, so the kept checkpoint is the uninterrupted run's.
    non_finite = StopOnNonFinite()
    cbs = [
        non_finite,  # first: a NaN batch stops the epoch before anything of it is saved
        AtomicModelCheckpoint(
            str(paths["checkpoint"]),
            monitor=t.monitor if val_ds is not None or not t.monitor.startswith("val_") else t.monitor[4:],
            history=paths["history_csv"],
        ),
        HistoryCSV(paths["history_csv"]),
        BackupAndRestore(str(paths["backup"]), double_checkpoint=True),
    ]
    if t.physics_phase2_epoch is not None:
        cbs.append(_physics_schedule(t.physics_phase2_epoch))
    if t.early_stopping_patience:
        cbs.append(keras.callbacks.EarlyStopping(monitor=t.monitor, patience=t.early_stopping_patience))
    if t.tensorboard:
        paths["tensorboard"] = paths["dir"] / "logs"
        cbs.append(keras.callbacks.TensorBoard(str(paths["tensorboard"])))
    cbs.extend(train_ds.fit_callbacks() if hasattr(train_ds, "fit_callbacks") else ())
    if verbose:
        cbs.append(FirstStepNotice(lambda msg: _say(verbose, f"{config.name} seed={seed}: {msg}")))
    cbs.extend(extra)
    return cbs, non_finite


def _fit_phase(model, config, train_ds, val_ds, cbs, verbose) -> None:
    d = config.data
    with damaged_data_error(d):
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=config.training.epochs,
            # a source that knows its epoch length says it (a stream: None, it is that long
            # already and fit starts each epoch's batches afresh); others: the config's
            steps_per_epoch=getattr(train_ds, "fit_steps_per_epoch", d.steps_per_epoch),
            validation_steps=d.validation_steps if val_ds is not None else None,
            callbacks=cbs,
            verbose=verbose,
            shuffle=False,  # the datasets shuffle themselves (seeded)
        )


def _history_metrics(paths, monitor: str) -> tuple[dict, dict, bool]:
    """(history, last and best-epoch metrics, whether a NaN stopped it) from history.csv,
    also written as history.json."""
    history = read_history_csv(paths["history_csv"])
    _write_json(paths["history_json"], history)
    metrics: dict[str, Any] = {k: v[-1] for k, v in history.items() if v}
    nan_stop = any(any(isinstance(x, float) and math.isnan(x) for x in v) for v in history.values())
    if history.get(monitor):
        pick = min if metric_mode(monitor) == "min" else max
        finite = [(x, i) for i, x in enumerate(history[monitor]) if math.isfinite(x)]
        if finite:
            value, epoch = pick(finite)
            metrics[f"best_{monitor}"] = value
            metrics["best_epoch"] = epoch + 1
    return history, metrics, nan_stop


def _run_seed(config, seed, job, *, data_factory, model_factory, callbacks, evaluate_test, out_dir):
    """One seed, phase by phase: data, model, compile, run folder, callbacks, fit, results."""
    import keras

    check_config(config, model_factory)
    data_factory = data_factory or default_data_factory
    model_factory = model_factory or default_model_factory
    t, d = config.training, config.data
    verbose = t.verbose if t.verbose != "auto" else (1 if sys.stdout.isatty() else 2)
    paths = _run_paths(Path(out_dir) if out_dir is not None else _seed_dir(config, seed))
    keras.utils.set_random_seed(seed)
    train_ds, val_ds, test_ds, steps = _data_phase(config, seed, data_factory, evaluate_test)
    input_shape = tuple(config.model.input_shape) if config.model.input_shape else _input_shape(train_ds)
    policy = resolve_mixed_precision(t.mixed_precision)
    jit = resolve_jit_compile(t.jit_compile, config.model.name)
    previous_policy = keras.config.dtype_policy()
    start = time.time()
    distribution = contextlib.ExitStack()  # training.distribute (lensml.training.distribute)
    try:
        if policy:
            keras.config.set_dtype_policy(policy)
        engine = _distribute.enter_distribution(distribution, t.distribute, d.batch_size)
        train_ds = _this_process_part(train_ds, engine)
        model = _model_phase(config, seed, model_factory, input_shape, verbose)
        _distribute.prepare_model(model, engine)
        num_params = int(model.count_params())
        _compile_phase(model, t, steps, config.model.num_classes, jit)
        _say(
            verbose,
            f"{config.name} seed={seed}: model={config.model.name} params={num_params:,} "
            f"input={input_shape} data={d.dataset} steps/epoch={steps} backend={keras.backend.backend()} "
            f"jit_compile={jit} precision={policy or 'float32'} "
            f"devices={_distribute.replicas_of(engine)} -> {paths['dir']}",
        )
        paths = _claim_phase(config, seed, paths, engine, distribution, job)
        cbs, non_finite = _callbacks_phase(config, seed, train_ds, val_ds, paths, verbose, callbacks)
        _fit_phase(model, config, train_ds, val_ds, cbs, verbose)
        train_time = time.time() - start
        check_finite(model, paths, t, non_finite.stopped_at)  # a diverged run stops here: no model.keras, no metrics.json
        if config.output.save_model:
            from lensml.training.callbacks import save_model_atomic

            _distribute.release_model(model)
            save_model_atomic(model, paths["model"])
        else:
            paths.pop("model")
    finally:
        keras.config.set_dtype_policy(previous_policy)
        distribution.close()

    history, metrics, nan_stop = _history_metrics(paths, t.monitor)
    best = _best_model(model, paths) if test_ds is not None or config.output.save_model else None
    if test_ds is not None:
        metrics.update(_evaluate_test(config, best, test_ds, paths))
    if config.output.save_model:
        paths["preset"] = write_run_preset(config, seed, best, paths, metrics, steps, len(history.get("loss", [])))

    result = {
        "name": config.name,
        "seed": seed,
        "model": config.model.name,
        "num_params": num_params,
        "backend": keras.backend.backend(),
        "jit_compile": jit,
        "precision": policy or "float32",
        "epochs_run": len(next(iter(history.values()), [])),
        "terminated_on_nan": nan_stop,
        "train_time_s": train_time,
        "history": history,
        "metrics": metrics,
        "paths": {k: str(v) for k, v in paths.items()},
    }
    _write_json(paths["metrics"], {k: v for k, v in result.items() if k != "history"})
    _say(verbose, f"{config.name} seed={seed}: done in {train_time:.1f} s; " + _fmt(metrics))
    return result


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or infinite: the run is not a result."""


def _worker_scratch(out: Path, paths: dict, job: contextlib.ExitStack) -> dict:
    """The paths of a non-chief worker of a multi-process job: a private folder outside the
    run folder, removed when the run ends, seeded with the chief's resumable state (history,
    best checkpoint, backup). The worker saves everything the chief saves, to that folder,
    because saving takes part in the job's collectives (TensorFlow broadcasts the variables it
    creates); with the chief's state it takes the same resume and best-epoch decisions."""
    import hashlib
    import tempfile

    # One name per (run folder, process): a worker that was SIGKILLed (no clean-up) leaves one
    # folder, which its restart clears and reuses, not one more per restart.
    key = hashlib.sha1(str(out.resolve()).encode()).hexdigest()[:12]
    scratch = Path(tempfile.gettempdir()) / f"lensml-worker-{key}-{_distribute.process_part()[0]}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    job.callback(shutil.rmtree, scratch, True)
    for name in ("history.csv", "checkpoints", "backup"):
        source = out / name
        if source.is_dir():
            shutil.copytree(source, scratch / name)
        elif source.exists():
            shutil.copy2(source, scratch / name)
    return {key: scratch / Path(path).relative_to(out) for key, path in paths.items()}


def check_finite(model, paths: dict, training, stopped_at=None) -> None:
    """Raise :class:`TrainingDiverged` when a batch loss became NaN or inf (``stopped_at``:
    (epoch, batch) where ``StopOnNonFinite`` stopped fit), the history holds a non-finite loss,
    or the model's weights hold NaN or inf (e.g. ``training.learning_rate`` far too large). The
    training backup and best checkpoint are removed (a rerun starts afresh instead of resuming
    the diverged state); config.toml and history.csv stay for diagnosis, and no model.keras,
    checkpoint or metrics.json is left to pass as a result."""
    import numpy as np

    history = read_history_csv(paths["history_csv"])
    bad_epochs = [i + 1 for i, x in enumerate(history.get("loss", [])) if not math.isfinite(x)]
    bad_weights = [w.path for w in model.weights if not np.isfinite(np.asarray(w.numpy(), dtype=np.float64)).all()]
    if stopped_at is None and not bad_epochs and not bad_weights:
        return
    shutil.rmtree(paths["backup"], ignore_errors=True)
    shutil.rmtree(paths["checkpoint"].parent, ignore_errors=True)
    for key in ("model", "metrics"):
        if key in paths and Path(paths[key]).exists():
            Path(paths[key]).unlink()
    if stopped_at is not None:
        where = f"a batch loss became NaN or inf in epoch {stopped_at[0] + 1}, batch {stopped_at[1] + 1}"
    elif bad_epochs:
        where = f"the loss is not finite at epoch(s) {bad_epochs[:5]}"
    else:
        where = "the loss stayed finite"
    if bad_weights:
        where += f"; {len(bad_weights)} of {len(model.weights)} weight tensors hold NaN or inf (e.g. {bad_weights[0]})"
    raise TrainingDiverged(
        f"training diverged ({where}) at training.learning_rate={training.learning_rate:g}: no model.keras or "
        f"metrics.json was written in {str(paths['dir'])!r}; lower the learning rate (or set training.clipnorm) "
        "and run again")


def _physics_schedule(epoch: int):
    """D4LensPINN's two-phase schedule (physics losses on from ``epoch``, 0-based)."""
    try:
        from lensml.models import PhysicsLossSchedule
    except ImportError as e:
        raise RuntimeError(f"training.physics_phase2_epoch needs lensml.models.physics_loss ({e})") from e
    return PhysicsLossSchedule(int(epoch))


def _fmt(metrics: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float))


@contextlib.contextmanager
def damaged_data_error(data: DataConfig):
    """A damaged stored dataset file (TensorFlow's DataLossError: a shard's checksum fails) as
    an error that names the dataset folder and the fix (rebuild), instead of a trace from inside
    ``fit``."""
    import tensorflow as tf

    try:
        yield
    except tf.errors.DataLossError as e:
        from lensml.data.pipeline import builder_name

        name = builder_name(data.dataset)
        folder = Path(data.data_dir or Path.home() / "tensorflow_datasets") / name
        raise RuntimeError(
            f"data.dataset={data.dataset!r}: a stored file of the dataset is damaged ({e.message.splitlines()[0]}). "
            f"Delete {str(folder)!r} and run again: the dataset is rebuilt from the simulator, the same examples "
            "byte for byte") from None


def test_metrics(model, test_data, data: DataConfig, out_dir, *, model_name: str, history=None) -> dict[str, Any]:
    """The one test evaluation of every protocol (training runs, fine-tuning, linear probes,
    label efficiency, each setting of cross-instrument transfer, zero-shot included):
    ``lensml.evaluation.evaluate_model`` under the task of ``data.target``
    (``lensml.training.checks.evaluation_task``), its report written to ``out_dir``.

    Args:
        model: the Keras model to test (raw images in: it carries its input contract).
        test_data: what ``evaluate_model`` takes (a tf.data.Dataset of pairs, or arrays).
        data: the data config of the run (dataset name, test split, target).
        out_dir: the report's folder; model_name: provenance; history: a CSVLogger path.

    Returns ``{"test_<metric>": value}`` for every number of the report, with the one-vs-rest
    AUC of each class as ``test_auc_per_class/<class>``.
    """
    from lensml.evaluation import evaluate_model
    from lensml.training.checks import evaluation_task

    task = evaluation_task(data.target)
    with damaged_data_error(data):
        report = evaluate_model(model, test_data, task, str(out_dir), model_name=model_name,
                                dataset_name=data.dataset, split=data.test_split or "test", history=history,
                                tta=data.test_tta, class_names=dataset_class_names(data) if task == "classification" else None)
    metrics = {f"test_{k}": v for k, v in report.items() if isinstance(v, (int, float))}
    for name, auc in (report.get("auc_per_class") or {}).items():  # one-vs-rest AUC per class
        if isinstance(auc, (int, float)):
            metrics[f"test_auc_per_class/{name}"] = auc
    return metrics


def dataset_class_names(data: DataConfig) -> list[str] | None:
    """The class names of ``data.dataset``'s family, in label order (None: a dataset without a
    family, e.g. synthetic data, whose report names its classes by default)."""
    if data.dataset.startswith("synthetic:"):
        return None
    from lensml.data.pipeline import dataset_family
    from lensml.simulation import get_family

    try:
        return list(get_family(dataset_family(data.dataset)).class_names)
    except ValueError:  # a dataset of a custom data factory: no family to read it from
        return None


def _best_model(model, paths):
    """The best checkpoint (uncompiled: tested and saved, not trained), else the final model;
    loaded once for the test evaluation and the preset."""
    import keras

    if paths["checkpoint"].exists():
        best = keras.saving.load_model(paths["checkpoint"], compile=False)
        best.run_eagerly = model.run_eagerly  # tested the way it trained (eager for a handful of steps)
        return best
    return model


def write_run_preset(config, seed, best, paths, metrics, steps_per_epoch, epochs_run) -> Path:
    """``best`` (``_best_model``) as a preset folder ``<run>/preset`` (``lensml.models.save_preset``)
    whose model card holds the run's data, recipe, budget and test metrics."""
    from lensml.models.presets import save_preset

    t, d = config.training, config.data
    card = {
        "architecture": config.model.name,
        "dataset": f"{d.dataset} ({'fresh lenses from the batched simulator' if d.source == 'stream' else 'stored training split'}"
                   f"{f', label fraction {d.label_fraction:g}' if d.label_fraction < 1 else ''})",
        "train_examples": int(steps_per_epoch * d.batch_size * epochs_run),
        "budget": f"{epochs_run} epochs x {steps_per_epoch} steps of {d.batch_size} images; best epoch "
                  f"{metrics.get('best_epoch', 'n/a')} by {t.monitor}",
        "recipe": {"optimizer": t.optimizer, "learning_rate": t.learning_rate, "weight_decay": t.weight_decay,
                   "schedule": t.schedule, "warmup_epochs": t.warmup_epochs, "batch_size": d.batch_size,
                   "augment": d.augment, "normalization": d.normalization, **dict(config.model.options)},
        "metrics": {k: v for k, v in metrics.items() if k.startswith("test_") and "/" not in k
                    and isinstance(v, (int, float))},
        "seeds": [seed],
        "metrics_note": f"Test split {d.test_split!r} of {d.dataset}, one seed (no interval).",
    }
    return save_preset(best, paths["dir"] / "preset", card=card, overwrite=True)


def _evaluate_test(config, best, test_ds, paths) -> dict[str, Any]:
    """``test_metrics`` of ``best`` (``_best_model``) into ``<run>/evaluation``."""
    paths["evaluation"] = paths["dir"] / "evaluation"
    return test_metrics(best, test_ds, config.data, paths["evaluation"], model_name=config.model.name,
                        history=str(paths["history_csv"]))


def run(
    config: ExperimentConfig,
    *,
    data_factory: DataFactory | None = None,
    model_factory: ModelFactory | None = None,
    callbacks: Iterable[Any] = (),
    evaluate_test: bool = True,
) -> dict[str, Any]:
    """Train ``config`` once per seed in ``config.seeds``.

    Returns ``{"name", "seeds", "runs": [per-seed results], "metrics": mean over seeds,
    "metrics_std": std over seeds, "num_params", "paths"}``; with several seeds a
    ``summary.json`` is written in the output folder. See :func:`run_seed` for the factories.
    """
    if not isinstance(config, ExperimentConfig):
        raise TypeError(f"config: expected an ExperimentConfig (see lensml.training.load_config), got {type(config).__name__}")
    runs = [
        run_seed(
            config,
            s,
            data_factory=data_factory,
            model_factory=model_factory,
            callbacks=callbacks,
            evaluate_test=evaluate_test,
        )
        for s in config.seeds
    ]
    from lensml.evaluation.aggregation import mean_std

    keys = [k for k, v in runs[0]["metrics"].items() if isinstance(v, (int, float))]
    mean, std = {}, {}
    for k in keys:
        mean[k], std[k], _ = mean_std(r["metrics"].get(k) for r in runs)
    result = {
        "name": config.name,
        "seeds": list(config.seeds),
        "runs": runs,
        "metrics": mean,
        "metrics_std": std,
        "num_params": runs[0]["num_params"],
        "paths": dict(runs[0]["paths"]),
    }
    if len(runs) > 1 and _distribute.is_chief():  # a multi-process job's other workers write nothing
        root = Path(config.output.dir.format(name=config.name, seed="all"))
        summary = root / "summary.json"
        _write_json(summary, {k: v for k, v in result.items() if k != "runs"} | {"runs": [r["paths"]["dir"] for r in runs]})
        result["paths"] = {"summary": str(summary), "dirs": [r["paths"]["dir"] for r in runs]}
    return result
