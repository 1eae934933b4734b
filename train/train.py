"""Train one experiment config: ``python train/train.py train/<experiment>.toml [key=value ...]``.

The same as ``lensml train --config ... --set ...`` (label-efficiency curves included: both call
``lensml.protocols.train``); no logic lives here.
"""

import sys

from lensml.training import load_config, parse_set_option
from lensml.protocols import report_training, train

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    config = load_config(sys.argv[1], dict(parse_set_option(a) for a in sys.argv[2:]))
    print(report_training(config, train(config)))
