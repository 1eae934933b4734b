"""Images per second of the reference simulator (lenstronomy, reusing its ImageModel) and of
the batched simulator (keras.ops, compiled: TF XLA and JAX jit), per family, class and
supersampling, on ONE CPU core (each measuring process is pinned to one core), and their
ratio. Noise-free rendering (the part both do; noise is one fused multiply-add).

    python benchmarks/bench_simulation.py                      # all families, ss 1 and 4
    python benchmarks/bench_simulation.py --families model_ii --supersampling 1 --seconds 2

The batched numbers for each backend come from a child process (the Keras backend is fixed
per process). On a shared machine, compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

CLASSES = ("no_sub", "cdm", "axion")


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def _rate(fn, count_per_call: int, seconds: float) -> float:
    fn()  # warm-up (compilation, caches)
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 2:
            return calls * count_per_call / elapsed


def reference_rates(families, supersamplings, seconds) -> dict:
    import numpy as np

    from lensml.simulation import get_family, reference_simulator, sample_parameters

    out = {}
    for fam in families:
        for ss in supersamplings:
            sim = reference_simulator(get_family(fam), ss)
            for c in CLASSES:
                params = sample_parameters(fam, c, np.random.default_rng(0), batch_size=8)
                out[f"{fam}/{c}/{ss}"] = _rate(lambda: sim.render(params), 8, seconds)
    return out


def batched_rates(families, supersamplings, seconds, batch_size) -> dict:
    import keras
    import numpy as np

    from lensml.data.stream import compile_for_backend
    from lensml.simulation import sample_parameters
    from lensml.simulation.batched import BatchedSimulator

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    out = {}
    for fam in families:
        for ss in supersamplings:
            sim = BatchedSimulator(fam, ss)
            render = compile_for_backend(sim.render)
            for c in CLASSES:
                params = sim.tensors(sample_parameters(fam, c, np.random.default_rng(0), batch_size=batch_size))
                out[f"{fam}/{c}/{ss}"] = _rate(
                    lambda: keras.ops.convert_to_numpy(render(params)), batch_size, seconds)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="+", default=["model_i", "model_ii", "model_iii"])
    parser.add_argument("--supersampling", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per cell (after warm-up)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin every measurement to")
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _pin(args.core)
    if args.child:
        print(json.dumps(batched_rates(args.families, args.supersampling, args.seconds, args.batch_size)))
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    batched = {}
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend,
                   XLA_FLAGS=os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false")
        cmd = [sys.executable, os.path.abspath(__file__), "--child", backend, "--core", str(args.core),
               "--seconds", str(args.seconds), "--batch-size", str(args.batch_size),
               "--families", *args.families, "--supersampling", *map(str, args.supersampling)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        batched[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    reference = reference_rates(args.families, args.supersampling, args.seconds)

    header = f"{'family':10s} {'class':7s} {'ss':>2s} {'lenstronomy':>12s}"
    for b in args.backends:
        header += f" {b[:10]:>11s} {'x':>6s}"
    print(f"images/s on one core (batch {args.batch_size}, noise-free render)")
    print(header)
    print("-" * len(header))
    for key, ref in reference.items():
        fam, c, ss = key.split("/")
        row = f"{fam:10s} {c:7s} {ss:>2s} {ref:12.0f}"
        for b in args.backends:
            rate = batched[b][key]
            row += f" {rate:11.0f} {rate / ref:6.1f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
