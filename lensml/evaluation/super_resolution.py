"""Super-resolution metrics: PSNR and SSIM (scikit-image), with bicubic upsampling as reference."""

from __future__ import annotations

import numpy as np

from lensml.evaluation._checks import as_float_array


def _as_images(value, name: str) -> np.ndarray:
    """(n, H, W) or (n, H, W, 1) -> (n, H, W) float64."""
    images = as_float_array(value, name, (3, 4))
    if images.ndim == 4:
        if images.shape[-1] != 1:
            raise ValueError(f"`{name}` must have one channel, got shape {images.shape}.")
        images = images[..., 0]
    return images


def bicubic_upsample(low_res, shape: tuple[int, int]) -> np.ndarray:
    """Upsample ``low_res`` (n, h, w[, 1]) to ``shape`` = (H, W) with scikit-image's bicubic
    interpolation (order 3, reflect at the borders, no anti-aliasing). Returns (n, H, W, 1) float32."""
    from skimage.transform import resize

    images = _as_images(low_res, "low_res")
    out = resize(images, (images.shape[0], *shape), order=3, mode="reflect", anti_aliasing=False)
    return out[..., None].astype(np.float32)


def psnr_ssim(high_res, predicted, data_range: float) -> dict:
    """Mean PSNR (dB) and SSIM over images. ``high_res``, ``predicted``: (n, H, W[, 1]) float."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    hr = _as_images(high_res, "high_res")
    sr = _as_images(predicted, "predicted")
    if hr.shape != sr.shape:
        raise ValueError(f"`predicted` has shape {sr.shape} but `high_res` has {hr.shape}; they must match.")
    # scikit-image works on one image at a time; evaluation is not a hot path.
    psnr = [peak_signal_noise_ratio(h, s, data_range=data_range) for h, s in zip(hr, sr)]
    ssim = [structural_similarity(h, s, data_range=data_range) for h, s in zip(hr, sr)]
    return {"psnr": float(np.mean(psnr)), "ssim": float(np.mean(ssim))}


def super_resolution_metrics(low_res, predicted, high_res, data_range: float | None = None) -> dict:
    """PSNR/SSIM of the model and of bicubic upsampling (the reference row).

    Args:
        low_res: (n, h, w[, 1]) low-resolution inputs.
        predicted: (n, H, W[, 1]) model outputs.
        high_res: (n, H, W[, 1]) ground truth.
        data_range: intensity range for PSNR/SSIM; default max - min of ``high_res`` over the set.

    Returns:
        ``{"psnr", "ssim"}`` of the model, ``{"bicubic_psnr", "bicubic_ssim"}`` of the reference,
        ``"data_range"`` and ``"num_examples"``.
    """
    hr = _as_images(high_res, "high_res")
    if data_range is None:
        data_range = float(hr.max() - hr.min()) or 1.0
    model = psnr_ssim(hr, predicted, data_range)
    bicubic = psnr_ssim(hr, bicubic_upsample(low_res, hr.shape[1:3]), data_range)
    return {
        "num_examples": int(hr.shape[0]),
        "data_range": float(data_range),
        "psnr": model["psnr"],
        "ssim": model["ssim"],
        "bicubic_psnr": bicubic["psnr"],
        "bicubic_ssim": bicubic["ssim"],
    }
