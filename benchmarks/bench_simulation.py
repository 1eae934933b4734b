"""Images per second of the reference simulator (lenstronomy, reusing its ImageModel) and of
the batched simulator (keras.ops, compiled: TF XLA and JAX jit), per family, class and
supersampling, on ONE CPU core (each measuring process is pinned to one core), and their
ratio. Noise-free rendering (the part both do; noise is one fused multiply-add).

    python benchmarks/bench_simulation.py                      # all families, ss 1 and 4
    python benchmarks/bench_simulation.py --families model_ii --supersampling 1 --seconds 2
    python benchmarks/bench_simulation.py --cores 2   # + scaling: one pinned process per core
    python benchmarks/bench_simulation.py --cores all # ... on every core this process may use

At 64x64 and supersampling 1 the table also gives the share of one core's rough FLOP limit
(issue 3's estimate: 45k / 6.5k / 12.5k images/s for no_sub / cdm / axion). With ``--cores N``
the batched simulators also run as N simultaneous processes, one pinned to each core, and the
table gives their summed images/s and the scaling efficiency (sum / (N x one core)).

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
#: Rough FLOP limit of one core at 64x64, supersampling 1 (images/s; issue 3).
FLOP_LIMIT_64 = {"no_sub": 45_000, "cdm": 6_500, "axion": 12_500}


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
    parser.add_argument("--cores", type=_cores, default=1,
                        help="also run the batched simulators on this many cores at once (scaling); "
                             "'all': every usable core")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # The cores this process may use, read before pinning it to one.
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count()))
    _pin(args.core)
    if args.child:
        print(json.dumps(batched_rates(args.families, args.supersampling, args.seconds, args.batch_size)))
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    batched = {b: _children(args, b, [args.core])[0] for b in args.backends}
    reference = reference_rates(args.families, args.supersampling, args.seconds)

    header = f"{'family':10s} {'class':7s} {'ss':>2s} {'lenstronomy':>12s}"
    for b in args.backends:
        header += f" {b[:10]:>11s} {'x':>6s} {'FLOP%':>6s}"
    print(f"images/s on one core (batch {args.batch_size}, noise-free render; FLOP% = share of one "
          "core's rough FLOP limit, 64x64 at supersampling 1 only)")
    print(header)
    print("-" * len(header))
    for key, ref in reference.items():
        fam, c, ss = key.split("/")
        row = f"{fam:10s} {c:7s} {ss:>2s} {ref:12.0f}"
        for b in args.backends:
            rate = batched[b][key]
            limit = FLOP_LIMIT_64[c] if ss == "1" and _num_pix(fam) == 64 else None
            row += f" {rate:11.0f} {rate / ref:6.1f} {f'{100 * rate / limit:5.0f}%' if limit else '-':>6s}"
        print(row)

    cores = available if args.cores == "all" else available[: args.cores]
    if len(cores) > 1:
        print(f"\nscaling: {len(cores)} simultaneous processes pinned to cores {cores} "
              "(summed images/s; efficiency = sum / (processes x one core))")
        header = f"{'family':10s} {'class':7s} {'ss':>2s}" + "".join(
            f" {b[:10] + ' 1 core':>17s} {f'{len(cores)} cores':>9s} {'eff.':>5s}" for b in args.backends)
        print(header)
        print("-" * len(header))
        parallel = {b: _children(args, b, cores) for b in args.backends}
        for key in reference:
            fam, c, ss = key.split("/")
            row = f"{fam:10s} {c:7s} {ss:>2s}"
            for b in args.backends:
                one, total = batched[b][key], sum(r[key] for r in parallel[b])
                row += f" {one:17.0f} {total:9.0f} {total / (len(cores) * one):5.2f}"
            print(row)
    return 0


def _cores(text: str):
    """``--cores``: a positive integer or "all"."""
    if text == "all":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'all', got {text!r}")
    return value


def _num_pix(family: str) -> int:
    from lensml.simulation import get_family

    return get_family(family).instrument.num_pix


def _children(args, backend: str, cores: list[int]) -> list[dict]:
    """Batched rates measured by one child process per core, all running at once."""
    env = dict(os.environ, KERAS_BACKEND=backend,
               XLA_FLAGS=os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false")
    procs = [subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--child", backend, "--core", str(core),
         "--seconds", str(args.seconds), "--batch-size", str(args.batch_size),
         "--families", *args.families, "--supersampling", *map(str, args.supersampling)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for core in cores]
    rates = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"{backend} child failed:\n{err[-3000:]}")
        rates.append(json.loads(out.strip().splitlines()[-1]))
    return rates


if __name__ == "__main__":
    sys.exit(main())
