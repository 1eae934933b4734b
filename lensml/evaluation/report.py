"""``evaluate_model``: run a model on a dataset under the protocol and write a report folder.

The folder holds ``metrics.json`` (numbers + provenance), ``report.md`` (tables and every
figure) and the PNG figures.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from lensml.evaluation import plots
from lensml.evaluation.classification import classification_metrics
from lensml._io import atomic_target, write_json_atomic, write_text_atomic
from lensml.evaluation.inputs import DEFAULT_CLASS_NAMES, as_arrays
from lensml.evaluation.regression import regression_metrics
from lensml.evaluation.super_resolution import bicubic_upsample, super_resolution_metrics

TASKS = ("classification", "regression", "super_resolution")
TTA = (None, "d4")  # test-time augmentations evaluate_model offers


def evaluate_model(
    model,
    dataset,
    task: str,
    out_dir,
    class_names=None,
    *,
    model_name: str | None = None,
    dataset_name: str | None = None,
    split: str | None = None,
    history=None,
    preprocess="physics",
    gradcam: bool = True,
    gradcam_layer=None,
    num_gradcam: int = 4,
    interpretability: bool = False,
    num_interpretability: int = 64,
    interpretability_layers=None,
    ece_bins: int = 15,
    batch_size: int = 64,
    max_examples: int | None = None,
    tta: str | None = None,
    log=None,
) -> dict:
    """Evaluate ``model`` on ``dataset`` and write ``metrics.json``, ``report.md`` and PNGs.

    Args:
        model: a Keras model. Classification: images (B, H, W, 1) -> (B, C) probabilities or
            logits (softmax is applied when the rows are not probabilities). Regression:
            -> (B,) or (B, 1) log10(m_a / eV). Super-resolution: LR (B, h, w, 1) -> SR (B, H, W, 1).
        dataset: anything :func:`lensml.evaluation.inputs.as_arrays` accepts: (images, targets)
            arrays or a tf.data.Dataset of pairs; targets are int labels, log10 masses, or HR images.
        task: "classification", "regression" or "super_resolution".
        out_dir: folder to write (created if needed).
        class_names: C names in class-index order (classification only); default
            ("no_sub", "cdm", "axion") for 3 outputs, else "class_0"... .
        model_name, dataset_name, split: provenance written to metrics.json (``lensml compare``
            matches published numbers on model_name and dataset_name).
        history: optional Keras History, its dict, or a CSVLogger path -> training_curves.png.
        preprocess: for the second Grad-CAM view: "physics" (lensml.physics.PhysicsPreprocessing,
            skipped with a note if unavailable), a callable images -> images, or None.
        gradcam: draw Grad-CAM overlays (for the predicted class) for the first ``num_gradcam``
            images (conv models only; skipped with a note otherwise).
        interpretability: add per-layer D4 activation patching, linear probes and equivariance
            error on about ``num_interpretability`` examples (a stratified subset; classification; slower)
            for ``interpretability_layers`` (default: every top-level layer).
        ece_bins: equal-width bins for the expected calibration error and the reliability diagram.
        tta: ``"d4"``: test-time augmentation over the 8 rotations / reflections of each image
            (``lensml.models.tta.D4TTA``; spatial outputs mapped back before averaging) for the
            metrics; Grad-CAM then averages the model's 8 back-transformed maps
            (``lensml.evaluation.gradcam.d4_grad_cam``) and interpretability reads the model
            itself (the TTA average is D4-invariant by construction). A ``D4TTA`` model passed
            as ``model`` is evaluated the same way. None: the model as it is.
        log: a callable given one message per step (prediction, metrics and figures,
            interpretability), so a long evaluation shows progress; None: silent.

    Returns:
        The dict written to metrics.json: the task's metrics (e.g. ``accuracy``, ``macro_auc``;
        ``mae``; ``psnr``) at the top level next to the provenance keys ``task``,
        ``model_name``, ``dataset``, ``split``, ``backend``, ``created``, ``notes``, ``figures``.
    """
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}, got {task!r}.")
    if tta not in TTA:
        raise ValueError(f"`tta` must be one of {TTA}, got {tta!r}.")
    from lensml.models.tta import D4TTA

    if isinstance(model, D4TTA):  # the wrapper's own model is what Grad-CAM and interpretability read
        model, tta = model.model, "d4"
    predictor = D4TTA(model, spatial_output=task == "super_resolution") if tta == "d4" else model
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = log or (lambda message: None)
    inputs, targets = as_arrays(dataset, max_examples=max_examples)
    if tta == "d4" and inputs.shape[1] != inputs.shape[2]:
        raise ValueError(f"`tta`='d4' needs square images, got shape {inputs.shape[1:]}.")
    say(f"predicting {inputs.shape[0]} examples (batch {batch_size}) ...")
    import sys

    outputs = np.asarray(predictor.predict(inputs, batch_size=batch_size, verbose=1 if sys.stdout.isatty() else 0))
    say(f"metrics and figures ({task}) ...")
    if outputs.shape[0] != inputs.shape[0]:
        raise ValueError(f"model returned {outputs.shape[0]} outputs for {inputs.shape[0]} inputs.")
    record = {
        "task": task,
        "model_name": model_name or getattr(model, "name", "model"),
        "dataset": dataset_name,
        "split": split,
        "num_examples": int(inputs.shape[0]),
        "tta": tta,
        "backend": _backend(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "notes": [],
        "figures": {},
    }
    figures = record["figures"]
    if task == "classification":
        _classification(model, inputs, targets, outputs, class_names, out, record, figures,
                        preprocess=preprocess, gradcam=gradcam, gradcam_layer=gradcam_layer,
                        num_gradcam=num_gradcam, ece_bins=ece_bins, tta=tta)
        if interpretability:
            say("interpretability: activation patching, linear probes, equivariance error ...")
            from lensml.evaluation.interpretability import interpretability_summary

            from lensml.data.subset import stratified_subset

            labels = _labels(targets)
            keep = stratified_subset(labels, min(1.0, num_interpretability / len(labels)), seed=0)
            summary = interpretability_summary(model, inputs[keep], labels[keep], out, layers=interpretability_layers)
            if tta:
                summary["notes"].append("interpretability reads the model without test-time augmentation (the D4 "
                                        "average is invariant by construction, so its patching would be zero).")
            figures.update(summary.pop("figures"))
            record["notes"] += summary.pop("notes")
            record["interpretability"] = summary
    elif task == "regression":
        if outputs.ndim > 2 or (outputs.ndim == 2 and outputs.shape[1] != 1):
            raise ValueError(f"a regression model must output (B,) or (B, 1) values, got shape {outputs.shape}.")
        record.update(regression_metrics(targets, outputs.reshape(-1)))
        figures["predicted_vs_true"] = plots.plot_predicted_vs_true(targets, outputs, out / "predicted_vs_true.png").name
    else:
        if outputs.shape != np.shape(targets):
            raise ValueError(f"super-resolution outputs have shape {outputs.shape} but the HR targets have {np.shape(targets)}.")
        record.update(super_resolution_metrics(inputs, outputs, targets))
        bicubic = bicubic_upsample(inputs[:3], np.shape(targets)[1:3])
        figures["super_resolution"] = plots.plot_super_resolution(
            inputs, outputs, targets, out / "super_resolution.png", bicubic=bicubic).name
    if history is not None:
        figures["training_curves"] = plots.plot_training_curves(history, out / "training_curves.png").name
    write_json_atomic(out / "metrics.json", record, default=_json_default)
    write_text_atomic(out / "report.md", render_report(record))
    return record


def _classification(model, images, targets, outputs, class_names, out, record, figures, *, preprocess, gradcam,
                    gradcam_layer, num_gradcam, ece_bins, tta=None):
    if outputs.ndim != 2:
        raise ValueError(f"a classifier must output (N, classes) scores, got shape {outputs.shape}.")
    if class_names is None:
        class_names = DEFAULT_CLASS_NAMES if outputs.shape[1] == len(DEFAULT_CLASS_NAMES) else [
            f"class_{i}" for i in range(outputs.shape[1])]
    class_names = [str(c) for c in class_names]
    if outputs.shape[1] != len(class_names):
        raise ValueError(
            f"the model outputs shape {outputs.shape} but the dataset has {len(class_names)} classes "
            f"{class_names}; expected (N, {len(class_names)})."
        )
    probs, converted = to_probabilities(outputs)
    if converted:
        record["notes"].append("model outputs are not probabilities; softmax applied before the metrics.")
    labels = _labels(targets)
    metrics = classification_metrics(labels, probs, class_names, ece_bins=ece_bins)
    record.update(metrics)
    # every lens's prediction, for intervals and paired comparisons of runs on one test set
    # (lensml.evaluation.intervals)
    with atomic_target(out / "predictions.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, labels=labels.astype(np.int32), probs=probs)
    record["predictions"] = "predictions.npz"
    figures["roc"] = plots.plot_roc_curves(labels, probs, class_names, out / "roc.png").name
    figures["confusion_matrix"] = plots.plot_confusion_matrix(metrics["confusion_matrix"], class_names, out / "confusion_matrix.png").name
    figures["reliability"] = plots.plot_reliability_diagram(labels, probs, out / "reliability.png", num_bins=ece_bins).name
    figures["samples"] = plots.plot_sample_grid(images, labels, class_names, out / "samples.png").name
    if gradcam:
        _gradcam_figure(model, images[:num_gradcam], labels[:num_gradcam], probs[:num_gradcam].argmax(axis=1),
                        class_names, out, record, figures, preprocess, gradcam_layer, tta)


def _gradcam_figure(model, images, labels, predicted, class_names, out, record, figures, preprocess, layer, tta=None):
    from lensml.evaluation.gradcam import d4_grad_cam, grad_cam

    try:
        # the map explains the class the report predicted (the TTA's, with tta)
        heatmaps = (d4_grad_cam if tta == "d4" else grad_cam)(model, images, layer=layer, class_index=predicted)
    except ValueError as error:
        if layer is not None:
            raise
        record["notes"].append(f"Grad-CAM skipped: {error}")
        return
    pre = None
    if preprocess == "physics":
        try:
            from keras import ops

            from lensml.physics import PhysicsPreprocessing

            pre = ops.convert_to_numpy(PhysicsPreprocessing()(images))
        except (ImportError, AttributeError) as error:
            record["notes"].append(f"physics-preprocessed Grad-CAM view skipped: {error}")
    elif callable(preprocess):
        pre = np.asarray(preprocess(images))
    titles = [f"true {class_names[t]}, predicted {class_names[p]}" for t, p in zip(labels, predicted)]
    figures["gradcam"] = plots.plot_gradcam(images, heatmaps, out / "gradcam.png", preprocessed=pre, titles=titles).name


def _labels(targets) -> np.ndarray:
    """(N,) int labels from (N,), (N, 1) or one-hot (N, C) targets."""
    labels = np.asarray(targets)
    return labels.argmax(axis=1) if labels.ndim == 2 and labels.shape[1] > 1 else labels.reshape(-1)


def to_probabilities(outputs: np.ndarray) -> tuple[np.ndarray, bool]:
    """(probabilities (N, C), converted?) — softmax unless rows already are probabilities."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if np.all(outputs >= 0) and np.all(outputs <= 1) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3):
        return outputs, False
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True), True


