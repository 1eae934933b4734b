"""``lensml quickstart``: build a small dataset, train a baseline and LensPINN, write one report.

What a new user runs first. Everything goes through the library's own entry points:
the TFDS builder ``deeplense`` (its ``<family>_n<N>`` size config, cached in the TFDS
data dir), ``lensml.experiments.run`` (training, one seed, the same split for every model) and
``lensml.evaluation.evaluate_model`` (the protocol: metrics, ROC, confusion matrix).
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

#: --tiny: a few images, one epoch, narrow models (the test suite runs this end to end). One
#: batch holds the whole 15-image training split: a ragged last batch is a second shape for
#: XLA to compile (~40 s for LensPINN on JAX on 2 cores).
TINY = {"per_class": 8, "epochs": 1, "batch_size": 16}
TINY_MODEL_OPTIONS = {
    "resnet18": {"width": 8, "stage_blocks": [1, 1, 1, 1]},
    "lenspinn_small": {"embed_dim": 32, "num_heads": 2, "key_dim": 8, "mlp_dim": 16,
                       "decoder_features": 16, "decoder_options": {"alpha": 0.25, "minimalistic": True}},
    "lenspinn_large": {"embed_dim": 32, "num_heads": 2, "key_dim": 8, "mlp_dim": 16,
                       "decoder_features": 16,
                       "decoder_options": {"width_coefficient": 0.25, "depth_coefficient": 0.25}},
}

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
                      out_dir, data_dir: str | None = None, learning_rate: float = 1e-3,
                      options: dict | None = None, pixel_scale: float | None = None):
    """The :class:`~lensml.experiments.ExperimentConfig` of one quickstart model: one seed,
    AdamW with a cosine schedule, the stored splits, min-max normalisation."""
    from lensml.experiments.config import config_from_dict

    opts = dict(options or {})
    if model.startswith("lenspinn") and pixel_scale is not None:
        opts.setdefault("pixel_scale", float(pixel_scale))
    raw = {
        "name": f"quickstart_{model}",
        "description": f"lensml quickstart: {model} on {dataset}",
        "seeds": [int(seed)],
        "data": {"dataset": dataset, "batch_size": int(batch_size), "normalization": "minmax",
                 "seed": 0, **({"data_dir": str(data_dir)} if data_dir else {})},
        "model": {"name": model, "num_classes": 3, "options": opts},
        "training": {"epochs": int(epochs), "optimizer": "adamw", "learning_rate": learning_rate,
                     "weight_decay": 1e-4, "schedule": "cosine", "metrics": ["accuracy"],
                     "monitor": "val_loss", "verbose": 2},
        "output": {"dir": str(out_dir), "save_model": True},
    }
    return config_from_dict(raw)


def eager_is_faster(tiny: bool) -> bool:
    """Whether to run ``fit`` eagerly: for a handful of tiny batches on TensorFlow, tracing the
    train step of a model with hundreds of layers costs far more than running it. Not on JAX,
    whose eager mode compiles every primitive separately (slower than one jit)."""
    import keras

    return bool(tiny) and keras.backend.backend() == "tensorflow"


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
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


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
    lines = [
        "# lensml quickstart report", "",
        f"Dataset `{d['name']}` ({record['family']}): {d['splits']} examples (train/validation/test), "
        f"simulated with lenstronomy through TFDS ({'cached' if d['cached'] else 'built now'}; {d['path']}).",
        f"Backend {record['backend']}, {record['epochs']} epoch(s), batch {record['batch_size']}, seed {record['seed']}, "
        "the same stored split for every model. Metrics on the test split (lensml.evaluation protocol).", "",
        comparison.strip(), "",
        "| model | parameters | training time (s) | best epoch | run folder | evaluation |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in record["models"].items():
        lines.append(f"| {name} | {m['num_params']:,} | {m['train_time_s']:.1f} | {m.get('best_epoch', 'n/a')} | "
                     f"[runs/{name}](runs/{name}) | [{name}/report.md]({name}/report.md) |")
    t = record["timings"]
    lines += ["", f"Time: {t['total_s']:.0f} s wall (dataset {t['dataset_s']:.0f} s), "
              f"CPU {t['cpu_user_s']:.0f} s user + {t['cpu_system_s']:.0f} s system.", ""]
    lines += ["## ROC curves (one vs rest)", "", "| " + " | ".join(record["models"]) + " |",
              "|" + "---|" * len(record["models"]),
              "| " + " | ".join(f"![{n} ROC]({n}/roc.png)" for n in record["models"]) + " |", ""]
    lines += ["## Confusion matrices (rows true, columns predicted)", "", "| " + " | ".join(record["models"]) + " |",
              "|" + "---|" * len(record["models"]),
              "| " + " | ".join(f"![{n} confusion]({n}/confusion_matrix.png)" for n in record["models"]) + " |", ""]
    lines += ["## Examples and reconstructed sources", "", record["examples_caption"], "",
              "![examples](examples.png)", ""]
    return "\n".join(lines)


def run_quickstart(out="quickstart-report", *, family: str = "model_ii", models=DEFAULT_MODELS,
                   per_class: int = 300, epochs: int = 5, batch_size: int = 32, seed: int = 0,
                   learning_rate: float = 1e-3, data_dir: str | None = None, tiny: bool = False,
                   log: Log = _print) -> dict:
    """Build ``deeplense/<family>_n<per_class>``, train ``models`` on it, evaluate, write a report.

    Args:
      out: the report folder (created).
      family: "model_i", "model_ii" or "model_iii".
      models: names from ``lensml.models.available()``; LensPINN models also give the
        reconstructed sources of the examples figure.
      per_class: examples per class in all, split 72/8/20 % into train/validation/test.
      epochs, batch_size, seed, learning_rate: training (AdamW, cosine schedule).
      data_dir: the TFDS data dir (default: TFDS's, ``~/tensorflow_datasets``).
      tiny: a few images, one epoch and narrow models (``TINY``; for tests).

    Returns:
      The record written to ``out/metrics.json`` (``report`` holds the path of report.md).
    """
    import keras
    import numpy as np

    from lensml.datasets import sized_config, split_sizes
    from lensml.evaluation import evaluate_model
    from lensml.evaluation.compare import compare_runs
    from lensml.experiments import run
    from lensml.models import available
    from lensml.simulation import get_family
    from lensml.simulation.families import CLASS_NAMES

    start, cpu0 = time.time(), _cpu_seconds()
    models = list(models)
    if not models:
        raise ValueError("models: expected at least one model name, got []")
    known = available()
    for m in models:
        if m not in known:
            raise ValueError(f"models: unknown model {m!r}; known models: {', '.join(known)}")
    if tiny:
        per_class, epochs, batch_size = TINY["per_class"], TINY["epochs"], TINY["batch_size"]
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs: expected an integer >= 1, got {epochs!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pixel_scale = get_family(family).instrument.pixel_scale
    eager = eager_is_faster(tiny)

    log(f"step 1/4: dataset ({family}, {per_class} per class; backend {keras.backend.backend()})")
    name = sized_config(family, per_class)
    dataset = prepare_dataset(name, data_dir, log)
    dataset_s = time.time() - start

    results, record_models, eval_dirs = {}, {}, []
    for k, model_name in enumerate(models):
        log(f"step 2/4: training {model_name} ({k + 1}/{len(models)}), {epochs} epoch(s) ...")
        options = TINY_MODEL_OPTIONS.get(model_name, {}) if tiny else {}
        config = experiment_config(model_name, name, epochs=epochs, batch_size=batch_size, seed=seed,
                                   out_dir=out / "runs" / model_name, data_dir=data_dir,
                                   learning_rate=learning_rate, options=options, pixel_scale=pixel_scale)
        result = run(config, evaluate_test=False, callbacks=[eager_callback()] if eager else [])["runs"][0]
        results[model_name] = result
        log(f"step 3/4: evaluating {model_name} on the test split ...")
        from lensml.data import pipeline

        test_ds = pipeline(name, "test", batch_size=batch_size, normalization="minmax", shuffle=False,
                           data_dir=data_dir)
        report = evaluate_model(_best_model(result, eager=eager), test_ds, "classification", out / model_name,
                                list(CLASS_NAMES), model_name=model_name, dataset_name=name, split="test",
                                history=result["paths"]["history_csv"])
        eval_dirs.append(out / model_name)
        record_models[model_name] = {
            **{key: report[key] for key in ("accuracy", "micro_f1", "macro_f1", "macro_auc", "ece")},
            "auc_per_class": report["auc_per_class"],
            "num_params": result["num_params"],
            "train_time_s": result["train_time_s"],
            "best_epoch": result["metrics"].get("best_epoch"),
            "run_dir": str(Path("runs") / model_name),
            "evaluation_dir": model_name,
        }
        log(f"{model_name}: accuracy {report['accuracy']:.3f}, macro AUC "
            f"{report['macro_auc'] if report['macro_auc'] is None else round(report['macro_auc'], 3)}")

    log("step 4/4: examples with reconstructed sources and the report ...")
    images, labels, theta_true = _test_arrays(name, data_dir, batch_size)
    pick = np.concatenate([np.flatnonzero(labels == c)[:2] for c in range(len(CLASS_NAMES))])
    images, labels, theta_true = images[pick], labels[pick], theta_true[pick]
    src_true = reconstruct_sources(images, theta_true, pixel_scale)
    pinn = next((m for m in models if m.startswith("lenspinn")), None)
    theta_pred = src_pred = None
    if pinn is not None:
        theta_pred = predicted_einstein_radius(_best_model(results[pinn], eager=eager), images)
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
    record = {
        "family": family, "dataset": dataset, "backend": keras.backend.backend(), "epochs": epochs,
        "batch_size": batch_size, "seed": seed, "per_class": per_class, "split_sizes_per_class": split_sizes(per_class),
        "models": record_models, "examples_caption": caption,
        "timings": {"dataset_s": dataset_s, "total_s": time.time() - start,
                    "cpu_user_s": cpu["user"] - cpu0["user"], "cpu_system_s": cpu["system"] - cpu0["system"]},
        "report": str(out / "report.md"),
    }
    comparison = compare_runs(eval_dirs, aggregate=False).replace("## classification", "## Metrics (test split)")
    (out / "report.md").write_text(_render(record, comparison))
    (out / "metrics.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    log(f"done in {record['timings']['total_s']:.0f} s (CPU {record['timings']['cpu_user_s']:.0f} s user); "
        f"report: {os.path.abspath(out / 'report.md')}")
    return record
