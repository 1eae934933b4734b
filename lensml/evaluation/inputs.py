"""Getting evaluation data into numpy: tf.data datasets, arrays, and DeepLense .npy folders.

Everything the evaluation needs goes through :func:`as_arrays`; :func:`load_data` turns a
dataset *name* (through ``lensml.data.pipeline``) or a folder of ``.npy`` files into one.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

#: Class folder names in the public DeepLense data, mapped to lensml's class order
#: (no_sub, cdm, axion). "sphere"/"vort" are the older Model A/B / D4LensPINN names.
DEEPLENSE_CLASS_ALIASES = {
    "no_sub": 0, "no": 0, "nosub": 0,
    "cdm": 1, "sphere": 1, "subhalo": 1,
    "axion": 2, "vort": 2, "vortex": 2,
}
DEFAULT_CLASS_NAMES = ("no_sub", "cdm", "axion")


def as_arrays(dataset, max_examples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Materialise ``(images, targets)`` from a dataset.

    Args:
        dataset: an ``(images, targets)`` tuple of arrays, a ``tf.data.Dataset`` or any iterable
            whose elements are ``(images, targets)`` pairs (or dicts with "image" and "label").
            Elements are batches when their images have rank 4 (B, H, W, C), single examples
            when rank 3 (H, W, C).
        max_examples: stop after this many examples (None = all).

    Returns:
        ``images`` (N, H, W, C) float32 and ``targets`` (N, ...) numpy arrays.

    Raises:
        ValueError: if the dataset is empty or its elements are not (images, targets) pairs.
    """
    if isinstance(dataset, tuple) and len(dataset) == 2 and not _is_batch_list(dataset):
        chunks = [(np.asarray(dataset[0]), np.asarray(dataset[1]))]
    else:
        iterator = dataset.as_numpy_iterator() if hasattr(dataset, "as_numpy_iterator") else iter(dataset)
        chunks, seen = [], 0
        for element in iterator:
            x, y = _split_element(element)
            if x.ndim == 3:  # one example, not a batch
                x, y = x[None], np.asarray(y)[None]
            chunks.append((x, y))
            seen += len(x)
            if max_examples is not None and seen >= max_examples:
                break
    if not chunks or sum(len(c[0]) for c in chunks) == 0:
        raise ValueError("`dataset` is empty (no examples in this split); expected at least one example.")
    for x, y in chunks:
        if x.ndim != 4:
            raise ValueError(f"`dataset` images must be (batch, height, width, channels), got shape {x.shape}.")
        if len(x) != len(y):
            raise ValueError(f"`dataset` has {len(x)} images but {len(y)} targets in one batch; they must match.")
    images = np.concatenate([c[0] for c in chunks])[:max_examples]
    targets = np.concatenate([c[1] for c in chunks])[:max_examples]
    return images.astype(np.float32), targets


def _is_batch_list(value) -> bool:
    return all(isinstance(v, (tuple, list, dict)) for v in value)


def _split_element(element):
    if isinstance(element, dict):
        if "image" not in element or "label" not in element:
            raise ValueError(f"dataset elements are dicts with keys {sorted(element)}; expected 'image' and 'label'.")
        return np.asarray(element["image"]), np.asarray(element["label"])
    if isinstance(element, (tuple, list)) and len(element) >= 2:
        return np.asarray(element[0]), np.asarray(element[1])
    raise ValueError(f"dataset elements must be (inputs, targets) pairs, got {type(element).__name__}.")


def minmax_normalize(images: np.ndarray) -> np.ndarray:
    """Per-image min-max scaling to [0, 1] (constant images become 0), in numpy
    (``lensml.layers.normalization``). ``images``: (N, H, W, 1)."""
    from lensml.layers.normalization import normalize_images

    return normalize_images(images, "minmax", xp=np).astype(np.float32)


