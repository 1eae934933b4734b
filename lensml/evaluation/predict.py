"""``predict(model, inputs)``: a trained model applied to images without labels, one table row
per image (what ``lensml predict`` writes as CSV, JSON or Parquet).

Each image is held to the model's input contract (``lensml.models.input_contract``) before
the model sees it:

- **Pixel scale.** An image's pixel scale (its FITS header's, else ``pixel_scale``) is compared
  with the one the model was trained at; a difference over 0.1 % is an error naming the file and
  both values, unless ``resample=True``, which resamples it flux-conservingly
  (``cutouts.resample``) to the model's pixel scale over the same field of view. A model or an
  image that does not state its pixel scale is not compared (the row says so).
- **Size.** An image of another size than the model's input is an error naming the file and
  both sizes, unless ``resample=True`` and it is larger: then its centre is cut out.
- **NaN / inf pixels**, the one policy of ``lensml.models.contract``: an error naming the files
  (``masked="error"``, the default), or, with ``masked="fill"``, the pixels take the lower median
  of the image's finite pixels (before any resampling, so no NaN spreads).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lensml.simulation import targets as _targets

#: What a regression model predicts unless told otherwise: (column name, unit), from the target schema.
DEFAULT_TARGET = (_targets.DEFAULT_TARGET["regression"], _targets.get(_targets.DEFAULT_TARGET["regression"]).unit)
SCALE_TOLERANCE = 1e-3


def load_model_or_preset(model):
    """``model`` itself, or the model of a ``.keras`` file, a preset folder, a preset name
    (``lensml.models.list_presets()``) or an ``hf://`` preset URI."""
    if not isinstance(model, (str, Path)):
        return model
    if str(model).endswith(".keras"):
        from lensml.evaluation.inputs import load_keras_model

        return load_keras_model(model)
    from lensml.models.presets import from_preset

    return from_preset(model)


def _as_cutouts(inputs, hdu, split, data_dir, max_examples):
    from lensml.evaluation.cutouts import Cutout, read_cutouts

    if isinstance(inputs, np.ndarray) or hasattr(inputs, "shape") and not isinstance(inputs, (str, Path)):
        array = np.asarray(inputs, dtype=np.float32)
        if array.ndim == 4 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3:
            raise ValueError(f"`inputs`: an array of images must be (N, H, W) or (N, H, W, 1), got {np.shape(inputs)}")
        return [Cutout(f"array[{i}]", array[i]) for i in range(len(array))][:max_examples]
    if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(c, Cutout) for c in inputs):
        return list(inputs)[:max_examples]
    return read_cutouts(inputs, hdu=hdu, split=split, data_dir=data_dir, max_examples=max_examples)


def _name(cutout) -> str:
    return cutout.source + (f"[{cutout.hdu}]" if cutout.hdu is not None else "")


def conform(cutouts, image_shape, model_scale, *, pixel_scale=None, resample=False, masked="error"):
    """The cutouts' images as one (N, H, W, C) array that meets the model's contract, and per image
    ``(pixel scale used, resampled?)``; ValueError naming the file for anything that does not."""
    from lensml.evaluation.cutouts import center_crop
    from lensml.evaluation.cutouts import resample as resample_image
    from lensml.layers.normalization import check_masked, fill_non_finite

    check_masked(masked)
    height, width, channels = image_shape
    bad = [(c, int((~np.isfinite(c.image)).sum())) for c in cutouts]
    bad = [(c, n) for c, n in bad if n]
    if bad and masked == "error":
        listed = ", ".join(f"{_name(c)}: {n}" for c, n in bad[:10]) + (", ..." if len(bad) > 10 else "")
        raise ValueError(f"{len(bad)} image(s) hold NaN or inf pixels ({listed} pixels); repair them, or treat them "
                         "as masked (--masked fill / masked='fill': the median of the image's finite pixels)")
    images, notes = [], []
    for c in cutouts:
        image = c.image
        if masked == "fill" and not np.isfinite(image).all():
            image = np.asarray(fill_non_finite(image[None, ..., None]))[0, ..., 0]
        scale = c.pixel_scale if c.pixel_scale is not None else pixel_scale
        resampled = False
        if model_scale is not None and scale is not None and abs(scale / model_scale - 1) > SCALE_TOLERANCE:
            if not resample:
                raise ValueError(f"{_name(c)}: pixel scale {scale:.4g}\" but the model was trained at "
                                 f"{model_scale:.4g}\"; pass --resample (resample=True) to resample it "
                                 "flux-conservingly, or give images of the model's pixel scale")
            image, resampled = resample_image(image, scale, model_scale), True
        if image.shape != (height, width):
            if not (resample and image.shape[0] >= height and image.shape[1] >= width):
                raise ValueError(f"{_name(c)}: {image.shape[0]}x{image.shape[1]} pixels"
                                 f"{' after resampling' if resampled else ''}, but the model takes "
                                 f"{height}x{width}" + ("" if resample else "; pass --resample (resample=True) to "
                                                        "cut out the centre of a larger image"))
            image = center_crop(image, (height, width))
        images.append(np.repeat(image[..., None], channels, axis=-1))
        notes.append((scale, resampled))
    return np.stack(images).astype(np.float32), notes


