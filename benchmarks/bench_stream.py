"""``fit`` on the simulated stream vs ``fit`` on the same number of in-memory images (run by hand).

For each model (64x64, batch 48 by default, the backend's default compile mode), two
``model.fit`` runs of ``--epochs`` epochs x ``--steps`` steps, in turn in one process:

- arrays: ``fit(x, y)`` on ``steps x batch`` images simulated beforehand and held in memory;
- stream: ``fit(simulated_stream(...))``, every batch freshly simulated by the batched
  simulator (``data.source = "stream"`` in a config), the same family and batch size.

The first epoch of each (tracing / compiling) is left out; the figure is the median epoch time
of the rest, and the ratio stream / arrays of those medians (the issue's target: <= 1.10).

    python benchmarks/bench_stream.py                     # resnet18 + lenspinn_small, TensorFlow
    KERAS_BACKEND=jax python benchmarks/bench_stream.py --models resnet18
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def _epoch_times():
    import keras

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t)

    return EpochTimes()


def _model(name, size, seed):
    import keras

    import lensml.models as M

    keras.utils.set_random_seed(seed)
    options = {"width": 24} if name == "resnet18" else {}
    if name.startswith("lenspinn"):
        options["pixel_scale"] = 0.101
    model = M.build(name, (size, size, 1), 3, **options)
    model.compile(keras.optimizers.AdamW(1e-3), "sparse_categorical_crossentropy")
    return model


def measure(name: str, family: str, steps: int, epochs: int, batch: int) -> dict:
    import numpy as np

    from lensml.data import simulated_stream

    stream = simulated_stream(family, batch_size=batch, seed=0, steps_per_epoch=steps)
    size = stream.simulator.family.instrument.num_pix
    parts = [stream.batch(i, 0) for i in range(steps)]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    out = {}
    for source in ("arrays", "stream"):
        model = _model(name, size, 0)
        timer = _epoch_times()
        if source == "arrays":
            model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
        else:
            model.fit(stream, epochs=epochs, verbose=0, callbacks=[timer])
        out[source] = statistics.median(timer.times[1:])
    out["ratio"] = out["stream"] / out["arrays"]
    return out


def main(argv=None) -> int:
    import keras

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="resnet18,lenspinn_small")
    parser.add_argument("--family", default="model_ii_published")
    parser.add_argument("--steps", type=int, default=40, help="steps per epoch (default 40)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs, the first not timed (default 4)")
    parser.add_argument("--batch", type=int, default=48)
    args = parser.parse_args(argv)
    rows = []
    for name in [m for m in args.models.split(",") if m]:
        r = measure(name, args.family, args.steps, args.epochs, args.batch)
        rows.append({"model": name, **r})
        print(json.dumps(rows[-1]), flush=True)
    print(f"\nbackend {keras.backend.backend()}, {args.family}, batch {args.batch}, {args.steps} steps/epoch, "
          f"median of epochs 2..{args.epochs}")
    print("| model | arrays s/epoch | stream s/epoch | stream / arrays |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['arrays']:.2f} | {r['stream']:.2f} | {r['ratio']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