def load_npy_folder(path, split: str | None = None, normalization: str = "minmax", max_per_class: int | None = None) -> dict:
    """Read a folder in the public DeepLense layout: one sub-folder per class of ``.npy`` files.

    Accepted: ``path/<class>/*.npy`` or ``path/<split>/<class>/*.npy`` (``split`` e.g. "train",
    "val", "test"). Class folder names: no_sub/no, cdm/sphere, axion/vort (any case). Each file
    holds one image (H, W), (1, H, W) or (H, W, 1); axion files may hold the object array
    ``[image, m_a]`` (m_a in eV), whose log10 becomes the regression target; a ``metadata.csv`` beside the
    class folders (as ``lensml simulate`` writes) gives the masses of plain files. Object arrays
    are read by :func:`read_legacy_object_npy`, which builds numbers only (never code). Files are
    read in sorted order, so the result is deterministic.

    Returns:
        ``{"images": (N, H, W, 1) float32, "labels": (N,) int64, "class_names": list[str],
        "log10_axion_mass": (N,) float64 (NaN where unknown), "files": list[str]}``.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"`data` folder {str(root)!r} does not exist.")
    if split is not None and (root / split).is_dir():
        root = root / split
    class_dirs, unknown = {}, []
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        key = child.name.lower()
        if key in DEEPLENSE_CLASS_ALIASES:
            class_dirs[DEEPLENSE_CLASS_ALIASES[key]] = child
        else:
            unknown.append(child.name)
    if class_dirs and unknown:
        # a class folder under another name would silently lose its images
        raise ValueError(
            f"`data` folder {str(root)!r} has sub-folders that are not classes: {unknown}; expected only "
            f"{sorted(DEEPLENSE_CLASS_ALIASES)} (rename them, or move them out of the folder)."
        )
    if not class_dirs:
        found = sorted(p.name for p in root.iterdir())
        raise ValueError(
            f"`data` folder {str(root)!r} has no class sub-folders; expected some of "
            f"{sorted(DEEPLENSE_CLASS_ALIASES)} (optionally under a split folder), found {found}."
        )
    images, labels, masses, files = [], [], [], []
    known_masses = _metadata_masses(root)
    for label in sorted(class_dirs):
        paths = sorted(class_dirs[label].glob("*.npy"))[:max_per_class]
        for file in paths:
            image, mass = read_npy_image(file, known_masses.get(file.relative_to(root).as_posix()))
            images.append(image)
            labels.append(label)
            masses.append(np.log10(mass) if mass is not None and mass > 0 else np.nan)
            files.append(str(file))
    if not images:
        raise ValueError(f"`data` folder {str(root)!r} holds no .npy files in its class folders (empty split).")
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(f"images in {str(root)!r} have different shapes {sorted(shapes)}; expected one size.")
    stacked = np.stack(images).astype(np.float32)
    bad = [files[i] for i in np.flatnonzero(~np.isfinite(stacked).reshape(len(stacked), -1).all(axis=1))]
    if bad:
        raise ValueError(f"{len(bad)} image(s) in {str(root)!r} hold NaN or inf pixels, e.g. {bad[:3]}; "
                         "remove or repair them before evaluating.")
    if normalization == "minmax":
        stacked = minmax_normalize(stacked)
    elif normalization not in (None, "none"):
        raise ValueError(f"`normalization` must be 'minmax' or 'none', got {normalization!r}.")
    return {
        "images": stacked,
        "labels": np.asarray(labels, dtype=np.int64),
        "class_names": list(DEFAULT_CLASS_NAMES),
        "log10_axion_mass": np.asarray(masses, dtype=np.float64),
        "files": files,
    }


def read_npy_image(file: Path, mass: float | None = None) -> tuple[np.ndarray, float | None]:
    """One image of a ``.npy`` file and its axion mass (eV; ``mass`` from metadata.csv, else the
    legacy object array's). Never unpickles anything but numbers (:func:`read_legacy_object_npy`)."""
    try:
        data = np.load(file, allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" not in str(e):
            raise ValueError(f"{str(file)!r} is not a readable .npy image ({e}); it may be truncated or "
                             "damaged: write it again or remove it.") from None
        data = read_legacy_object_npy(file)
    except (OSError, EOFError) as e:  # truncated or not a .npy file at all
        raise ValueError(f"{str(file)!r} is not a readable .npy image ({type(e).__name__}: {e}); "
                         "it may be truncated or damaged: write it again or remove it.") from None
    if data.dtype == object:
        # Axion files of the public simulator: array([image, m_a], dtype=object).
        flat = list(data.reshape(-1)) if data.ndim else [data.item()]
        if len(flat) != 2:
            raise ValueError(f"{str(file)!r} holds an object array of {len(flat)} items; expected [image, m_a].")
        data, mass = np.asarray(flat[0], dtype=np.float32), float(flat[1]) if mass is None else mass
    if not np.issubdtype(data.dtype, np.number):
        raise ValueError(f"{str(file)!r} holds {data.dtype} values; expected a numeric image.")
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    if data.ndim == 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 2:
        raise ValueError(f"{str(file)!r} holds shape {data.shape}; expected one (H, W) image.")
    return data[..., None], mass


def _metadata_masses(root: Path) -> dict[str, float]:
    """``{file relative to root: m_a in eV}`` from the folder's ``metadata.csv`` (what
    ``lensml simulate`` writes: a ``file`` and a ``log10_axion_mass`` column), {} without one."""
    import csv

    table = root / "metadata.csv"
    if not table.is_file():
        return {}
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    out = {}
    for row in rows:
        try:
            log10_m = float(row.get("log10_axion_mass") or "nan")
        except ValueError:
            raise ValueError(f"{str(table)!r}: log10_axion_mass {row.get('log10_axion_mass')!r} of "
                             f"{row.get('file')!r} is not a number") from None
        if row.get("file") and np.isfinite(log10_m):
            out[row["file"]] = 10.0**log10_m
    return out


class _NumbersOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays, dtypes and scalars, and nothing else: any other global a pickle
    names (``os.system``, ``builtins.eval``, ...) is refused before it is looked up."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: only numeric arrays and numbers are read")
        return super().find_class(module, name)


def read_legacy_object_npy(file) -> np.ndarray:
    """The object array of a ``.npy`` file written with pickling (the public DeepLense
    simulator's axion files, ``[image, m_a]``), read by an unpickler that builds numeric arrays
    and numbers only: a file that names any other Python object is an error, never executed.

    Raises:
        ValueError: naming the file, when it holds anything but numeric arrays and numbers.
    """
    with open(file, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)(f, max_header_size=10_000)
            shape, fortran, dtype = header
            if dtype != object:
                raise ValueError(f"dtype {dtype}")
            data = _NumbersOnlyUnpickler(f).load()
        except (pickle.UnpicklingError, ValueError, EOFError, TypeError, AttributeError) as e:
            raise ValueError(f"{str(file)!r} is a pickled .npy that holds more than numeric arrays and numbers "
                             f"({e}); lensml does not run code from data files: re-save it as a plain array") from None
    data = np.asarray(data, dtype=object)
    for item in data.reshape(-1):
        ok = (isinstance(item, np.ndarray) and np.issubdtype(item.dtype, np.number)) or (
            isinstance(item, (int, float, np.number)) and not isinstance(item, bool))
        if not ok:
            raise ValueError(f"{str(file)!r} holds a {type(item).__name__} in its object array; expected only "
                             "numeric arrays and numbers ([image, m_a])")
    return data


def load_data(spec: str, split: str = "test", target: str = "label", batch_size: int = 64, max_examples: int | None = None, data_dir=None) -> dict:
    """Evaluation data from a folder of ``.npy`` files or a lensml dataset name.

    Args:
        spec: an existing folder (see :func:`load_npy_folder`) or a TFDS name such as
            "deeplense/model_ii_3k", read with ``lensml.data.pipeline`` (no shuffling, the
            protocol's normalisation).
        split: split name ("test", "validation", "train").
        target: "label" (classification), "log10_axion_mass" (regression) or "hr"
            (super-resolution: inputs LR, targets HR; dataset names only).

    Returns:
        ``{"images", "targets", "class_names"}`` with images (N, H, W, 1) float32.
    """
    if Path(spec).is_dir():
        data = load_npy_folder(spec, split=split)
        if target == "label":
            targets = data["labels"]
        elif target == "hr":
            raise ValueError(f"`data` folder {spec!r}: super-resolution needs a dataset with LR/HR pairs "
                             "(e.g. deeplense/model_ii_sr16), not a folder of single images.")
        elif target == "log10_axion_mass":
            keep = np.isfinite(data["log10_axion_mass"])
            if not keep.any():
                raise ValueError(f"`data` folder {spec!r} has no axion files with a stored mass; cannot regress.")
            data["images"], targets = data["images"][keep], data["log10_axion_mass"][keep]
        else:
            raise ValueError(f"`target` must be 'label' or 'log10_axion_mass', got {target!r}.")
        images, targets = data["images"][:max_examples], targets[:max_examples]
        return {"images": images, "targets": targets, "class_names": data["class_names"]}
    looks_like_path = spec.startswith(("/", ".", "~")) or ("/" in spec and not spec.startswith("deeplense/"))
    if looks_like_path:
        raise FileNotFoundError(f"`data` folder {spec!r} does not exist (and it is not a dataset name like 'deeplense/model_ii_3k').")
    from lensml.data import pipeline
    from lensml.data.pipeline import dataset_family
    from lensml.simulation import get_family

    dataset = pipeline(spec, split, batch_size=batch_size, target=target, shuffle=False, data_dir=data_dir)
    images, targets = as_arrays(dataset, max_examples=max_examples)
    # the dataset's own classes (a family may have other classes than no_sub, cdm, axion)
    return {"images": images, "targets": targets, "class_names": list(get_family(dataset_family(spec)).class_names)}


def load_keras_model(path):
    """Load a ``.keras`` file in safe mode after registering lensml's custom layers and models.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when it is not a ``.keras`` archive.
    """
    import importlib

    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"`model` file {str(path)!r} does not exist.")
    if path.suffix != ".keras":
        raise ValueError(f"`model` must be a .keras file saved with model.save(...), got {str(path)!r}.")
    # Importing these registers their serializable classes; a package that is not there yet is skipped.
    for module in ("lensml.physics", "lensml.layers", "lensml.models", "lensml.ssl"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    return keras.saving.load_model(path, safe_mode=True)
