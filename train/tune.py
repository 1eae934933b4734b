"""Run or resume the Optuna study of a config: ``python train/tune.py train/<config>.toml [key=value ...]``.

The same as ``lensml tune --config ...``; no logic lives here.
"""

import json
import sys

from lensml.training import load_config, parse_set_option
from lensml.protocols import tune

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    config = load_config(sys.argv[1], dict(parse_set_option(a) for a in sys.argv[2:]))
    print(json.dumps(tune(config), indent=2, default=str))
