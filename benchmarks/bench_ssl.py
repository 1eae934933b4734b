"""SSL benchmarks (run by hand, not by CI).

1. Speed: pretraining steps/s of every trainer, TF vs JAX, 64x64 images, batch 64, one
   subprocess per backend (the backend is fixed at import time):

       python benchmarks/bench_ssl.py speed --steps 5 --encoder resnet18

   TF runs its graph path (jit_compile=False, the fast one on CPU) and, with --tf-xla, XLA
   too; JAX always compiles with XLA. The first step (compilation) is timed separately.

2. Label efficiency: SSL-pretrained vs from-scratch, the same encoder, head, seeds and
   label fractions, on a DeepLense TFDS dataset (built from the simulator when missing): a
   wrapper of the library protocol ``lensml.protocols.run_ssl_label_efficiency``:

       python benchmarks/bench_ssl.py label-efficiency --dataset deeplense/model_ii_n300 \
           --method simclr --encoder resnet18 --pretrain-epochs 10 --finetune-epochs 20 --fractions 0.1

   Prints test accuracy and macro one-vs-rest AUC for both, per seed, and the curve's
   summary (mean +- sample std over seeds). The older form, a built folder as ``--data-dir``
   (``--data-dir ~/tensorflow_datasets/deeplense/model_ii_n300/1.0.0 --fraction 0.1``), still works.
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


def _dataset_and_data_dir(dataset, data_dir):
    """(dataset name, TFDS data_dir): as given, or read from a built dataset folder
    ``<data_dir>/deeplense/<config>/<version>`` passed as ``--data-dir`` alone (the older form)."""
    from pathlib import Path

    if dataset:
        return dataset, data_dir
    folder = Path(data_dir or "").expanduser()
    if len(folder.parts) < 3 or folder.parts[-3] != "deeplense":
        raise SystemExit(f"--dataset: required unless --data-dir is a built dataset folder "
                         f"<data_dir>/deeplense/<config>/<version>; got --data-dir {data_dir!r}")
    return f"deeplense/{folder.parts[-2]}", str(folder.parents[2])


def label_efficiency(args):
    """``lensml.protocols.run_ssl_label_efficiency`` on configs made from the arguments."""
    import keras

    from lensml.training import config_from_dict
    from lensml.protocols import run_ssl_label_efficiency

    dataset, data_dir = _dataset_and_data_dir(args.dataset, args.data_dir)
    common = {"seeds": list(args.seeds), "output": {"dir": args.out}}
    data = {"dataset": dataset, "data_dir": data_dir, "batch_size": args.batch, "normalization": "minmax"}
    options = {"encoder": args.encoder} if args.method not in ("mae", "ijepa", "lens_jepa") else {}
    pretrain = config_from_dict({**common, "name": f"pretrain_{args.method}",
                                 "data": {**data, "val_split": "", "test_split": ""},
                                 "model": {"name": args.method, "options": options},
                                 "training": {"epochs": args.pretrain_epochs, "optimizer": "adamw",
                                              "learning_rate": args.pretrain_lr, "metrics": [], "monitor": "loss",
                                              "verbose": 0}})
    finetune = config_from_dict({**common, "name": f"{args.method}_{args.mode}",
                                 "data": data,
                                 "model": {"name": "pretrained", "options": {"encoder_path": "per seed", "mode": args.mode,
                                                                            "hidden": [64]}},
                                 "training": {"epochs": args.finetune_epochs, "optimizer": "adamw",
                                              "learning_rate": args.finetune_lr,
                                              "metrics": ["accuracy", "macro_auc"], "verbose": 0}})
    print(f"data: {dataset} ({data_dir or '~/tensorflow_datasets'}); backend {keras.backend.backend()}",
          flush=True)
    result = run_ssl_label_efficiency(pretrain, finetune, args.fractions)
    print(f"\nLabel efficiency: {args.method} ({args.encoder}) pretrained {args.pretrain_epochs} epochs on "
          f"all train images (labels unused) vs the same encoder from scratch; {args.mode}, "
          f"{args.finetune_epochs} epochs at each label fraction; the test split\n")
    print("| series | fraction | seed | accuracy | macro AUC |")
    print("|---|---|---|---|---|")
    for r in result["records"]:
        m = r["metrics"]
        print(f"| {r['series']} | {r['fraction']:g} | {r['seed']} | {m['test_accuracy']:.3f} | {m['test_macro_auc']:.3f} |")
    print(f"\nmean +- sample std over seeds: {result['paths']['summary']}")
    print(open(result["paths"]["summary"]).read())


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
    p.add_argument("--dataset", default=None, help="a deeplense dataset name, e.g. deeplense/model_ii_n300")
    p.add_argument("--data-dir", default=None, help="the TFDS data_dir (default ~/tensorflow_datasets); without "
                   "--dataset, a built dataset folder <data_dir>/deeplense/<config>/<version>")
    p.add_argument("--out", default="runs/bench_ssl_label_efficiency", help="where the runs and the curve go")
    p.add_argument("--method", default="simclr", choices=TRAINERS)
    p.add_argument("--encoder", default="resnet18")
    p.add_argument("--mode", default="finetune", choices=["finetune", "linear_probe"])
    p.add_argument("--fractions", "--fraction", type=float, nargs="+", default=[0.1])
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
