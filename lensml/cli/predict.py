"""``lensml predict MODEL INPUTS... --out predictions.csv``: a trained model applied to images
without labels (FITS, .npy, PNG / TIFF files or folders, or a ``deeplense/...`` dataset), one row
per image (``lensml.evaluation.predict``)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a saved model (.keras), a preset folder, a preset name "
                                      "(lensml.models.list_presets()) or hf://owner/name")
    parser.add_argument("inputs", nargs="+",
                        help="image files or folders (.fits, .npy, .png, .tif) or one deeplense/<config> dataset")
    parser.add_argument("--out", required=True, help="the table to write (predictions.csv / .json / .parquet)")
    parser.add_argument("--format", choices=["csv", "json", "parquet"], default=None,
                        help="default: from the suffix of --out")
    parser.add_argument("--hdu", type=int, default=None, help="FITS HDU to read (default: the first 2-D image)")
    parser.add_argument("--pixel-scale", type=float, default=None,
                        help="arcsec per pixel of images whose file does not state it (FITS WCS / PIXSCALE do)")
    parser.add_argument("--resample", action="store_true",
                        help="resample images of another pixel scale to the model's (flux-conserving) and cut the "
                             "model's size out of larger images, instead of stopping with an error")
    parser.add_argument("--masked", choices=["error", "fill"], default="error",
                        help="NaN / inf pixels: stop (default) or fill them with the median of the image's finite pixels")
    parser.add_argument("--class-names", default=None, help="comma-separated, in the model's output order")
    parser.add_argument("--split", default="test", help="split of a deeplense/<config> input (default: test)")
    parser.add_argument("--data-dir", default=None, help="TFDS data_dir of a deeplense/<config> input")
    parser.add_argument("--batch-size", type=int, default=64)


def main(args: argparse.Namespace) -> int:
    import math

    from lensml.evaluation.predict import load_model_or_preset, predict, write_table

    try:
        if args.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
        if args.pixel_scale is not None and not (math.isfinite(args.pixel_scale) and args.pixel_scale > 0):
            raise ValueError(f"--pixel-scale must be a finite number > 0 (arcsec), got {args.pixel_scale}")
        model = load_model_or_preset(args.model)
        inputs = args.inputs[0] if len(args.inputs) == 1 and args.inputs[0].startswith("deeplense/") else args.inputs
        names = [c.strip() for c in args.class_names.split(",")] if args.class_names else None
        table = predict(model, inputs, hdu=args.hdu, pixel_scale=args.pixel_scale, resample=args.resample,
                        masked=args.masked, class_names=names, batch_size=args.batch_size, split=args.split,
                        data_dir=args.data_dir, verbose=1 if sys.stderr.isatty() else 0)
        path = write_table(table, args.out, args.format)
    except (FileNotFoundError, ValueError) as error:
        print(f"lensml predict: error: {error}", file=sys.stderr)
        return 2
    counts = table["predicted_class"].value_counts().to_dict() if "predicted_class" in table else {}
    print(f"wrote {len(table)} predictions to {path}" + (f": {counts}" if counts else ""))
    return 0
