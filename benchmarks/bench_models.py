"""Training speed and peak memory of lensml models, three ways: TensorFlow graph
(jit_compile=False), TensorFlow XLA (jit_compile=True), and JAX (always jit).

Each (model, mode) runs in its own subprocess (a fresh backend, clean peak memory).
Prints a markdown table: steps/s and peak memory per mode, the mode a user gets by default
(what ``compile`` without ``jit_compile`` picks for a model from ``lensml.models.build`` on each
backend) and the fastest one.

    python benchmarks/bench_models.py --models resnet18,vit --steps 5
    python benchmarks/bench_models.py            # every registered model (slow on CPU)

Peak memory is the device's peak bytes in use on a GPU/TPU, else the worker's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

MODES = {"tf-graph": ("tensorflow", False), "tf-xla": ("tensorflow", True), "jax": ("jax", True)}


def _peak_memory_mb(backend: str) -> tuple[float, str]:
    try:
        if backend == "jax":
            import jax

            dev = jax.devices()[0]
            if dev.platform != "cpu":
                return dev.memory_stats()["peak_bytes_in_use"] / 2**20, dev.platform
        else:
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, "gpu"
    except Exception:  # noqa: BLE001 - fall back to host memory
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "host-rss"


def worker(args) -> None:
    """Runs inside the subprocess: build, compile, warm up, time ``args.steps`` steps."""
    backend, jit = MODES[args.mode]
    import numpy as np
    import keras

    assert keras.backend.backend() == backend, keras.backend.backend()
    import lensml.models as M

    options = json.loads(args.options) if args.options else {}
    model = M.build(args.model, input_shape=(args.size, args.size, 1), num_classes=3, **options)
    # What a user gets: compile() without jit_compile (Keras' "auto", answered by lensml).
    model.compile(optimizer="adamw", loss="sparse_categorical_crossentropy")
    default_jit = bool(model.jit_compile)
    model.compile(optimizer=keras.optimizers.AdamW(1e-4), loss="sparse_categorical_crossentropy",
                  jit_compile=jit)
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, args.size, args.size, 1)).astype("float32")
    y = rng.integers(0, 3, args.batch)
    t0 = time.perf_counter()
    for _ in range(args.warmup):
        model.train_on_batch(x, y)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = model.train_on_batch(x, y)
    elapsed = time.perf_counter() - t0
    peak, where = _peak_memory_mb(backend)
    print("RESULT " + json.dumps({
        "model": args.model, "mode": args.mode, "params": model.count_params(),
        "steps_per_s": args.steps / elapsed, "first_steps_s": compile_s, "peak_mb": peak,
        "memory": where, "loss": float(np.asarray(loss if np.ndim(loss) == 0 else loss[0])),
        "default_jit": default_jit,
    }), flush=True)


def run_one(model: str, mode: str, args) -> dict:
    env = dict(os.environ, KERAS_BACKEND=MODES[mode][0], TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--model", model, "--mode", mode,
           "--batch", str(args.batch), "--size", str(args.size), "--steps", str(args.steps),
           "--warmup", str(args.warmup)]
    if args.options:
        cmd += ["--options", args.options]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"model": model, "mode": mode, "error": f"timeout after {args.timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"model": model, "mode": mode, "error": tail[0][:200]}


def default_mode(rows: dict[str, dict], backend: str) -> str:
    """The mode a user gets by default for one model on ``backend``, as its workers found it
    (``compile`` without ``jit_compile``); "?" when no worker of that backend finished."""
    if backend == "jax":
        return "jax"
    reports = [r["default_jit"] for m, r in rows.items() if m.startswith("tf-") and "default_jit" in r]
    return ("tf-xla" if reports[0] else "tf-graph") if reports else "?"


def table(results: list[dict], modes: list[str]) -> str:
    by_model: dict[str, dict[str, dict]] = {}
    for r in results:
        by_model.setdefault(r["model"], {})[r["mode"]] = r
    head = ["model", "params (M)"]
    head += [f"{m} steps/s" for m in modes] + [f"{m} peak MB" for m in modes]
    head += ["TF default", "JAX default", "best"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, rows in by_model.items():
        params = next((r["params"] for r in rows.values() if "params" in r), None)
        cells = [model, f"{params / 1e6:.2f}" if params else "-"]
        speeds = {m: rows[m]["steps_per_s"] for m in modes if m in rows and "steps_per_s" in rows[m]}
        for m in modes:
            r = rows.get(m, {})
            cells.append(f"{r['steps_per_s']:.3g}" if "steps_per_s" in r else r.get("error", "-")[:40])
        for m in modes:
            r = rows.get(m, {})
            cells.append(f"{r['peak_mb']:.0f}" if "peak_mb" in r else "-")
        for backend in ("tensorflow", "jax"):
            d = default_mode(rows, backend)
            cells.append(f"{d} ({speeds[d]:.3g})" if d in speeds else d)
        best = max(speeds, key=speeds.get) if speeds else "-"
        cells.append(f"{best} ({speeds[best]:.3g})" if speeds else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="", help="comma-separated names (default: all registered)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (compilation)")
    parser.add_argument("--options", default="", help="JSON model options, e.g. '{\"width\": 32}'")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per (model, mode)")
    parser.add_argument("--json", default="", help="also write the raw results to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown modes {unknown}; expected a subset of {list(MODES)}")
    if args.models:
        models = [m for m in args.models.split(",") if m]
    else:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        from lensml.models import available

        models = available()
    results = []
    for model in models:
        for mode in modes:
            r = run_one(model, mode, args)
            results.append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "batch": args.batch,
                       "size": args.size, "steps": args.steps}, f, indent=1)
    print(f"\nbatch {args.batch}, {args.size}x{args.size}x1, {args.steps} timed steps after "
          f"{args.warmup} warm-up steps; default = what compile(jit_compile='auto') picks for the model\n")
    print(table(results, modes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
