"""``lensml quickstart``: train a baseline and LensPINN on fresh lenses, evaluate, write one report.

What a new user runs first. Everything goes through the library's own entry points:
the TFDS builder ``deeplense`` (its ``<family>_n<N>`` size config, cached in the TFDS
data dir: the stored validation and test splits), ``lensml.training.run`` with
``data.source = "stream"`` (training on fresh lenses from the batched simulator, one seed,
each model's recipe) and ``lensml.evaluation.evaluate_model`` (the protocol: metrics, ROC,
confusion matrix) on the stored test split and on lenses of a seed no model saw.
The report folder::

    report.md                 metrics table of every model, every figure, timings
    metrics.json              the same numbers, machine-readable
    examples.png              per class: image, source reconstructed with LensPINN's
                              predicted Einstein radius, source with the true radius
    <model>/                  evaluate_model's folder (metrics.json, report.md, roc.png,
                              confusion_matrix.png, reliability.png, samples.png, ...)
    runs/<model>/             the training run (config.toml, history.csv, model.keras, ...)
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path
from typing import Callable

#: The models trained by default: the baseline and the physics-informed model.
DEFAULT_MODELS = ("resnet18", "lenspinn_small")

#: The headline family: the DeepLense Model II data as published (what the papers trained on).
DEFAULT_FAMILY = "model_ii_published"

#: Batch size of the default run; each model trains at its CPU scale (lensml.models.cpu_scale:
#: ResNet18 at width 24, 1.6M parameters, 8 x 200 batches = 76,800 fresh lenses in ~80 s;
#: LensPINN small 6 x 180 batches = 51,840 lenses in ~4 min on a 2-core CPU with TensorFlow).
BATCH_SIZE = 48
#: Examples per class of the stored validation/test dataset (deeplense/<family>_n<N>).
PER_CLASS = 500
#: Fresh lenses (a seed no run trains on) every saved model is also tested on.
FRESH_LENSES = 600
FRESH_SEED = 10_000

#: --tiny: a few images, one epoch of two batches, narrow models (the test suite runs this end
#: to end).
#: Wall-time budget of the quickstart's training, all models together (``run_quickstart(minutes=)``).
TRAINING_MINUTES = 6.0
TINY = {"per_class": 8, "epochs": 1, "batch_size": 16, "steps_per_epoch": 2, "fresh": 24}

Log = Callable[[str], None]


def _print(msg: str) -> None:
    print(f"[quickstart] {msg}", flush=True)


# --------------------------------------------------------------------------- dataset


def prepare_dataset(name: str, data_dir: str | None = None, log: Log = _print) -> dict:
    """Build the TFDS dataset ``name`` unless it is cached; returns split sizes and seconds."""
    import tensorflow_datasets as tfds

    start = time.time()
    builder = tfds.builder(name, data_dir=data_dir)
    cached = builder.is_prepared()
    if not cached:
        log(f"simulating {name} with lenstronomy into {builder.data_dir} ...")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    splits = {s: int(info.num_examples) for s, info in builder.info.splits.items()}
    seconds = time.time() - start
    log(f"dataset {name}: {splits} ({'cached' if cached else f'built in {seconds:.0f} s'}) at {builder.data_dir}")
    return {"name": name, "splits": splits, "cached": cached, "seconds": seconds, "path": str(builder.data_dir)}


# --------------------------------------------------------------------------- training


def experiment_config(model: str, dataset: str, *, epochs: int, batch_size: int, seed: int,
                      out_dir, data_dir: str | None = None, learning_rate: float | None = None,
                      options: dict | None = None, pixel_scale: float | None = None,
                      steps_per_epoch: int | None = None, source: str = "stream"):
    """The :class:`~lensml.training.ExperimentConfig` of one quickstart model: one seed,
    the model's recipe (``lensml.training.recipe``; ``learning_rate`` overrides its peak rate),
    fresh lenses from the stream (``source="stream"``, ``steps_per_epoch`` batches per epoch)
    or the stored training split, validated on the stored split, min-max normalisation."""
    from lensml.training.config import config_from_dict

    opts = dict(options or {})
    if model.startswith("lenspinn") and pixel_scale is not None:
        opts.setdefault("pixel_scale", float(pixel_scale))
    training = {"recipe": True, "epochs": int(epochs), "metrics": ["accuracy"], "monitor": "val_loss",
                "verbose": 2}
    if learning_rate is not None:
        training["learning_rate"] = float(learning_rate)
    raw = {
        "name": f"quickstart_{model}",
        "description": f"lensml quickstart: {model} on {dataset} ({source})",
        "seeds": [int(seed)],
        "data": {"dataset": dataset, "source": source, "batch_size": int(batch_size), "normalization": "minmax",
                 "seed": 0, **({"steps_per_epoch": int(steps_per_epoch)} if steps_per_epoch else {}),
                 **({"data_dir": str(data_dir)} if data_dir else {})},
        "model": {"name": model, "num_classes": 3, "options": opts},
        "training": training,
        "output": {"dir": str(out_dir), "save_model": True, "overwrite": True},  # a quickstart starts afresh
    }
    return config_from_dict(raw)


def fresh_lenses(family: str, count: int, seed: int = FRESH_SEED):
    """(images (N, H, W, 1) float32 min-max normalised, labels (N,)) of ``count`` lenses of
    ``family`` from the batched simulator with ``seed`` (balanced; no training run uses it)."""
    import numpy as np

    from lensml.data import simulated_stream

    batch = min(count, 120)
    stream = simulated_stream(family, batch_size=batch, seed=seed, noise=True)
    parts = [stream.batch(i) for i in range(-(-count // batch))]
    images = np.concatenate([p[0] for p in parts])[:count]
    labels = np.concatenate([p[1] for p in parts])[:count]
    return images, labels


#: Runs of at most this many optimizer steps train eagerly on TensorFlow (``eager_is_faster``).
EAGER_MAX_STEPS = 50


def eager_is_faster(steps: int) -> bool:
    """Whether a run of ``steps`` optimizer steps should ``fit`` (and predict) eagerly: on
    TensorFlow, tracing the train step of a model with hundreds of layers costs 15-60 s on two
    cores, more than running a handful of steps op by op (a controlled-scale protocol test: 220 s
    traced, 94 s eager). Not on JAX, whose eager mode compiles every primitive separately (the same
    test: 126 s jitted, 185 s eager)."""
    import keras

    return steps <= EAGER_MAX_STEPS and keras.backend.backend() == "tensorflow"


def eager_callback():
    """A callback that makes ``fit`` run eagerly (no tf.function tracing / jax.jit).

    Keras calls ``set_model`` before it builds the train function, so the flag is seen in time.
    """
    import keras

    class RunEagerly(keras.callbacks.Callback):
        def set_model(self, model):
            super().set_model(model)
            model.run_eagerly = True

    return RunEagerly()


def _best_model(run: dict, eager: bool = False):
    import keras

    paths = run["paths"]
    for key in ("checkpoint", "model"):
        if key in paths and Path(paths[key]).exists():
            model = keras.saving.load_model(paths[key])
            model.run_eagerly = eager
            return model
    raise FileNotFoundError(f"the run in {paths['dir']} saved no model")


# --------------------------------------------------------------------------- sources


def reconstruct_sources(images, theta_E, pixel_scale: float):
    """Sources (B, H, W, 1) float32 of ``images`` (B, H, W, 1) under an SIS lens with Einstein
    radius ``theta_E`` (B,) arcsec, through ``lensml.physics.InverseLens`` on the image grid."""
    import numpy as np
    from keras import ops

    from lensml.physics import SISDeflection, inverse_lens

    images = np.asarray(images, np.float32)
    theta = np.asarray(theta_E, np.float32).reshape(-1, 1)
    alpha = SISDeflection(pixel_scale)([np.ones_like(images), theta])
    return ops.convert_to_numpy(inverse_lens(images, alpha, pixel_scale))


def predicted_einstein_radius(model, images):
    """LensPINN's predicted Einstein radius (B,) arcsec (its layer ``einstein_radius``)."""
    import numpy as np
    from keras import ops

    from lensml.evaluation import layer_outputs

    _, out = layer_outputs(model, np.asarray(images, np.float32), ["einstein_radius"])
    return ops.convert_to_numpy(out["einstein_radius"]).reshape(-1)


