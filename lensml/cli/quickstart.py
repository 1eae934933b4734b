"""``lensml [--backend jax] quickstart [--out quickstart-report] [--family model_ii] ...``.

Builds the stored validation/test splits of a ``deeplense`` dataset through TFDS, trains
ResNet18 and LensPINN small on fresh lenses with the same seed, evaluates both (stored test
split and fresh lenses) and writes a report folder (see
:mod:`lensml.protocols.quickstart`).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lensml.protocols.quickstart import BATCH_SIZE, DEFAULT_FAMILY, FRESH_LENSES, PER_CLASS, TRAINING_MINUTES
    from lensml.simulation.families import PUBLISHED_FAMILIES, REALISTIC_FAMILIES

    parser.add_argument("--out", default="quickstart-report", help="report folder (default: quickstart-report)")
    parser.add_argument("--family", default=DEFAULT_FAMILY, choices=list(PUBLISHED_FAMILIES + REALISTIC_FAMILIES),
                        help=f"dataset family (default: {DEFAULT_FAMILY}, the Euclid-like 64x64 data as published; "
                             "model_ii: the realistic one with noise)")
    parser.add_argument("--models", default="resnet18,lenspinn_small",
                        help="comma-separated model names (default: resnet18,lenspinn_small)")
    parser.add_argument("--per-class", "--size", dest="per_class", type=int, default=PER_CLASS,
                        help=f"examples per class of the stored splits, 72/8/20%% train/validation/test "
                             f"(default: {PER_CLASS})")
    parser.add_argument("--source", default="stream", choices=["stream", "stored"],
                        help="train on fresh simulated lenses (default) or on the stored training split")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per model (default: per model)")
    parser.add_argument("--steps-per-epoch", type=int, default=None,
                        help="stream batches per epoch (default: per model)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"batch size (default: {BATCH_SIZE})")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="peak learning rate (default: each model's recipe)")
    parser.add_argument("--fresh", type=int, default=FRESH_LENSES,
                        help=f"fresh test lenses of an unseen seed (default: {FRESH_LENSES})")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    parser.add_argument("--data-dir", default=None, help="TFDS data dir (default: ~/tensorflow_datasets)")
    parser.add_argument("--minutes", type=float, default=TRAINING_MINUTES,
                        help=f"wall-time budget for training all models (default: {TRAINING_MINUTES:g}); a model whose "
                        "share runs out stops early and the report says how many lenses it saw; 0: no budget")
    parser.add_argument("--tiny", action="store_true",
                        help="a few images, one epoch, narrow models: an end-to-end smoke test (about 40 s on TensorFlow, "
                        "2 min on JAX)")


def main(args) -> int:
    import sys

    from lensml.protocols.quickstart import run_quickstart

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    try:
        run_quickstart(args.out, family=args.family, models=models, per_class=args.per_class, epochs=args.epochs,
                       steps_per_epoch=args.steps_per_epoch, batch_size=args.batch_size, seed=args.seed,
                       learning_rate=args.learning_rate, data_dir=args.data_dir, tiny=args.tiny,
                       source=args.source, fresh=args.fresh, minutes=args.minutes or None)
    except (ValueError, TypeError) as e:
        print(f"lensml quickstart: {e}", file=sys.stderr)
        return 2
    return 0
