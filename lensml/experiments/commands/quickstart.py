"""``lensml [--backend jax] quickstart [--out quickstart-report] [--family model_ii] ...``.

Builds a small ``deeplense`` dataset through TFDS, trains ResNet18 and LensPINN small on the
same split and seed, evaluates both and writes a report folder (see
:mod:`lensml.experiments.quickstart`).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="quickstart-report", help="report folder (default: quickstart-report)")
    parser.add_argument("--family", default="model_ii", choices=["model_i", "model_ii", "model_iii"],
                        help="dataset family (default: model_ii, Euclid-like 64x64)")
    parser.add_argument("--models", default="resnet18,lenspinn_small",
                        help="comma-separated model names (default: resnet18,lenspinn_small)")
    parser.add_argument("--per-class", "--size", dest="per_class", type=int, default=300,
                        help="examples per class in all, split 72/8/20%% train/validation/test (default: 300)")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs per model (default: 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="AdamW peak learning rate (default: 1e-3)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    parser.add_argument("--data-dir", default=None, help="TFDS data dir (default: ~/tensorflow_datasets)")
    parser.add_argument("--tiny", action="store_true",
                        help="a few images, one epoch, narrow models: an end-to-end smoke test in about a minute")


def main(args) -> int:
    import sys

    from lensml.experiments.quickstart import run_quickstart

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    try:
        run_quickstart(args.out, family=args.family, models=models, per_class=args.per_class, epochs=args.epochs,
                       batch_size=args.batch_size, seed=args.seed, learning_rate=args.learning_rate,
                       data_dir=args.data_dir, tiny=args.tiny)
    except (ValueError, TypeError) as e:
        print(f"lensml quickstart: {e}", file=sys.stderr)
        return 2
    return 0
