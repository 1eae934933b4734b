"""Print a markdown table of every registered model's parameter count at 64x64x1, 3 classes
(default configuration). ``python benchmarks/param_counts.py [--size 64]``"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: Counts reported by the papers (D4LensPINN section 3), in millions.
PAPER = {"resnet18": 11.17, "lensformer": 15.7, "lenspinn_small": 7.17, "lenspinn_large": 14.56,
         "vit": 13.7, "vitsd": 13.7, "cait": 13.7, "d4lenspinn": 20.65}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args(argv)
    import lensml.models as M

    print(f"| model | parameters at {args.size}x{args.size} (M) | paper (M) | description |")
    print("|---|---|---|---|")
    for name in M.available():
        model = M.build(name, input_shape=(args.size, args.size, 1), num_classes=3)
        paper = PAPER.get(name)
        print(f"| {name} | {model.count_params() / 1e6:.2f} | {paper if paper else '-'} | "
              f"{M.describe(name)} |", flush=True)
        del model
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
