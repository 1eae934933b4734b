"""``lensml demo``: ray-trace one SIE + shear + subhalo lens and write a PNG.

The PNG shows the lensed image (with a Gaussian PSF and Euclid-like noise), the
convergence of the main halo with the subhalo positions, the true source, and the source
reconstructed from the image by inverse lensing with the true deflection map.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="lensml-demo.png", help="output PNG path (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the lens, source and noise")
    parser.add_argument("--num-pix", type=int, default=64, help="image pixels per side (default: %(default)s)")
    parser.add_argument(
        "--pixel-scale", type=float, default=0.101, help="arcsec per pixel (default: %(default)s, Euclid VIS)"
    )
    parser.add_argument("--subhalos", type=int, default=5, help="number of point-mass subhalos (default: %(default)s)")


def simulate(seed: int, num_pix: int, pixel_scale: float, num_subhalos: int) -> dict:
    """One lens system as numpy arrays: image, kappa, alpha, source, reconstruction, parameters."""
    import keras
    import numpy as np
    from keras import ops

    from lensml.physics import (
        InverseLens,
        LightModel,
        MassModel,
        add_instrument_noise,
        convolve_gaussian_psf,
        pixel_grid,
    )

    rng = np.random.default_rng(seed)
    radius = rng.uniform(0.4, 2.0, num_subhalos)
    phi = rng.uniform(0, 2 * np.pi, num_subhalos)
    subhalos = [
        {"theta_E": float(t), "center_x": float(r * np.cos(p)), "center_y": float(r * np.sin(p))}
        for t, r, p in zip(rng.uniform(0.03, 0.12, num_subhalos), radius, phi)
    ]
    kwargs_lens = [
        {"theta_E": 1.2, "e1": 0.1, "e2": 0.0, "center_x": 0.0, "center_y": 0.0},
        {"gamma1": 0.05, "gamma2": 0.0},
    ] + subhalos
    source_centre = rng.uniform(-0.35, 0.35, 2)
    kwargs_source = [
        {"amp": 20.0, "R_sersic": 0.25, "n_sersic": 1.0, "e1": -0.1, "e2": 0.1,
         "center_x": float(source_centre[0]), "center_y": float(source_centre[1])}
    ]
    def render(kwargs_lens, kwargs_source):
        mass = MassModel(["SIE", "SHEAR"] + ["POINT_MASS"] * num_subhalos)
        light = LightModel(["SERSIC_ELLIPSE"])
        x, y = pixel_grid(num_pix, pixel_scale)
        alpha_x, alpha_y = mass.deflection(x, y, kwargs_lens)
        image = light.surface_brightness(x - alpha_x, y - alpha_y, kwargs_source)[None, ..., None]
        image = convolve_gaussian_psf(image, fwhm=0.16, pixel_scale=pixel_scale)
        noisy = add_instrument_noise(
            image, seed, pixel_scale=pixel_scale, exposure_time=565.0, num_exposures=4, sky_brightness=22.35,
            magnitude_zero_point=24.0, read_noise=4.2, ccd_gain=3.1,
        )
        alpha = ops.stack([alpha_x, alpha_y], axis=-1)[None]
        # The source grid: half the image's field of view at half its pixel size.
        reconstruction = InverseLens(
            pixel_scale=pixel_scale, source_num_pix=num_pix, source_pixel_scale=pixel_scale / 2
        )([noisy, alpha])
        xs, ys = pixel_grid(num_pix, pixel_scale / 2)
        source = light.surface_brightness(xs, ys, kwargs_source)
        return noisy, mass.convergence(x, y, kwargs_lens), source, reconstruction

    if keras.backend.backend() == "jax":
        # One compiled graph instead of compiling every op on first use.
        import jax

        render = jax.jit(render)
    noisy, kappa, source, reconstruction = render(kwargs_lens, kwargs_source)
    to_np = lambda v: np.asarray(ops.convert_to_numpy(v))  # noqa: E731
    return {
        "image": to_np(noisy)[0, ..., 0],
        "kappa": to_np(kappa),
        "source": to_np(source),
        "reconstruction": to_np(reconstruction)[0, ..., 0],
        "subhalos": subhalos,
        "extent": num_pix * pixel_scale / 2,
    }


def main(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if args.num_pix < 8:
        raise ValueError(f"--num-pix must be >= 8, got {args.num_pix}")
    result = simulate(args.seed, args.num_pix, args.pixel_scale, args.subhalos)
    half = result["extent"]
    image_extent = (-half, half, -half, half)
    source_extent = (-half / 2, half / 2, -half / 2, half / 2)
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.3))
    panels = [
        ("lensed image (PSF + noise)", result["image"], image_extent, "magma"),
        ("convergence (log10), subhalos", np.log10(np.clip(result["kappa"], 1e-2, None)), image_extent, "viridis"),
        ("true source", result["source"], source_extent, "magma"),
        ("reconstructed source (InverseLens)", result["reconstruction"], source_extent, "magma"),
    ]
    for ax, (title, data, extent, cmap) in zip(axes, panels):
        shown = ax.imshow(data, origin="lower", extent=extent, cmap=cmap)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("x [arcsec]")
        fig.colorbar(shown, ax=ax, fraction=0.046)
    axes[0].set_ylabel("y [arcsec]")
    for sub in result["subhalos"]:
        axes[1].plot(sub["center_x"], sub["center_y"], "w+", markersize=8)
    fig.suptitle(f"lensml demo: SIE + shear + {len(result['subhalos'])} subhalos, seed {args.seed}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0
