"""Where a super-resolution model's error is: flat background or arcs (vs bicubic).

    python benchmarks/sr_background_error.py reproduce/runs/finetune_mae_vit_mask90_sr16_model_ii/seed_0

Loads the run's best checkpoint and config, predicts its test split, and prints the mean absolute
error of the model and of bicubic upsampling on background pixels (high-resolution value < 0.02 of
the min-max range) and on the rest, then PSNR / SSIM of the model as it is and with its background
pixels replaced by bicubic's: if the second SSIM beats bicubic, the SSIM deficit is the background.
"""

import argparse

import numpy as np


def main():
    import keras

    from lensml.evaluation import bicubic_upsample, super_resolution_metrics
    from lensml.training import load_config
    from lensml.training.runner import default_data_factory

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a super-resolution run folder (config.toml, checkpoints/best.keras)")
    p.add_argument("--threshold", type=float, default=0.02)
    args = p.parse_args()
    config = load_config(f"{args.run}/config.toml")
    model = keras.saving.load_model(f"{args.run}/checkpoints/best.keras")
    pairs = [(np.asarray(lr), np.asarray(hr)) for lr, hr in
             default_data_factory(config.data, config.data.test_split, training=False, seed=0)]
    lr, hr = np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs])
    sr = np.asarray(model.predict(lr, verbose=0))
    bicubic = np.asarray(bicubic_upsample(lr, hr.shape[1:3]))  # the reference row of super_resolution_metrics
    background = hr < args.threshold
    print(f"background: {background.mean():.1%} of the pixels")
    for name, x in (("model", sr), ("bicubic", bicubic)):
        err = np.abs(x - hr)
        print(f"{name}: MAE background {err[background].mean():.5f}, MAE arcs {err[~background].mean():.5f}")
    for name, x in (("model", sr), ("model, bicubic background", np.where(background, bicubic, sr))):
        m = super_resolution_metrics(low_res=lr, predicted=x, high_res=hr)
        print(f"{name}: PSNR {m['psnr']:.2f} / SSIM {m['ssim']:.4f} (bicubic {m['bicubic_psnr']:.2f} / "
              f"{m['bicubic_ssim']:.4f})")


if __name__ == "__main__":
    main()