def plot_examples(images, labels, theta_true, sources_true, path, class_names, *, theta_pred=None,
                  sources_pred=None, per_class: int = 2, model_name: str = "LensPINN"):
    """Per class, ``per_class`` examples: the image, the source reconstructed with the
    predicted Einstein radius (if given) and with the true one. Writes a PNG, returns its path.

    images, sources_*: (N, H, W, 1) float32; labels (N,) int; theta_*: (N,) arcsec.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = np.asarray(labels).reshape(-1)
    panels = [("image", images, None)]
    if sources_pred is not None:
        panels.append((f"source, {model_name} " + "\u03b8E", sources_pred, theta_pred))
    panels.append(("source, true \u03b8E", sources_true, theta_true))
    rows = [(c, i) for c in range(len(class_names)) for i in np.flatnonzero(labels == c)[:per_class]]
    fig = Figure(figsize=(2.2 * len(panels), 2.2 * max(1, len(rows))), dpi=90)
    FigureCanvasAgg(fig)
    axes = np.asarray(fig.subplots(max(1, len(rows)), len(panels), squeeze=False))
    for r, (c, i) in enumerate(rows):
        for k, (title, arr, theta) in enumerate(panels):
            ax = axes[r, k]
            ax.imshow(np.asarray(arr)[i, :, :, 0], cmap="inferno", origin="lower")
            ax.set_xticks([])
            ax.set_yticks([])
            label = title if theta is None else f"{title} = {float(np.asarray(theta)[i]):.2f}\""
            ax.set_title(label if r == 0 or theta is not None else "", fontsize=7)
            if k == 0:
                ax.set_ylabel(class_names[c], fontsize=9)
    fig.tight_layout()
    from lensml.evaluation.plots import save_figure

    return save_figure(fig, path)


def _test_arrays(dataset: str, data_dir, batch_size: int, limit: int | None = None):
    """Test images (minmax, stored order), labels and true Einstein radii."""
    import numpy as np

    from lensml.data import pipeline
    from lensml.evaluation import as_arrays

    kw = dict(batch_size=batch_size, normalization="minmax", shuffle=False, data_dir=data_dir)
    images, labels = as_arrays(pipeline(dataset, "test", target="label", **kw), max_examples=limit)
    _, theta = as_arrays(pipeline(dataset, "test", target="theta_E", **kw), max_examples=limit)
    return images, np.asarray(labels).reshape(-1), np.asarray(theta).reshape(-1)


# --------------------------------------------------------------------------- report


def _cpu_seconds() -> dict:
    self_ = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the simulation's worker processes
    return {"user": self_.ru_utime + kids.ru_utime, "system": self_.ru_stime + kids.ru_stime}


def _render(record: dict, comparison: str) -> str:
    d = record["dataset"]
    fresh = record["fresh"]
    source = ("fresh lenses from the batched simulator every step (data.source = \"stream\")"
              if record["source"] == "stream" else "the stored training split")
    lines = [
        "# lensml quickstart report", "",
        f"Family `{record['family']}` ({record['variant']}). Training on {source}; validation and test on the "
        f"stored splits of `{d['name']}` ({d['splits']} examples, train/validation/test), simulated with "
        f"lenstronomy through TFDS ({'cached' if d['cached'] else 'built now'}; {d['path']}).",
        f"Backend {record['backend']}, batch {record['batch_size']}, seed {record['seed']}, each model's training "
        "recipe (lensml.training.recipe). Metrics on the stored test split (lensml.evaluation protocol).", "",
        comparison.strip(), "",
        f"## Fresh lenses ({fresh['count']} lenses of seed {fresh['seed']}, which no run trained on)", "",
        "| model | accuracy | macro AUC |", "|---|---|---|",
    ]
    for name, m in record["models"].items():
        f = m["fresh"]
        lines.append(f"| {name} | {f['accuracy']:.3f} | {_fmt_auc(f['macro_auc'])} |")
    lines += ["", "## Training", "",
              "| model | options | parameters | planned epochs x steps x batch | steps taken | lenses seen "
              "| training time (s) | best epoch "
              "| run folder | evaluation |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for name, m in record["models"].items():
        lines.append(f"| {name} | {json.dumps(m['options']) if m['options'] else 'default'} | {m['num_params']:,} | "
                     f"{m['epochs']} x {m['steps_per_epoch']} x {record['batch_size']} | {m['steps_done']:,}"
                     f"{' (time budget)' if m['stopped_at_budget'] else ''} | {m['lenses_seen']:,} | "
                     f"{m['train_time_s']:.1f} | {m.get('best_epoch', 'n/a')} | [runs/{name}](runs/{name}) | "
                     f"[{name}/report.md]({name}/report.md) |")
    t = record["timings"]
    lines += ["", f"Time: {t['total_s']:.0f} s wall (dataset {t['dataset_s']:.0f} s), "
              f"CPU {t['cpu_user_s']:.0f} s user + {t['cpu_system_s']:.0f} s system.", ""]
    for title, figure in (("Training curves (loss and accuracy per epoch)", "training_curves"),
                          ("ROC curves (one vs rest)", "roc"),
                          ("Confusion matrices (rows true, columns predicted)", "confusion_matrix")):
        lines += [f"## {title}", "", "| " + " | ".join(record["models"]) + " |",
                  "|" + "---|" * len(record["models"]),
                  "| " + " | ".join(f"![{n} {figure}]({n}/{figure}.png)" for n in record["models"]) + " |", ""]
    lines += ["## Examples and reconstructed sources", "", record["examples_caption"], "",
              "![examples](examples.png)", ""]
    return "\n".join(lines)


def _fmt_auc(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def run_quickstart(out="quickstart-report", *, family: str = DEFAULT_FAMILY, models=DEFAULT_MODELS,
                   per_class: int = PER_CLASS, epochs: int | None = None, steps_per_epoch: int | None = None,
                   batch_size: int = BATCH_SIZE, seed: int = 0, learning_rate: float | None = None,
                   data_dir: str | None = None, tiny: bool = False, source: str = "stream",
                   fresh: int = FRESH_LENSES, minutes: float | None = TRAINING_MINUTES,
                   log: Log = _print) -> dict:
    """Train ``models`` on ``family`` (fresh lenses), evaluate, write a report.

    Args:
      out: the report folder (created).
      family: a family name (``lensml.simulation.FAMILIES``): "model_ii_published" (default, the
        data the papers trained on), "model_ii" (realistic, with noise), "model_i", ...
      models: names from ``lensml.models.available()``; LensPINN models also give the
        reconstructed sources of the examples figure.
      per_class: examples per class of the stored ``deeplense/<family>_n<per_class>``, split
        72/8/20 % into train/validation/test (validation and test are always these).
      epochs, steps_per_epoch: per model, default ``lensml.models.cpu_scale`` (stream batches per epoch).
      batch_size, seed: training; ``learning_rate`` overrides the recipe's peak rate.
      source: "stream" (fresh lenses every step) or "stored" (the stored training split).
      fresh: lenses of seed ``FRESH_SEED`` every saved model is tested on besides the test split.
      data_dir: the TFDS data dir (default: TFDS's, ``~/tensorflow_datasets``).
      tiny: a few images, one short epoch and narrow models (``TINY``; for tests).
      minutes: wall-time budget for training all models (None: none). Each model gets an equal
        share of what is left when it starts, so time a fast model does not use passes to the
        next; a model whose share runs out stops after that step (its epoch is validated and
        checkpointed) and the report gives the lenses it saw. On the machine the README's
        figures come from no model reaches its share; on a slower one the quickstart still ends
        within about ``minutes`` + 3 minutes.

    Returns:
      The record written to ``out/metrics.json`` (``report`` holds the path of report.md).
    """
    import keras
    import numpy as np

    from lensml.datasets import sized_config, split_sizes
    from lensml.evaluation import classification_metrics, evaluate_model
    from lensml.evaluation.compare import compare_runs
    from lensml.training.runner import run
    from lensml.models import available, cpu_scale, size
    from lensml.simulation import get_family
    from lensml.simulation.families import CLASS_NAMES, PUBLISHED_FAMILIES

    start, cpu0 = time.time(), _cpu_seconds()
    models = list(models)
    if not models:
        raise ValueError("models: expected at least one model name, got []")
    known = available()
    for m in models:
        if m not in known:
            raise ValueError(f"models: unknown model {m!r}; known models: {', '.join(known)}")
    if source not in ("stream", "stored"):
        raise ValueError(f"source: expected 'stream' or 'stored', got {source!r}")
    if tiny:
        per_class, epochs, batch_size = TINY["per_class"], TINY["epochs"], TINY["batch_size"]
        steps_per_epoch, fresh = TINY["steps_per_epoch"], TINY["fresh"]
    for key, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{key}: expected an integer >= 1, got {value!r}")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0):
        raise ValueError(f"minutes: expected a number > 0 (training budget) or None, got {minutes!r}")
    if isinstance(fresh, bool) or not isinstance(fresh, int) or fresh < 3:
        raise ValueError(f"fresh: expected an integer >= 3 (fresh test lenses), got {fresh!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fam = get_family(family)
    pixel_scale = fam.instrument.pixel_scale
    eager = {}  # model name -> whether it trains and predicts eagerly

    log(f"step 1/4: dataset ({family}, {per_class} per class; backend {keras.backend.backend()})")
    name = sized_config(family, per_class)
    dataset = prepare_dataset(name, data_dir, log)
    dataset_s = time.time() - start
    fresh_images, fresh_labels = fresh_lenses(family, fresh)

    results, record_models, eval_dirs = {}, {}, []
    budget_left = None if minutes is None else 60.0 * minutes
    from lensml.training.callbacks import WallTimeBudget

    for k, model_name in enumerate(models):
        scale = cpu_scale(model_name)
        options = size(model_name, "tiny" if tiny else "cpu")
        n_epochs = epochs or scale["epochs"]
        steps = steps_per_epoch or scale["steps_per_epoch"]
        if source == "stored":
            steps = -(-dataset["splits"]["train"] // batch_size)
        log(f"step 2/4: training {model_name} ({k + 1}/{len(models)}), {n_epochs} epoch(s) x {steps} steps ...")
        config = experiment_config(model_name, name, epochs=n_epochs, batch_size=batch_size, seed=seed,
                                   out_dir=out / "runs" / model_name, data_dir=data_dir,
                                   learning_rate=learning_rate, options=options, pixel_scale=pixel_scale,
                                   steps_per_epoch=steps if source == "stream" else None, source=source)
        eager[model_name] = eager_is_faster(n_epochs * steps)
        callbacks = [eager_callback()] if eager[model_name] else []
        budget = None if budget_left is None else WallTimeBudget(budget_left / (len(models) - k))
        callbacks += [budget] if budget else []
        train_start = time.time()
        result = run(config, evaluate_test=False, callbacks=callbacks)["runs"][0]
        if budget_left is not None:
            budget_left = max(budget_left - (time.time() - train_start), 1.0)
        planned_steps = n_epochs * steps
        steps_done = budget.steps if budget else planned_steps
        if budget and budget.stopped:
            log(f"{model_name}: stopped at its time budget ({budget.seconds:.0f} s) after {steps_done} of "
                f"{planned_steps} steps")
        results[model_name] = result
        log(f"step 3/4: evaluating {model_name} on the test split and on {fresh} fresh lenses ...")
        from lensml.data import pipeline

        test_ds = pipeline(name, "test", batch_size=batch_size, normalization="minmax", shuffle=False,
                           data_dir=data_dir)
        best = _best_model(result, eager=eager[model_name])
        report = evaluate_model(best, test_ds, "classification", out / model_name,
                                list(CLASS_NAMES), model_name=model_name, dataset_name=name, split="test",
                                history=result["paths"]["history_csv"])
        fresh_metrics = classification_metrics(fresh_labels, best.predict(fresh_images, batch_size=batch_size, verbose=0),
                                               list(CLASS_NAMES))
        eval_dirs.append(out / model_name)
        record_models[model_name] = {
            **{key: report[key] for key in ("accuracy", "micro_f1", "macro_f1", "macro_auc", "ece")},
            "auc_per_class": report["auc_per_class"],
            "fresh": {key: fresh_metrics[key] for key in ("accuracy", "macro_f1", "macro_auc")},
            "options": options,
            "epochs": n_epochs,
            "steps_per_epoch": steps,
            "steps_done": steps_done,
            "stopped_at_budget": bool(budget and budget.stopped),
            "lenses_seen": steps_done * batch_size if source == "stream" else
            n_epochs * dataset["splits"]["train"] * steps_done // planned_steps,
            "num_params": result["num_params"],
            "train_time_s": result["train_time_s"],
            "best_epoch": result["metrics"].get("best_epoch"),
            "run_dir": str(Path("runs") / model_name),
            "evaluation_dir": model_name,
        }
        log(f"{model_name}: test accuracy {report['accuracy']:.3f}, macro AUC {_fmt_auc(report['macro_auc'])}; "
            f"fresh lenses accuracy {fresh_metrics['accuracy']:.3f}, macro AUC {_fmt_auc(fresh_metrics['macro_auc'])}")

    log("step 4/4: examples with reconstructed sources and the report ...")
    images, labels, theta_true = _test_arrays(name, data_dir, batch_size)
    pick = np.concatenate([np.flatnonzero(labels == c)[:2] for c in range(len(CLASS_NAMES))])
    images, labels, theta_true = images[pick], labels[pick], theta_true[pick]
    src_true = reconstruct_sources(images, theta_true, pixel_scale)
    pinn = next((m for m in models if m.startswith("lenspinn")), None)
    theta_pred = src_pred = None
    if pinn is not None:
        theta_pred = predicted_einstein_radius(_best_model(results[pinn], eager=eager[pinn]), images)
        src_pred = reconstruct_sources(images, theta_pred, pixel_scale)
        caption = (f"Each row: a test image, the source reconstructed by inverse lensing "
                   f"(lensml.physics.InverseLens, SIS deflection) with the Einstein radius {pinn} predicts, "
                   "and with the true main-lens Einstein radius. A well-predicted radius turns the arc "
                   "into a compact source.")
    else:
        caption = ("Each row: a test image and the source reconstructed by inverse lensing with the true "
                   "main-lens Einstein radius (no LensPINN model was trained).")
    plot_examples(images, labels, theta_true, src_true, out / "examples.png", list(CLASS_NAMES),
                  theta_pred=theta_pred, sources_pred=src_pred, model_name=pinn or "")

    cpu = _cpu_seconds()
    variant = ("published-compatible: the DeepLense data as the public simulator wrote them, which the papers "
               "trained on" if family in PUBLISHED_FAMILIES else "realistic: model + instrument noise")
    record = {
        "family": family, "variant": variant, "source": source, "dataset": dataset,
        "backend": keras.backend.backend(), "batch_size": batch_size, "seed": seed, "per_class": per_class,
        "split_sizes_per_class": split_sizes(per_class), "fresh": {"count": int(fresh), "seed": FRESH_SEED},
        "models": record_models, "examples_caption": caption,
        "timings": {"dataset_s": dataset_s, "total_s": time.time() - start,
                    "cpu_user_s": cpu["user"] - cpu0["user"], "cpu_system_s": cpu["system"] - cpu0["system"]},
        "report": str(out / "report.md"),
    }
    comparison = compare_runs(eval_dirs, aggregate=False).replace("## classification", "## Metrics (test split)")
    from lensml._io import write_json_atomic, write_text_atomic

    write_text_atomic(out / "report.md", _render(record, comparison))
    write_json_atomic(out / "metrics.json", record, default=str)
    log(f"done in {record['timings']['total_s']:.0f} s (CPU {record['timings']['cpu_user_s']:.0f} s user); "
        f"report: {os.path.abspath(out / 'report.md')}")
    return record
