"""Speed of the batched physics vs per-image NumPy loops.

Times, on a batch of 256 64x64 images (images per second):

* InverseLens (bilinear splat, exact weighted mean, one segment_sum over the batch)
  against the LensPINN-style reference: a Python loop over images, each splatted with
  positions clipped to the grid, floored to integers, scatter-added with a count map and
  divided by the count;
* the composite deflection of SIE + SHEAR + 25 POINT_MASS (different parameters per image)
  against a per-image loop over lenstronomy's LensModel.

Each backend (TensorFlow graph via tf.function, TensorFlow XLA via
tf.function(jit_compile=True), JAX via jax.jit) runs in its own subprocess; the NumPy references run once in the parent. Usage::

    python benchmarks/bench_physics.py                      # both backends
    python benchmarks/bench_physics.py --backends jax --batch 64
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIXEL_SCALE = 0.101
NUM_SUBHALOS = 25


def make_inputs(batch, num_pix, seed=0):
    """Random images, deflections (arcsec) and lens parameters, float32."""
    rng = np.random.default_rng(seed)
    images = rng.random((batch, num_pix, num_pix, 1)).astype(np.float32)
    # A realistic, smooth deflection field: an SIS of theta_E U(1, 1.7)" per image.
    coords = (np.arange(num_pix) - (num_pix - 1) / 2.0) * PIXEL_SCALE
    y, x = np.meshgrid(coords, coords, indexing="ij")
    r = np.maximum(np.hypot(x, y), 1e-6)
    theta_e = rng.uniform(1.0, 1.7, (batch, 1, 1))
    alpha = np.stack([theta_e * x / r, theta_e * y / r], axis=-1).astype(np.float32)
    lens = {
        "theta_E": rng.uniform(1.0, 1.7, batch),
        "e1": rng.uniform(-0.2, 0.2, batch),
        "e2": rng.uniform(-0.2, 0.2, batch),
        "gamma1": rng.uniform(-0.05, 0.05, batch),
        "gamma2": rng.uniform(-0.05, 0.05, batch),
        "sub_theta_E": rng.uniform(0.001, 0.05, (batch, NUM_SUBHALOS)),
        "sub_x": rng.uniform(-2, 2, (batch, NUM_SUBHALOS)),
        "sub_y": rng.uniform(-2, 2, (batch, NUM_SUBHALOS)),
    }
    return images, alpha, {k: v.astype(np.float32) for k, v in lens.items()}


def best_time(fn, repeats):
    """Best wall time of ``repeats`` calls (after one warm-up call that compiles)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# ----------------------------------------------------------------------------- references
def reference_splat_loop(images, alpha, pixel_scale):
    """LensPINN-style inverse lensing: per-image loop, clip + floor + scatter-add + count."""
    batch, n = images.shape[0], images.shape[1]
    coords = (np.arange(n) - (n - 1) / 2.0) * pixel_scale
    y, x = np.meshgrid(coords, coords, indexing="ij")
    out = np.zeros_like(images)
    for b in range(batch):
        col = (x - alpha[b, ..., 0]) / pixel_scale + (n - 1) / 2.0
        row = (y - alpha[b, ..., 1]) / pixel_scale + (n - 1) / 2.0
        col = np.floor(np.clip(col, 0, n - 1)).astype(np.int64)
        row = np.floor(np.clip(row, 0, n - 1)).astype(np.int64)
        total = np.zeros((n, n))
        count = np.zeros((n, n))
        np.add.at(total, (row, col), images[b, ..., 0])
        np.add.at(count, (row, col), 1.0)
        out[b, ..., 0] = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    return out


def reference_deflection_loop(lens, num_pix, pixel_scale):
    """Per-image lenstronomy LensModel(SIE + SHEAR + 25 POINT_MASS) deflection."""
    from lenstronomy.LensModel.lens_model import LensModel

    model = LensModel(["SIE", "SHEAR"] + ["POINT_MASS"] * NUM_SUBHALOS)
    coords = (np.arange(num_pix) - (num_pix - 1) / 2.0) * pixel_scale
    y, x = np.meshgrid(coords, coords, indexing="ij")
    out = []
    for b in range(lens["theta_E"].shape[0]):
        kwargs = [
            {"theta_E": lens["theta_E"][b], "e1": lens["e1"][b], "e2": lens["e2"][b]},
            {"gamma1": lens["gamma1"][b], "gamma2": lens["gamma2"][b]},
        ] + [
            {"theta_E": lens["sub_theta_E"][b, k], "center_x": lens["sub_x"][b, k], "center_y": lens["sub_y"][b, k]}
            for k in range(NUM_SUBHALOS)
        ]
        out.append(model.alpha(x, y, kwargs))
    return np.asarray(out)


