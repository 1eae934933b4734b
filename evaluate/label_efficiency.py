"""Label-efficiency curve: ``python evaluate/label_efficiency.py CONFIG.toml OUT_DIR [key=value ...]``.

Trains CONFIG once per label fraction (lensml.evaluation.LABEL_FRACTIONS: 1%, 10%, 100%; each
with all of CONFIG's seeds) through lensml.experiments.run, then writes OUT_DIR/summary.md,
summary.json and label_efficiency.png (test accuracy, mean +- std over seeds).
"""

import sys

from lensml.evaluation import LABEL_FRACTIONS, write_protocol_report
from lensml.experiments import load_config, parse_set_option, run

if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    overrides = dict(parse_set_option(a) for a in sys.argv[3:])
    records = []
    for fraction in LABEL_FRACTIONS:
        config = load_config(sys.argv[1], {**overrides, "data.label_fraction": fraction})
        config.name = f"{config.name}_f{fraction:g}"
        result = run(config)
        records += [{"model": config.model.name, "fraction": fraction, "seed": seed, "metrics": r["metrics"]}
                    for seed, r in zip(result["seeds"], result["runs"])]
    print(write_protocol_report(records, sys.argv[2], metric="test_accuracy"))
