"""Why does LensPINN's Einstein radius collapse? Its predicted radius on fixed test lenses
during training, under the controlled scale's budget, recipe and data.

    python benchmarks/einstein_radius_trajectory.py --model lenspinn_small --epochs 1 --every 15
    python benchmarks/einstein_radius_trajectory.py --zero-head    # every image starts at theta_E_init
    python benchmarks/einstein_radius_trajectory.py --set training.learning_rate=1e-4

Prints, every ``--every`` steps: the training step, the mean and spread of the predicted radius
on 96 test lenses (arcsec), the fraction at the lower bound of its range (0.05") and its
correlation with the true radius.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lenspinn_small", choices=["lenspinn_small", "lenspinn_large"])
    parser.add_argument("--table-budget", type=int, default=None, help="parameters (default: the table's)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--every", type=int, default=15)
    parser.add_argument("--set", action="append", default=[], help="dotted config override, e.g. training.learning_rate=1e-4")
    parser.add_argument("--zero-head", action="store_true",
                        help="zero the radius head's kernel before the first step (its bias alone: theta_E_init)")
    parser.add_argument("--out", default="/tmp/einstein_radius_trajectory")
    args = parser.parse_args()

    import dataclasses

    import keras
    import numpy as np

    from lensml.data.pipeline import load_split
    from lensml.evaluation.intercept import layer_outputs
    from lensml.protocols import reproduce as rep
    from lensml.training.config import apply_overrides, parse_set_option
    from lensml.training.runner import run_seed

    table = rep.TABLES["lenspinn"]
    if args.table_budget:
        table = dataclasses.replace(table, size=f"budget_{args.table_budget}")
    row = next(r for r in table.rows if r.paper_model == args.model and not r.controlled_only)
    config = rep.scaled_config(row, rep.SCALES["controlled"], Path(args.out), ROOT, table)
    over = {"training.epochs": args.epochs, "output.dir": args.out, "output.overwrite": True, "seeds": [0]}
    over.update(dict(parse_set_option(s) for s in args.set))
    config = apply_overrides(config, over)
    ds, _ = load_split(config.data.dataset, "test")
    images, theta = [], []
    for example in ds.take(96).as_numpy_iterator():
        images.append(example["image"])
        theta.append(example["theta_E"])
    images, theta = np.stack(images).astype("float32"), np.asarray(theta)
    images = images[..., None] if images.ndim == 3 else images

    class Trajectory(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step, self.rows = 0, []

        def _record(self):
            _, out = layer_outputs(self.model, images, ["einstein_radius"])
            pred = keras.ops.convert_to_numpy(out["einstein_radius"]).reshape(-1)
            r = float(np.corrcoef(pred, theta)[0, 1]) if pred.std() > 0 else float("nan")
            row = {"step": self.step, "mean": float(pred.mean()), "std": float(pred.std()),
                   "at_lower_bound": float((pred <= 0.06).mean()), "pearson_r": r}
            self.rows.append(row)
            print(json.dumps(row), flush=True)

        def on_train_begin(self, logs=None):
            if args.zero_head:
                from lensml.evaluation.intercept import find_layer

                head = find_layer(self.model, "einstein_radius_unit")
                kernel, bias = head.get_weights()
                head.set_weights([np.zeros_like(kernel), bias])
            self._record()

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step % args.every == 0:
                self._record()

    print(f"config: {config.model.name} {json.dumps(config.model.options)} lr {config.training.learning_rate} "
          f"steps/epoch {config.data.steps_per_epoch} epochs {config.training.epochs}", flush=True)
    result = run_seed(config, 0, callbacks=[Trajectory()])
    print(json.dumps({"test_accuracy": result["metrics"].get("test_accuracy")}))


if __name__ == "__main__":
    main()
