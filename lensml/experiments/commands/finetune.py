"""``lensml finetune --config train/ssl/<run>.toml``: fine-tune or linear-probe a pretrained
encoder (or train the same head on a fresh encoder, the baseline) through
``lensml.experiments.run_seed``.

``[model] name = "pretrained"`` with ``options = {encoder_path = "runs/.../encoder.keras",
task = "classification" | "regression" | "super_resolution", mode = "finetune" |
"linear_probe", hidden = [...]}``; or an encoder name (``"resnet50"``, ``"ssl_vit"``) for the
from-scratch baseline. ``data.label_fraction`` gives label-efficiency runs;
``data.dataset`` may be another family than the pretraining one (Model I -> Model II;
images are resized to the encoder's input size). ``{seed}`` in ``encoder_path`` is
replaced by each run's seed.
For super-resolution (``data.target = "hr"``) the test split is scored with PSNR / SSIM
(``lensml.evaluation.super_resolution_metrics``) into ``sr_metrics.json``.
"""

from __future__ import annotations

import argparse

from lensml.experiments.commands.pretrain import add_arguments as _shared_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _shared_arguments(parser)


def _sr_metrics(config, model, out_dir):
    import json
    from pathlib import Path

    import numpy as np

    from lensml.experiments.toml_writer import write_text_atomic
    from lensml.evaluation import super_resolution_metrics
    from lensml.experiments.runner import default_data_factory

    ds = default_data_factory(config.data, config.data.test_split, training=False, seed=0)
    lows, highs = [], []
    for lr, hr in ds:
        lows.append(np.asarray(lr))
        highs.append(np.asarray(hr))
    lr, hr = np.concatenate(lows), np.concatenate(highs)
    sr = np.asarray(model.predict(lr, verbose=0))
    metrics = super_resolution_metrics(low_res=lr, predicted=sr, high_res=hr)
    write_text_atomic(Path(out_dir) / "sr_metrics.json", json.dumps(metrics, indent=2, default=float) + "\n")
    return metrics


def main(args) -> int:
    import json
    import sys

    from lensml.experiments.commands.pretrain import load, print_config

    config, error = load(args, "finetune")
    if error:
        print(error, file=sys.stderr)
        return 2
    if args.dry_run:
        print_config(config)
        return 0
    from lensml.experiments import run_seed
    from lensml.ssl.factory import build_downstream

    built = []
    current = {}

    def factory(name, **kwargs):
        if kwargs.get("encoder_path"):  # one pretrained encoder per seed: "{seed}" in the path
            kwargs["encoder_path"] = kwargs["encoder_path"].format(seed=current["seed"])
        built.append(build_downstream(name, **kwargs))
        return built[-1]

    task = config.model.options.get("task", "classification")
    results = []
    for seed in config.seeds:
        current["seed"] = seed
        result = run_seed(config, seed, model_factory=factory,
                          evaluate_test=task != "super_resolution")
        if task == "super_resolution" and config.data.test_split:
            result["metrics"].update({f"test_{k}": v for k, v in
                                      _sr_metrics(config, built[-1], result["paths"]["dir"]).items()
                                      if isinstance(v, (int, float))})
        results.append({k: v for k, v in result.items() if k != "history"})
    print(json.dumps(results, indent=2, default=str))
    return 0
