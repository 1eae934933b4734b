"""Label-efficiency curve: ``python evaluate/label_efficiency.py CONFIG.toml OUT_DIR [key=value ...]``.

Trains CONFIG once per label fraction (``label_fractions`` of CONFIG, else
lensml.evaluation.LABEL_FRACTIONS: 1%, 10%, 100%; each with all of CONFIG's seeds), the runs in
OUT_DIR/fraction_<f>/, and writes OUT_DIR/label_efficiency/summary.md, summary.json and
label_efficiency.png (test accuracy, mean +- std over seeds). The protocol is
``lensml.protocols.run_label_efficiency``; this script parses and calls it.
"""

import sys

from lensml.training import load_config, parse_set_option
from lensml.protocols import run_label_efficiency

if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    overrides = {**dict(parse_set_option(a) for a in sys.argv[3:]), "output.dir": sys.argv[2]}
    result = run_label_efficiency(load_config(sys.argv[1], overrides))  # test accuracy
    print(open(result["paths"]["summary"]).read())
