"""``fit`` on the simulated stream vs ``fit`` on the same number of in-memory images (run by hand).

For each model (64x64, batch 48 by default, the backend's default compile mode), two
``model.fit`` runs of ``--epochs`` epochs x ``--steps`` steps, in turn in one process:

- arrays: ``fit(x, y)`` on ``steps x batch`` images simulated beforehand and held in memory;
- stream: ``fit(simulated_stream(...))``, every batch freshly simulated by the batched
  simulator (``data.source = "stream"`` in a config), the same family and batch size.

The first epoch of each (tracing / compiling) is left out; the two run in turn for ``--rounds``
rounds; the figure is the median epoch time of the rest, and the ratio stream / arrays of those
medians (the target: <= 1.10).

    python benchmarks/bench_stream.py                     # resnet18 (width 24) + lenspinn_small, TensorFlow
    python benchmarks/bench_stream.py --models resnet18 --steps 8 --epochs 4   # the full-width ResNet18
    KERAS_BACKEND=jax python benchmarks/bench_stream.py --models resnet18:width=24
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


def parse_model(spec: str):
    """'resnet18' or 'resnet18:width=24' -> (name, options)."""
    name, _, rest = spec.partition(":")
    options = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        options[key] = json.loads(value)
    return name, options


def _model(spec, size, seed):
    import keras

    import lensml.models as M

    keras.utils.set_random_seed(seed)
    name, options = parse_model(spec)
    if name.startswith("lenspinn"):
        options["pixel_scale"] = 0.101
    model = M.build(name, (size, size, 1), 3, **options)
    model.compile(keras.optimizers.AdamW(1e-3), "sparse_categorical_crossentropy")
    return model


def measure(name: str, family: str, steps: int, epochs: int, batch: int, rounds: int = 2) -> dict:
    import numpy as np

    from lensml.data import simulated_stream

    stream = simulated_stream(family, batch_size=batch, seed=0, steps_per_epoch=steps)
    size = stream.simulator.family.instrument.num_pix
    parts = [stream.batch(i, 0) for i in range(steps)]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    times = {"arrays": [], "stream": []}
    # Rounds in turn (A B A B ...), so a drift in the machine's speed hits both alike.
    for _ in range(rounds):
        for source in ("arrays", "stream"):
            model = _model(name, size, 0)
            timer = _epoch_times()
            if source == "arrays":
                model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
            else:
                model.fit(stream, epochs=epochs, verbose=0, callbacks=[timer])
            times[source] += timer.times[1:]
    out = {source: statistics.median(t) for source, t in times.items()}
    out["ratio"] = out["stream"] / out["arrays"]
    out["epochs_timed"] = len(times["stream"])
    return out


def main(argv=None) -> int:
    import keras

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="resnet18:width=24;lenspinn_small",
                        help="';'-separated, each name[:option=value,...] (default: resnet18:width=24;lenspinn_small)")
    parser.add_argument("--family", default="model_ii_published")
    parser.add_argument("--steps", type=int, default=40, help="steps per epoch (default 40)")
    parser.add_argument("--epochs", type=int, default=6, help="epochs, the first not timed (default 6)")
    parser.add_argument("--batch", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2, help="arrays/stream runs in turn (default 2)")
    args = parser.parse_args(argv)
    rows = []
    for name in [m for m in args.models.split(";") if m]:
        r = measure(name, args.family, args.steps, args.epochs, args.batch, args.rounds)
        rows.append({"model": name, **r})
        print(json.dumps(rows[-1]), flush=True)
    print(f"\nbackend {keras.backend.backend()}, {args.family}, batch {args.batch}, {args.steps} steps/epoch, "
          f"median epoch time over {args.rounds} rounds of epochs 2..{args.epochs} (the first compiles)")
    print("| model | arrays s/epoch | stream s/epoch | stream / arrays |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['arrays']:.2f} | {r['stream']:.2f} | {r['ratio']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
