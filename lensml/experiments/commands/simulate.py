"""``lensml simulate``: write a DeepLense-style dataset as .npy files (the old layout).

    lensml simulate --family model_ii --per-class 100 --out data/model_ii

writes ``DIR/<class>/<class>_sim_<index>.npy`` for class in no_sub, cdm, axion (images
(H, W) float32; axion files hold the object array ``[image, m_a]`` in eV as the public
simulator's, unless ``--plain-axion``) and ``DIR/metadata.csv`` (one row per file: index,
class, file, log10_axion_mass, theta_E, source_x, source_y). Generation runs over all CPU
cores with a progress bar; each file is regenerated alone from (family, split, index, seed).
For TFDS datasets use ``tfds.load("deeplense/<config>")`` instead.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", required=True, help="model_i, model_ii, model_iii or their published-compatible variants model_i_published, model_ii_published, model_iii_published")
    parser.add_argument("--per-class", type=int, required=True, help="images per class (> 0)")
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--split", default="train", help="split name, part of each image's seed (default train)")
    parser.add_argument("--seed", type=int, default=0, help="global seed (default 0)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--no-noise", action="store_true", help="write noise-free images")
    parser.add_argument("--plain-axion", action="store_true",
                        help="write axion images as plain arrays (the mass is in metadata.csv)")


def _check(args) -> None:
    if args.per_class is None or args.per_class <= 0:
        raise ValueError(f"--per-class must be a positive int, got {args.per_class!r}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.workers is not None and args.workers <= 0:
        raise ValueError(f"--workers must be a positive int, got {args.workers}")


def main(args) -> int:
    import csv
    import functools
    import pathlib
    import sys

    import numpy as np

    from lensml.simulation import get_family, simulate_example
    from lensml.simulation.parallel import parallel_map

    try:
        _check(args)
        family = get_family(args.family)
    except ValueError as err:
        print(f"lensml simulate: error: {err}", file=sys.stderr)
        return 2
    out = pathlib.Path(args.out)
    names = family.class_names
    for name in names:
        (out / name).mkdir(parents=True, exist_ok=True)
    count = len(names) * args.per_class
    fn = functools.partial(simulate_example, family, args.split, seed=args.seed, noise=not args.no_noise)
    rows = []
    examples = parallel_map(fn, range(count), num_workers=args.workers,
                            progress=f"simulate {family.name}")
    for index, ex in enumerate(examples):
        name = names[ex["label"]]
        path = out / name / f"{name}_sim_{index}.npy"
        image = ex["image"][:, :, 0]
        log10_m = float(ex["log10_axion_mass"])
        if name == "axion" and not args.plain_axion:
            data = np.empty(2, dtype=object)
            data[0], data[1] = image, 10.0**log10_m
            np.save(path, data, allow_pickle=True)
        else:
            np.save(path, image)
        rows.append([index, name, str(path.relative_to(out)), log10_m, float(ex["theta_E"]),
                     float(ex["source_center"][0]), float(ex["source_center"][1])])
    with open(out / "metadata.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "class", "file", "log10_axion_mass", "theta_E", "source_x", "source_y"])
        writer.writerows(rows)
    print(f"wrote {count} images ({args.per_class} per class) of {family.name} to {out}")
    return 0
