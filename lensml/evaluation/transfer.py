"""Cross-instrument transfer: train on Model I, test or fine-tune on Model II. The settings and
the resampling between instruments; the protocol that runs them is
``lensml.protocols.run_cross_instrument``.

Settings (each over label fractions of the target training split and seeds):

- ``scratch``: train on the target (Model II) only — the baseline.
- ``zero_shot``: train on the source (Model I), evaluate on the target test split unchanged.
- ``linear_probe``: source-trained encoder frozen, new head trained on the target subset.
- ``fine_tune``: source-trained weights, all layers fine-tuned on the target subset.

Model I images (150 x 150 at 0.05") and Model II images (64 x 64 at 0.101") differ in field
of view and pixel scale; :func:`match_instrument` maps one onto the other's grid.
"""

from __future__ import annotations

TRANSFER_SETTINGS = ("scratch", "zero_shot", "linear_probe", "fine_tune")


def match_instrument(images, pixel_scale: float, target_num_pix: int, target_pixel_scale: float):
    """Resample images onto another instrument's grid, keeping angles in arcsec.

    The central field of view of the target (``target_num_pix * target_pixel_scale`` arcsec) is
    cropped (or zero-padded when the source field is smaller) and resized bilinearly (with
    anti-aliasing) to ``target_num_pix`` pixels. E.g. Model I (150 px, 0.05") -> Model II
    (64 px, 0.101"): crop the central 129 px (6.46"), resize to 64.

    Args:
        images: (B, H, W, C) float32, square.
    Returns:
        (B, target_num_pix, target_num_pix, C) float32.
    """
    from keras import ops

    images = ops.convert_to_tensor(images, dtype="float32")
    if len(images.shape) != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"`images` must be square (B, H, H, C), got shape {tuple(images.shape)}.")
    if pixel_scale <= 0 or target_pixel_scale <= 0 or target_num_pix < 1:
        raise ValueError(f"pixel scales must be > 0 and target_num_pix >= 1, got {pixel_scale}, {target_pixel_scale}, {target_num_pix}.")
    size = images.shape[1]
    window = int(round(target_num_pix * target_pixel_scale / pixel_scale))
    if window <= size:
        start = (size - window) // 2
        images = images[:, start : start + window, start : start + window, :]
    else:
        before = (window - size) // 2
        images = ops.pad(images, [(0, 0), (before, window - size - before), (before, window - size - before), (0, 0)])
    return ops.image.resize(images, (target_num_pix, target_num_pix), interpolation="bilinear", antialias=True)


def instrument_grid(dataset: str) -> tuple[int, float]:
    """(num_pix, pixel_scale in arcsec) of a deeplense dataset, e.g. "deeplense/model_ii_3k" -> (64, 0.101),
    read from ``lensml.simulation.get_family``."""
    from lensml.evaluation.published import normalize_dataset
    from lensml.simulation import get_family

    config = normalize_dataset(dataset)
    family = next((f for f in ("model_iii", "model_ii", "model_i") if config == f or config.startswith(f + "_")), None)
    if family is None:
        raise ValueError(f"`dataset`={dataset!r} is not a deeplense Model I/II/III config; cannot find its instrument.")
    instrument = get_family(family).instrument
    return int(instrument.num_pix), float(instrument.pixel_scale)


def match_dataset_images(images, from_dataset: str, to_dataset: str):
    """:func:`match_instrument` between two deeplense datasets' grids (e.g. Model II test images
    onto the Model I grid a source-trained model expects). ``images``: (B, H, W, 1)."""
    _, from_scale = instrument_grid(from_dataset)
    to_pix, to_scale = instrument_grid(to_dataset)
    return match_instrument(images, from_scale, to_pix, to_scale)
