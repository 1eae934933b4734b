"""``lensml simulate``: write a DeepLense-style dataset as .npy files (the old layout).

    lensml simulate --family model_ii --per-class 100 --out data/model_ii

writes ``DIR/<class>/<class>_sim_<index>.npy`` for each class of the family (images (H, W)
float32, plain arrays: nothing is pickled) and ``DIR/metadata.csv`` (one row per file: index,
class, file, log10_axion_mass, theta_E, source_x, source_y; the axion mass lives there, not
in the image file as the public simulator's pickled ``[image, m_a]`` object arrays).
Generation runs over all CPU cores with a progress bar; each file is regenerated alone from
(family, split, index, seed).

Everything is written into a staging folder beside DIR (``.DIR.staging-<pid>``) that is renamed
to DIR once complete, so a killed run leaves no DIR (its staging folder is removed by the next
run); an existing DIR is refused unless ``--overwrite`` (then replaced whole, never mixed).
For TFDS datasets use ``tfds.load("deeplense/<config>")`` instead.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", required=True, help="a family of lensml.simulation.FAMILIES: model_i, model_ii, model_iii, their published-compatible "
                        "variants model_*_published, model_ii_tnfw, or the seed papers' own data no_sphere_vort, "
                        "lens_jepa_model_a, lens_jepa_model_b")
    parser.add_argument("--per-class", type=int, required=True, help="images per class (> 0)")
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--split", default="train", help="split name, part of each image's seed (default train)")
    parser.add_argument("--seed", type=int, default=0, help="global seed (default 0)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--no-noise", action="store_true", help="write noise-free images")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out folder (default: refuse it)")


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
    if out.exists() and not args.overwrite:
        print(f"lensml simulate: error: --out {str(out)!r} already exists; choose a new folder or pass "
              "--overwrite to replace it (its files are never mixed with a new run's)", file=sys.stderr)
        return 2
    names = family.class_names
    count = len(names) * args.per_class
    fn = functools.partial(simulate_example, family, args.split, seed=args.seed, noise=not args.no_noise)
    from lensml._io import staged_folder

    with staged_folder(out) as stage:
        for name in names:
            (stage / name).mkdir(parents=True)
        rows = []
        examples = parallel_map(fn, range(count), num_workers=args.workers, progress=f"simulate {family.name}")
        for index, ex in enumerate(examples):
            name = names[ex["label"]]
            path = pathlib.Path(name) / f"{name}_sim_{index}.npy"
            np.save(stage / path, np.asarray(ex["image"][:, :, 0], dtype=np.float32), allow_pickle=False)
            rows.append([index, name, path.as_posix(), float(ex["log10_axion_mass"]), float(ex["theta_E"]),
                         float(ex["source_center"][0]), float(ex["source_center"][1])])
        with open(stage / "metadata.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["index", "class", "file", "log10_axion_mass", "theta_E", "source_x", "source_y"])
            writer.writerows(rows)
    print(f"wrote {count} images ({args.per_class} per class) of {family.name} to {out}")
    return 0
