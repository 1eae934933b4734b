"""The single-run protocol: ``train(config)``, what ``lensml train`` and ``train/train.py`` run."""

from __future__ import annotations

import json


def train(config, **kwargs):
    """One experiment: the label-efficiency curve (``lensml.protocols.label_efficiency``) when
    ``config.label_fractions`` is set, else ``lensml.training.run`` (every seed of ``config``).
    ``kwargs`` go to that function. Returns its result."""
    if config.label_fractions:
        from lensml.protocols.label_efficiency import run_label_efficiency

        return run_label_efficiency(config, **kwargs)
    from lensml.training.runner import run

    return run(config, **kwargs)


def report_training(config, result) -> str:
    """What ``lensml train`` prints of a :func:`train` result: the label-efficiency summary and
    the curve's path, or the run summary (JSON)."""
    if config.label_fractions:
        return (json.dumps(result["summary"], indent=2, default=str)
                + f"\nlabel-efficiency curve: {result['paths']['summary']}")
    return json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2, default=str)
