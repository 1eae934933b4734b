"""``lensml evaluate``: evaluate a saved model under the protocol and write a report folder."""

from __future__ import annotations

import argparse
import sys

from lensml.simulation.targets import DEFAULT_TARGET, target_names, task_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="saved model (.keras)")
    parser.add_argument("--data", required=True,
                        help="dataset name (e.g. deeplense/model_ii_3k, read with lensml.data.pipeline) or a folder "
                             "of .npy files in the DeepLense layout (<dir>[/<split>]/<class>/*.npy)")
    parser.add_argument("--split", default="test", help="split to evaluate (default: test)")
    parser.add_argument("--out", required=True, help="output folder for metrics.json, report.md and PNGs")
    parser.add_argument("--task", choices=sorted(DEFAULT_TARGET), default="classification")
    parser.add_argument("--target", default=None,
                        choices=[t for t in target_names() if task_of(t)],
                        help="what the model predicts (default: the task's usual target: "
                             + ", ".join(f"{task} -> {t}" for task, t in DEFAULT_TARGET.items())
                             + "); e.g. --task regression --target theta_E")
    parser.add_argument("--class-names", default=None,
                        help="comma-separated, in label order (default: the dataset family's classes; "
                             "no_sub,cdm,axion for a folder of .npy files)")
    parser.add_argument("--model-name", default=None, help="name in the report (default: the model's name)")
    parser.add_argument("--history", default=None, help="Keras CSVLogger file for the training-curve figure")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-examples", type=int, default=None, help="evaluate only the first N examples")
    parser.add_argument("--data-dir", default=None, help="TFDS data_dir for dataset names")
    parser.add_argument("--gradcam-layer", default=None, help="layer for Grad-CAM (default: the last convolution)")
    parser.add_argument("--no-gradcam", action="store_true", help="skip the Grad-CAM figure")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out folder (default: refuse it, so reports are never mixed)")
    parser.add_argument("--interpretability", action="store_true",
                        help="add per-layer D4 activation patching, linear probes and equivariance error (classification)")
    parser.add_argument("--interpretability-layers", default=None,
                        help="comma-separated sites for --interpretability: layer names, or name/k for output k of a "
                             "layer with several (e.g. poisson/0 for D4LensPINN's convergence, poisson/1 for its "
                             "deflection); default every top-level layer (each output of multi-output layers)")
    parser.add_argument("--tta", choices=("none", "d4"), default="none",
                        help="test-time augmentation: d4 averages the model over the 8 rotations / reflections of "
                             "each image (metrics; Grad-CAM averages the 8 back-transformed maps)")


def main(args: argparse.Namespace) -> int:
    import pathlib

    from lensml._io import staged_folder
    from lensml.evaluation.aggregation import flatten_metrics
    from lensml.evaluation.inputs import load_data, load_keras_model
    from lensml.evaluation.report import evaluate_model

    if pathlib.Path(args.out).exists() and not args.overwrite:
        print(f"lensml evaluate: error: --out {args.out!r} already exists; choose a new folder or pass --overwrite "
              "to replace it (a report's figures are never mixed with another's)", file=sys.stderr)
        return 2
    def say(message):
        print(f"[lensml evaluate] {message}", flush=True)

    target = args.target or DEFAULT_TARGET[args.task]
    if task_of(target) != args.task:
        print(f"lensml evaluate: error: --target {target!r} is tested under the {task_of(target)} task, "
              f"not --task {args.task}", file=sys.stderr)
        return 2
    try:
        say(f"loading {args.model} and {args.data} ...")
        model = load_keras_model(args.model)
        data = load_data(args.data, split=args.split, target=target, batch_size=args.batch_size,
                         max_examples=args.max_examples, data_dir=args.data_dir)
        class_names = ([c.strip() for c in args.class_names.split(",") if c.strip()] if args.class_names
                       else data["class_names"])
        # written into a staging folder renamed to --out when complete: a killed evaluation leaves no report
        with staged_folder(args.out) as stage:
            record = evaluate_model(
                model, (data["images"], data["targets"]), args.task, stage,
                class_names=class_names if args.task == "classification" else None,
                model_name=args.model_name, dataset_name=args.data, split=args.split, history=args.history,
                gradcam=not args.no_gradcam, gradcam_layer=args.gradcam_layer, batch_size=args.batch_size,
                interpretability=args.interpretability, log=say,
                interpretability_layers=([c.strip() for c in args.interpretability_layers.split(",") if c.strip()]
                                         if args.interpretability_layers else None),
                tta=None if args.tta == "none" else args.tta,
            )
    except (FileNotFoundError, ValueError, ImportError) as error:
        print(f"lensml evaluate: error: {error}", file=sys.stderr)
        return 2
    wanted = ("accuracy", "macro_auc", "mae", "rmse", "r2", "psnr", "ssim", "bicubic_psnr", "bicubic_ssim")
    headline = {k: round(v, 4) for k, v in flatten_metrics(record).items() if k in wanted}
    print(f"wrote {args.out}/report.md and metrics.json: {headline}")
    return 0