def render_report(record: dict) -> str:
    """Markdown report for a metrics.json record: provenance, tables, every figure."""
    m = record
    lines = [f"# Evaluation: {record['model_name']}", "", "| | |", "|---|---|"]
    for key in ("task", "dataset", "split", "num_examples", "tta", "backend", "created"):
        value = record.get(key)
        lines.append(f"| {key} | {'none' if key == 'tta' and value is None else value} |")
    lines += ["", "## Metrics", ""]
    if record["task"] == "classification":
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| accuracy | {m['accuracy']:.4f} |", f"| micro F1 | {m['micro_f1']:.4f} |",
                  f"| macro F1 | {m['macro_f1']:.4f} |", f"| macro ROC AUC (one vs rest) | {_fmt(m['macro_auc'])} |",
                  f"| micro-averaged ROC AUC | {_fmt(m.get('micro_auc'))} |",
                  f"| expected calibration error ({m['ece_bins']} equal-width bins) | {m['ece']:.4f} |", ""]
        lines += ["| class | ROC AUC | F1 |", "|---|---|---|"]
        lines += [f"| {n} | {_fmt(m['auc_per_class'][n])} | {m['f1_per_class'][n]:.4f} |" for n in m["class_names"]]
        lines += ["", "Confusion matrix (rows true, columns predicted):", ""]
        lines += ["| | " + " | ".join(m["class_names"]) + " |", "|---" * (len(m["class_names"]) + 1) + "|"]
        lines += [f"| {n} | " + " | ".join(str(v) for v in row) + " |" for n, row in zip(m["class_names"], m["confusion_matrix"])]
    elif record["task"] == "regression":
        lines += ["| metric | value |", "|---|---|", f"| MAE (dex) | {m['mae']:.4f} |", f"| RMSE (dex) | {m['rmse']:.4f} |",
                  f"| R^2 | {_fmt(m['r2'])} |"]
    else:
        lines += [f"| method | PSNR (dB) | SSIM |", "|---|---|---|",
                  f"| model | {m['psnr']:.2f} | {m['ssim']:.4f} |",
                  f"| bicubic (reference) | {m['bicubic_psnr']:.2f} | {m['bicubic_ssim']:.4f} |", "",
                  f"PSNR/SSIM with data range {m['data_range']:.4g} (scikit-image)."]
    if "interpretability" in record:
        lines += ["", "## Interpretability", "", _interpretability_table(record["interpretability"])]
    if record["notes"]:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in record["notes"]]
    if record["figures"]:
        lines += ["", "## Figures", ""]
        for title, file in record["figures"].items():
            lines += [f"### {title.replace('_', ' ')}", "", f"![{title}]({file})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _interpretability_table(summary: dict) -> str:
    probes = summary.get("probes", {})
    eq = summary.get("equivariance", {})
    d4 = summary.get("d4_probe", {})
    lines = ["Per layer (site): output change when the activation is patched from a D4-transformed image "
             "(mean L2 over the 7 non-identity elements), linear-probe accuracy of the class"
             + (f" ({summary['probe_folds']}-fold, chance {summary['probe_chance']:.3f})" if probes else "")
             + ", relative D4 equivariance error, and accuracy of the probe of which D4 element was applied"
             " (chance 1/7 = 0.143).", "",
             "| layer | patching delta | class probe | equivariance error | D4-element probe |", "|---|---|---|---|---|"]
    for name in summary["layers"]:
        lines.append(f"| {name} | {summary['patching'][name]:.4g} | {_fmt(probes.get(name))} | {_fmt(eq.get(name))} "
                     f"| {_fmt(d4.get(name))} |")
    return "\n".join(lines)


def _fmt(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _backend() -> str:
    try:
        import keras

        return keras.backend.backend()
    except ImportError:  # pragma: no cover - keras is a dependency
        return "unknown"


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to metrics.json")
