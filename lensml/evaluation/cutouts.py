"""A scientist's own images, read for a lensml model: FITS, ``.npy``, PNG / TIFF, folders of
them, or a ``deeplense/...`` dataset, each as a :class:`Cutout` with the pixel scale its file
states; and the flux-conserving resampling to a model's pixel scale and size.

- **FITS** (astropy): the HDU given (``hdu``), else the first HDU holding a 2-D image (a
  ``(1, H, W)`` cube counts). Pixel scale (arcsec) from the header's celestial WCS (``CD`` /
  ``CDELT`` / ``PC`` matrices, through ``astropy.wcs.utils.proj_plane_pixel_scales``), else a
  ``PIXSCALE`` keyword (arcsec), else unknown.
- **.npy**: read without unpickling code (``lensml.evaluation.inputs``); no pixel scale.
- **PNG / TIFF** (scikit-image): colour images become the mean of their RGB channels; no pixel
  scale.

Images stay in the file's units: the model's input contract normalises each image.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

#: File suffixes read as images (lower case).
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
IMAGE_SUFFIXES = FITS_SUFFIXES + (".npy", ".png", ".tif", ".tiff")


@dataclasses.dataclass
class Cutout:
    """One image: ``source`` (file path or dataset element), ``hdu`` (FITS HDU index, else
    None), ``image`` (H, W) float32 in the file's units, ``pixel_scale`` (arcsec, None when the
    file does not say)."""

    source: str
    image: np.ndarray
    hdu: int | None = None
    pixel_scale: float | None = None


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in sorted(IMAGE_SUFFIXES, key=len, reverse=True) if name.endswith(s)), path.suffix.lower())


def list_image_files(inputs) -> list[Path]:
    """The image files of ``inputs`` (files and folders, searched recursively), sorted within
    each folder; a path that does not exist or has another suffix is a ValueError naming it."""
    files = []
    for item in [inputs] if isinstance(inputs, (str, Path)) else inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _suffix(p) in IMAGE_SUFFIXES)
            if not found:
                raise ValueError(f"`inputs`: folder {str(path)!r} holds no images ({', '.join(IMAGE_SUFFIXES)})")
            files += found
        elif path.is_file():
            if _suffix(path) not in IMAGE_SUFFIXES:
                raise ValueError(f"`inputs`: {str(path)!r} is not an image file; expected one of {IMAGE_SUFFIXES}")
            files.append(path)
        else:
            raise ValueError(f"`inputs`: {str(path)!r} does not exist")
    return files


def fits_pixel_scale(header) -> float | None:
    """Arcsec per pixel from a FITS header: the celestial WCS's (mean of both axes), else
    ``PIXSCALE`` (arcsec), else None. Non-square pixels (axes differing by > 1 %) are a ValueError."""
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning
    from astropy.wcs.utils import proj_plane_pixel_scales

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(header, naxis=2)
    if wcs.has_celestial:
        scales = proj_plane_pixel_scales(wcs.celestial) * 3600.0  # degrees -> arcsec
        if abs(scales[0] - scales[1]) > 0.01 * max(scales):
            raise ValueError(f"non-square pixels ({scales[0]:.4g}\" x {scales[1]:.4g}\"); resample to square "
                             "pixels first")
        return float(np.mean(scales))
    if "PIXSCALE" in header:
        return float(header["PIXSCALE"])
    return None


def read_fits(path, hdu: int | None = None) -> Cutout:
    """The image HDU ``hdu`` (default: the first with a 2-D image) of a FITS file."""
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        if hdu is None:
            hdu = next((i for i, h in enumerate(hdul) if h.data is not None and np.squeeze(h.data).ndim == 2), None)
            if hdu is None:
                raise ValueError(f"{str(path)!r}: no HDU holds a 2-D image; name one with --hdu")
        if not 0 <= hdu < len(hdul):
            raise ValueError(f"{str(path)!r}: --hdu {hdu} does not exist (the file has {len(hdul)} HDUs)")
        data = hdul[hdu].data
        if data is None or np.squeeze(data).ndim != 2:
            shape = None if data is None else data.shape
            raise ValueError(f"{str(path)!r}: HDU {hdu} holds {shape}, not a 2-D image")
        try:
            scale = fits_pixel_scale(hdul[hdu].header)
        except ValueError as e:
            raise ValueError(f"{str(path)!r}, HDU {hdu}: {e}") from None
        return Cutout(str(path), np.asarray(np.squeeze(data), dtype=np.float32), hdu, scale)


def read_image_file(path, hdu: int | None = None) -> Cutout:
    """One file as a :class:`Cutout` (FITS, .npy, PNG or TIFF)."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix in FITS_SUFFIXES:
        return read_fits(path, hdu)
    if suffix == ".npy":
        from lensml.evaluation.inputs import read_npy_image

        image, _ = read_npy_image(path)
        return Cutout(str(path), image[..., 0])
    from skimage.io import imread

    image = np.asarray(imread(path), dtype=np.float32)
    if image.ndim == 3:  # RGB(A) display images: the mean of the colour channels
        image = image[..., :3].mean(axis=-1)
    if image.ndim != 2:
        raise ValueError(f"{str(path)!r} holds shape {image.shape}; expected one 2-D image")
    return Cutout(str(path), image)


def read_cutouts(inputs, *, hdu: int | None = None, split: str = "test", data_dir=None,
                 max_examples: int | None = None) -> list[Cutout]:
    """Every image of ``inputs``: paths (files, folders) or a ``deeplense/<config>`` dataset name
    (its ``split``, raw counts, the family's pixel scale)."""
    if isinstance(inputs, str) and inputs.startswith("deeplense/") and not Path(inputs).exists():
        return _dataset_cutouts(inputs, split, data_dir, max_examples)
    return [read_image_file(path, hdu) for path in list_image_files(inputs)[:max_examples]]


def _dataset_cutouts(name: str, split: str, data_dir, max_examples) -> list[Cutout]:
    from lensml.data import pipeline
    from lensml.data.pipeline import dataset_family
    from lensml.evaluation.inputs import as_arrays
    from lensml.simulation import get_family

    images, _ = as_arrays(pipeline(name, split, batch_size=64, normalization=None, shuffle=False,
                                   data_dir=data_dir), max_examples=max_examples)
    scale = get_family(dataset_family(name)).instrument.pixel_scale
    return [Cutout(f"{name}[{split}][{i}]", images[i, ..., 0], None, scale) for i in range(len(images))]


def resample(image: np.ndarray, from_scale: float, to_scale: float) -> np.ndarray:
    """``image`` (H, W) with pixels of ``from_scale`` arcsec resampled to ``to_scale`` arcsec over
    the same field of view (``round(H * from_scale / to_scale)`` pixels a side), conserving flux:
    scikit-image's linear interpolation of the surface brightness (anti-aliased when the pixels
    grow), times the ratio of pixel areas, so the image's total flux is kept up to the rounding
    of its size and its edge pixels."""
    from skimage.transform import rescale

    factor = from_scale / to_scale
    surface = rescale(image.astype(np.float64), factor, order=1, anti_aliasing=factor < 1, mode="edge",
                      preserve_range=True)
    return (surface / factor**2).astype(np.float32)  # flux per pixel scales with the pixel area


def center_crop(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The central ``size`` (H, W) of ``image``; ValueError when it is smaller."""
    h, w = image.shape
    th, tw = size
    if h < th or w < tw:
        raise ValueError(f"{h}x{w} is smaller than {th}x{tw}")
    top, left = (h - th) // 2, (w - tw) // 2
    return image[top:top + th, left:left + tw]
