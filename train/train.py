"""Train one experiment config: ``python train/train.py train/<experiment>.toml [key=value ...]``.

The same as ``lensml train --config ... --set ...``; no logic lives here (DESIGN section 1).
"""

import json
import sys

from lensml.experiments import load_config, parse_set_option, run

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    config = load_config(sys.argv[1], dict(parse_set_option(a) for a in sys.argv[2:]))
    result = run(config)
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2, default=str))