def predict(model, inputs, *, hdu: int | None = None, pixel_scale: float | None = None, resample: bool = False,
            masked: str = "error", class_names=None, target=DEFAULT_TARGET, batch_size: int = 64,
            split: str = "test", data_dir=None, max_examples: int | None = None, verbose=0):
    """Apply ``model`` to ``inputs`` and return a ``pandas.DataFrame``, one row per image.

    Args:
        model: a Keras model (a lensml model carries its input contract), a ``.keras`` path, a
            preset folder or name, or an ``hf://`` preset URI.
        inputs: image files or folders (FITS, .npy, PNG, TIFF; see ``lensml.evaluation.cutouts``),
            a ``deeplense/<config>`` dataset name (its ``split``), an array (N, H, W[, 1]), or
            ``Cutout`` objects.
        hdu: the FITS HDU to read (default: the first 2-D image).
        pixel_scale: arcsec per pixel of images that do not state theirs.
        resample: resample to the model's pixel scale and cut its size out of larger images,
            instead of stopping (module docstring).
        masked: "error" or "fill" for NaN / inf pixels (module docstring).
        class_names: column names of a classifier's probabilities (default: no_sub, cdm, axion
            for three classes, else class_0, class_1, ...).
        target: (name, unit) of a regression model's output.
        verbose: Keras's progress bar for the batches (0: none, 1: a bar, 2: a line per batch).

    Returns:
        Columns ``source``, ``hdu``, ``pixel_scale`` (arcsec, as read or given), ``resampled``,
        then for a classifier ``p_<class>`` per class and ``predicted_class``, for a regression
        model ``<target name>`` and ``unit``.
    """
    import pandas as pd

    from lensml.models import input_contract

    model = load_model_or_preset(model)
    cutouts = _as_cutouts(inputs, hdu, split, data_dir, max_examples)
    if not cutouts:
        raise ValueError("`inputs`: no images to predict")
    contract = input_contract(model)
    if contract["image_shape"] is None or len(contract["image_shape"]) != 3:
        raise ValueError(f"model {model.name!r} does not take one (height, width, channels) image input")
    images, notes = conform(cutouts, contract["image_shape"], contract["pixel_scale"], pixel_scale=pixel_scale,
                            resample=resample, masked=masked)
    outputs = np.asarray(model.predict(images, batch_size=batch_size, verbose=verbose), dtype=np.float64)
    table = pd.DataFrame({
        "source": [c.source for c in cutouts],
        "hdu": pd.array([c.hdu for c in cutouts], dtype="Int64"),
        "pixel_scale": [scale for scale, _ in notes],
        "resampled": [flag for _, flag in notes],
    })
    if outputs.ndim == 2 and outputs.shape[1] > 1:  # a classifier: one probability per class
        names = list(class_names) if class_names else (
            ["no_sub", "cdm", "axion"] if outputs.shape[1] == 3 else [f"class_{i}" for i in range(outputs.shape[1])])
        if len(names) != outputs.shape[1]:
            raise ValueError(f"class_names: {len(names)} names for a model with {outputs.shape[1]} classes")
        for i, name in enumerate(names):
            table[f"p_{name}"] = outputs[:, i]
        table["predicted_class"] = [names[i] for i in outputs.argmax(axis=1)]
    else:
        table[target[0]] = outputs.reshape(len(outputs), -1)[:, 0]
        table["unit"] = target[1]
    return table


FORMATS = ("csv", "json", "parquet")


def write_table(table, path, fmt: str | None = None) -> Path:
    """``table`` at ``path`` (atomically) as CSV, JSON (records) or Parquet (needs pyarrow);
    ``fmt`` defaults to the suffix of ``path``."""
    from lensml._io import atomic_target

    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower() or "csv"
    if fmt not in FORMATS:
        raise ValueError(f"format: got {fmt!r}, expected one of {FORMATS}")
    with atomic_target(path) as tmp:
        if fmt == "csv":
            table.to_csv(tmp, index=False)
        elif fmt == "json":
            table.to_json(tmp, orient="records", indent=2)
        else:
            try:
                table.to_parquet(tmp, index=False)
            except ImportError as e:
                raise ValueError(f"format 'parquet' needs pyarrow ({e}); `pip install pyarrow` or use csv / json") from None
    return path
