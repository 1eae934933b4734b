"""Cross-instrument transfer:
``python evaluate/cross_instrument.py SOURCE.toml TARGET.toml OUT_DIR [key=value ...]``.

SOURCE (Model I) is trained once per seed; then, on TARGET's (Model II) test split:

- zero_shot: the source model, TARGET's images resampled onto the source grid
  (lensml.evaluation.match_dataset_images);
- scratch: TARGET trained from scratch at each label fraction (1%, 10%, 100%);
- fine_tune: TARGET initialised from the same seed's source model (``model.init_from``), all
  layers trained, at each label fraction;
- linear_probe: the same, with only the classifier head trained (``model.trainable = "head"``).

``key=value`` overrides apply to both configs (e.g. ``training.epochs=3 seeds=[0,1]``); keys
starting with ``source.`` / ``target.`` apply to one side only (``source.data.dataset=...``).
Writes OUT_DIR/summary.md, summary.json and cross_instrument.png (test accuracy vs label
fraction per setting, mean +- std over seeds). The protocol is
``lensml.protocols.run_cross_instrument``; this script parses and calls it.
"""

import sys

from lensml.training import load_config, parse_set_option
from lensml.protocols import run_cross_instrument


def _split_overrides(args):
    both, side = {}, {"source": {}, "target": {}}
    for key, value in (parse_set_option(a) for a in args):
        prefix, _, rest = key.partition(".")
        (side[prefix] if prefix in side else both)[rest if prefix in side else key] = value
    return {k: {**both, **v} for k, v in side.items()}


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    overrides = _split_overrides(sys.argv[4:])
    result = run_cross_instrument(load_config(sys.argv[1], overrides["source"]),
                                  load_config(sys.argv[2], overrides["target"]), sys.argv[3])
    print(open(result["paths"]["summary"]).read())
