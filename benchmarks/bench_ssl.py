"""SSL benchmarks (run by hand, not by CI).

1. Speed: pretraining steps/s of every trainer, TF vs JAX, 64x64 images, batch 64, one
   subprocess per backend (the backend is fixed at import time):

       python benchmarks/bench_ssl.py speed --steps 5 --encoder resnet18

   TF runs its graph path (jit_compile=False, the fast one on CPU) and, with --tf-xla, XLA
   too; JAX always compiles with XLA. The first step (compilation) is timed separately.

2. Label efficiency: SSL-pretrained vs from-scratch, the same encoder, head, seeds and
   10 % of the labels, on a built DeepLense TFDS dataset (read from its folder):

       python benchmarks/bench_ssl.py label-efficiency --data-dir ~/tensorflow_datasets/deeplense/model_ii_n300/1.0.0 \
           --method simclr --encoder resnet18 --pretrain-epochs 10 --finetune-epochs 20 --fraction 0.1

   Prints test accuracy and macro one-vs-rest AUC for both, per seed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINERS = ["simclr", "byol", "simsiam", "dino", "mae", "ijepa", "lens_jepa"]


def _trainer(name, encoder, size):
    from lensml.ssl.factory import build_trainer

    shape = (size, size, 1)
    if name in ("mae", "ijepa", "lens_jepa"):
        return build_trainer(name, shape, seed=0)
    return build_trainer(name, shape, encoder=encoder, seed=0)


def speed_worker(args):
    import keras
    import numpy as np

    images = np.random.default_rng(0).random((args.batch, args.size, args.size, 1)).astype("float32")
    modes = [True] if keras.backend.backend() == "jax" else ([False, True] if args.tf_xla else [False])
    for name in args.trainers:
        for jit in modes:
            keras.utils.set_random_seed(0)
            model = _trainer(name, args.encoder, args.size)
            model.compile(optimizer=keras.optimizers.AdamW(1e-4), jit_compile=jit)
            t0 = time.perf_counter()
            model.train_on_batch(images)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            for _ in range(args.steps):
                loss = model.train_on_batch(images)
            dt = time.perf_counter() - t0
            print(json.dumps({"trainer": name, "backend": keras.backend.backend(), "jit": jit,
                              "params": int(model.count_params()), "first_step_s": round(first, 2),
                              "steps_per_s": round(args.steps / dt, 3), "loss": float(loss)}),
                  flush=True)


def speed(args):
    rows = []
    for backend in args.backends:
        cmd = [sys.executable, __file__, "speed-worker", "--steps", str(args.steps), "--batch",
               str(args.batch), "--size", str(args.size), "--encoder", args.encoder,
               "--trainers", *args.trainers] + (["--tf-xla"] if args.tf_xla else [])
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
    print(f"\nSSL pretraining speed: {args.size}x{args.size}, batch {args.batch}, "
          f"image encoder {args.encoder}, {args.steps} timed steps after the first\n")
    print(f"| trainer | backend | jit_compile | params | first step (s) | steps/s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['trainer']} | {r['backend']} | {r['jit']} | {r['params']:,} | "
              f"{r['first_step_s']} | {r['steps_per_s']} |")


def _load_split(data_dir, split):
    """(images min-max normalised as the library does, labels) of a built TFDS folder."""
    import tensorflow_datasets as tfds

    from lensml.evaluation.inputs import minmax_normalize

    data = tfds.as_numpy(tfds.builder_from_directory(data_dir).as_dataset(split=split, batch_size=-1))
    return minmax_normalize(data["image"].astype("float32")), data["label"].astype("int32")


def label_efficiency(args):
    import keras
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from lensml.evaluation import stratified_subset
    from lensml.evaluation.aggregation import mean_std
    from lensml.ssl.factory import build_image_encoder, build_trainer
    from lensml.ssl.finetune import build_classifier

    x_train, y_train = _load_split(args.data_dir, "train")
    x_test, y_test = _load_split(args.data_dir, "test")
    size = x_train.shape[1]
    jit = keras.backend.backend() == "jax"
    print(f"data: {args.data_dir}: train {len(x_train)}, test {len(x_test)}, {size}x{size}; "
          f"backend {keras.backend.backend()}", flush=True)
    rows = []
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        t0 = time.time()
        trainer = build_trainer(args.method, (size, size, 1), encoder=args.encoder, seed=seed,
                                **({"total_steps": args.pretrain_epochs * len(x_train) // args.batch}
                                   if args.method in ("byol", "dino") else {}))
        trainer.compile(optimizer=keras.optimizers.AdamW(args.pretrain_lr), jit_compile=jit)
        hist = trainer.fit(x_train, batch_size=args.batch, epochs=args.pretrain_epochs, verbose=0,
                           shuffle=True)
        pre_time = time.time() - t0
        keep = stratified_subset(y_train, args.fraction, seed)  # the protocol's subset (lensml.evaluation)
        for variant in ("ssl", "scratch"):
            keras.utils.set_random_seed(seed)
            if variant == "ssl":
                encoder = trainer.encoder if not hasattr(trainer, "image_encoder") else trainer.image_encoder()
            else:
                encoder = build_image_encoder(args.encoder, (size, size, 1)) \
                    if args.method not in ("mae", "ijepa", "lens_jepa") else \
                    build_trainer(args.method, (size, size, 1), seed=seed + 100).image_encoder()
            model = build_classifier(encoder, 3, mode=args.mode, hidden=(64,))
            model.compile(keras.optimizers.AdamW(args.finetune_lr), "sparse_categorical_crossentropy",
                          metrics=["accuracy"], jit_compile=jit)
            t1 = time.time()
            model.fit(x_train[keep], y_train[keep], batch_size=min(args.batch, len(keep)),
                      epochs=args.finetune_epochs, verbose=0, shuffle=True)
            probs = np.asarray(model.predict(x_test, batch_size=args.batch, verbose=0))
            acc = float((probs.argmax(1) == y_test).mean())
            auc = float(roc_auc_score(y_test, probs, multi_class="ovr", average="macro"))
            row = {"seed": seed, "variant": variant, "labels": int(len(keep)), "accuracy": acc,
                   "macro_auc": auc, "finetune_s": round(time.time() - t1, 1),
                   "pretrain_s": round(pre_time, 1) if variant == "ssl" else 0.0,
                   "pretrain_final_loss": float(hist.history["loss"][-1]) if variant == "ssl" else None}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\nLabel efficiency: {args.method} ({args.encoder}) pretrained {args.pretrain_epochs} epochs on "
          f"all {len(x_train)} train images (labels unused) vs from scratch; {args.mode} with "
          f"{args.fraction:.0%} of the labels ({rows[0]['labels']}), {args.finetune_epochs} epochs; "
          f"test {len(x_test)} images\n")
    print("| variant | seed | labels | accuracy | macro AUC |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['seed']} | {r['labels']} | {r['accuracy']:.3f} | {r['macro_auc']:.3f} |")
    for variant in ("ssl", "scratch"):
        acc, acc_std, _ = mean_std(r["accuracy"] for r in rows if r["variant"] == variant)
        auc, auc_std, _ = mean_std(r["macro_auc"] for r in rows if r["variant"] == variant)
        print(f"| {variant} mean +- sample std | | | {acc:.3f} +- {acc_std:.3f} | {auc:.3f} +- {auc_std:.3f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode_", required=True)
    for name in ("speed", "speed-worker"):
        p = sub.add_parser(name)
        p.add_argument("--steps", type=int, default=5)
        p.add_argument("--batch", type=int, default=64)
        p.add_argument("--size", type=int, default=64)
        p.add_argument("--encoder", default="resnet18", help="image encoder of SimCLR/BYOL/SimSiam/DINO")
        p.add_argument("--trainers", nargs="+", default=TRAINERS, choices=TRAINERS)
        p.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
        p.add_argument("--tf-xla", action="store_true", help="also time TF with XLA")
    p = sub.add_parser("label-efficiency")
    p.add_argument("--data-dir", required=True, help="a built TFDS dataset folder (…/deeplense/<config>/<version>)")
    p.add_argument("--method", default="simclr", choices=TRAINERS)
    p.add_argument("--encoder", default="resnet18")
    p.add_argument("--mode", default="finetune", choices=["finetune", "linear_probe"])
    p.add_argument("--fraction", type=float, default=0.1)
    p.add_argument("--pretrain-epochs", type=int, default=10)
    p.add_argument("--finetune-epochs", type=int, default=20)
    p.add_argument("--pretrain-lr", type=float, default=1e-3)
    p.add_argument("--finetune-lr", type=float, default=3e-4)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args(argv)
    if args.mode_ == "speed":
        speed(args)
    elif args.mode_ == "speed-worker":
        speed_worker(args)
    else:
        label_efficiency(args)


if __name__ == "__main__":
    main()