# ------------------------------------------------------------------------------ backends
def run_backend(batch, num_pix, repeats, xla=False):
    """Time lensml.physics on the current KERAS_BACKEND; returns a dict of seconds.

    JAX always compiles with XLA (``jax.jit``); TensorFlow runs as a ``tf.function`` graph,
    with ``xla=True`` as ``tf.function(jit_compile=True)``.
    """
    import keras
    from keras import ops

    sys.path.insert(0, ROOT)
    from lensml.physics import InverseLens, MassModel, pixel_grid_numpy

    backend = keras.backend.backend()
    images, alpha, lens = make_inputs(batch, num_pix)
    layer = InverseLens(pixel_scale=PIXEL_SCALE)
    model = MassModel(["SIE", "SHEAR"] + ["POINT_MASS"] * NUM_SUBHALOS)
    gx, gy = pixel_grid_numpy(num_pix, PIXEL_SCALE)

    def deflection(params):
        col = lambda v: ops.reshape(v, (-1, 1, 1))  # noqa: E731
        kwargs = [
            {"theta_E": col(params["theta_E"]), "e1": col(params["e1"]), "e2": col(params["e2"])},
            {"gamma1": col(params["gamma1"]), "gamma2": col(params["gamma2"])},
        ] + [
            {"theta_E": col(params["sub_theta_E"][:, k]), "center_x": col(params["sub_x"][:, k]),
             "center_y": col(params["sub_y"][:, k])}
            for k in range(NUM_SUBHALOS)
        ]
        ax, ay = model.deflection(gx[None], gy[None], kwargs)
        return ops.stack([ax, ay], axis=-1)

    if backend == "jax":
        import jax

        inverse = jax.jit(lambda i, a: layer([i, a]))
        deflect = jax.jit(deflection)
        block = lambda out: jax.block_until_ready(out)  # noqa: E731
        args_i = (images, alpha)
        args_d = (lens,)
    else:
        import tensorflow as tf

        inverse = tf.function(lambda i, a: layer([i, a]), jit_compile=xla)
        deflect = tf.function(deflection, jit_compile=xla)
        block = lambda out: out.numpy()  # noqa: E731
        args_i = (tf.constant(images), tf.constant(alpha))
        args_d = ({k: tf.constant(v) for k, v in lens.items()},)

    results = {"backend": backend + (" XLA" if xla and backend == "tensorflow" else "")}
    results["inverse_lens_s"] = best_time(lambda: block(inverse(*args_i)), repeats)
    results["deflection_s"] = best_time(lambda: block(deflect(*args_d)), repeats)
    # correctness guard: the benchmarked deflection equals lenstronomy's on two images
    small = {k: v[:2] for k, v in lens.items()}
    ref = reference_deflection_loop(small, num_pix, PIXEL_SCALE)
    got = np.asarray(block(deflect(*( {k: v[:2] for k, v in args_d[0].items()}, ))))
    results["deflection_max_rel_err"] = float(
        np.max(np.abs(np.moveaxis(got, -1, 1) - ref)) / np.max(np.abs(ref))
    )
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--num-pix", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backends", default="tensorflow,tensorflow-xla,jax",
                        help="comma-separated: tensorflow (graph), tensorflow-xla (jit_compile=True), jax")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--xla", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print("RESULT " + json.dumps(run_backend(args.batch, args.num_pix, args.repeats, args.xla)), flush=True)
        return 0

    images, alpha, lens = make_inputs(args.batch, args.num_pix)
    ref_splat = best_time(lambda: reference_splat_loop(images, alpha, PIXEL_SCALE), max(1, args.repeats // 2))
    ref_deflect = best_time(lambda: reference_deflection_loop(lens, args.num_pix, PIXEL_SCALE), 1)

    rows = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        env = dict(os.environ, KERAS_BACKEND=backend.replace("-xla", ""), TF_CPP_MIN_LOG_LEVEL="3")
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--batch", str(args.batch),
               "--num-pix", str(args.num_pix), "--repeats", str(args.repeats)]
        if backend.endswith("-xla"):
            cmd.append("--xla")
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            print(f"{backend}: failed\n{proc.stderr[-3000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(lines[-1][len("RESULT "):]))

    n = args.batch
    print(f"\nbatch {n} x {args.num_pix}x{args.num_pix}, best of {args.repeats}; images/s (higher is better)\n")
    print(f"| task | implementation | time (s) | images/s | speed-up vs per-image loop |")
    print("|---|---|---:|---:|---:|")
    print(f"| inverse lensing | NumPy per-image loop (LensPINN-style) | {ref_splat:.4f} | {n / ref_splat:,.0f} | 1.0x |")
    for r in rows:
        t = r["inverse_lens_s"]
        print(f"| inverse lensing | lensml InverseLens, {r['backend']} | {t:.4f} | {n / t:,.0f} | {ref_splat / t:.1f}x |")
    print(f"| SIE+shear+25 PM deflection | lenstronomy per-image loop | {ref_deflect:.4f} | {n / ref_deflect:,.0f} | 1.0x |")
    for r in rows:
        t = r["deflection_s"]
        print(f"| SIE+shear+25 PM deflection | lensml MassModel, {r['backend']} | {t:.4f} | {n / t:,.0f} | "
              f"{ref_deflect / t:.1f}x |")
    for r in rows:
        print(f"\n{r['backend']}: max |alpha - lenstronomy| / max|alpha| = {r['deflection_max_rel_err']:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
