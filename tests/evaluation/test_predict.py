"""``lensml predict`` / ``lensml.predict``: a model applied to FITS cutouts (written here with
astropy: with a WCS, with NaN pixels, at another pixel scale and size), .npy and PNG files."""

import json

import numpy as np
import pytest

from lensml.cli import main as cli

SCALE = 0.101  # arcsec per pixel the test model was "trained" at


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    import lensml.models as M

    model = M.build("resnet18", (16, 16, 1), width=4, stage_blocks=(1, 1, 1, 1), input_pixel_scale=SCALE)
    path = tmp_path_factory.mktemp("model") / "m.keras"
    model.save(path)
    return path


def _lens(size, scale, rng):
    """A lens-like image (a ring plus sky) over a field of 16 x 0.101 arcsec, in counts."""
    c = (np.arange(size) - (size - 1) / 2) * scale
    x, y = np.meshgrid(c, c)
    ring = np.exp(-((np.hypot(x, y) - 0.5) ** 2) / 0.02)
    return (100 * ring + 5 + rng.normal(0, 0.5, (size, size))).astype("float32")


def _fits(path, image, scale=None, pixscale_keyword=None):
    from astropy.io import fits
    from astropy.wcs import WCS

    header = fits.Header()
    if scale is not None:  # a celestial WCS with a CD matrix
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [150.0, 2.0]
        wcs.wcs.crpix = [image.shape[1] / 2, image.shape[0] / 2]
        wcs.wcs.cd = [[-scale / 3600, 0], [0, scale / 3600]]
        header = wcs.to_header(relax=True)
    if pixscale_keyword is not None:
        header["PIXSCALE"] = pixscale_keyword
    # HDU 0 empty (as survey files often are), the image in HDU 1
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(image, header=header)]).writeto(path)
    return path


def test_fits_cutouts_are_held_to_the_models_contract(model_path, tmp_path, rng):
    import keras

    import lensml

    model = keras.saving.load_model(model_path)
    good = _fits(tmp_path / "good.fits", _lens(16, SCALE, rng), scale=SCALE)
    table = lensml.predict(model, [good])
    assert list(table.columns) == ["source", "hdu", "pixel_scale", "resampled", "p_no_sub", "p_cdm", "p_axion",
                                   "predicted_class"]
    assert table["hdu"][0] == 1 and table["pixel_scale"][0] == pytest.approx(SCALE)
    from astropy.io import fits

    stored = np.asarray(fits.getdata(good, 1), dtype="float32")[None, ..., None]
    np.testing.assert_allclose(table[["p_no_sub", "p_cdm", "p_axion"]].to_numpy()[0],
                               model.predict(stored, verbose=0)[0], rtol=1e-5)  # the model's own answer

    # another pixel scale: an error naming the file and both values, or resampled over the same field
    fine = _fits(tmp_path / "fine.fits", _lens(32, 0.0505, rng), scale=0.0505)
    with pytest.raises(ValueError, match=r"fine.fits\[1\]: pixel scale 0.0505\" but the model was trained at 0.101\""):
        lensml.predict(model, [fine])
    row = lensml.predict(model, [fine], resample=True)
    assert bool(row["resampled"][0]) and row["p_cdm"].notna().all()

    # another size at the model's scale: an error, or the centre of a larger image with resample
    big = _fits(tmp_path / "big.fits", _lens(20, SCALE, rng), pixscale_keyword=SCALE)  # PIXSCALE keyword only
    with pytest.raises(ValueError, match=r"big.fits\[1\]: 20x20 pixels, but the model takes 16x16"):
        lensml.predict(model, [big])
    assert len(lensml.predict(model, [big], resample=True)) == 1

    # NaN pixels: named, or filled with masked="fill"
    holed = _lens(16, SCALE, rng)
    holed[3:5, 3:5] = np.nan
    nan_file = _fits(tmp_path / "holed.fits", holed, scale=SCALE)
    with pytest.raises(ValueError, match=r"1 image\(s\) hold NaN or inf pixels \(.*holed.fits\[1\]: 4 pixels\)"):
        lensml.predict(model, [good, nan_file])
    filled = lensml.predict(model, [good, nan_file], masked="fill")
    assert filled[["p_no_sub", "p_cdm", "p_axion"]].notna().all().all()


def test_predict_command_on_a_folder_of_fits_npy_and_png(model_path, tmp_path, rng, capsys):
    from skimage.io import imsave

    folder = tmp_path / "cutouts"
    (folder / "night2").mkdir(parents=True)
    _fits(folder / "a.fits", _lens(16, SCALE, rng), scale=SCALE)
    np.save(folder / "b.npy", _lens(16, SCALE, rng))
    png = _lens(16, SCALE, rng)
    imsave(folder / "night2" / "c.png", (255 * png / png.max()).astype("uint8"), check_contrast=False)
    imsave(folder / "night2" / "d.tif", _lens(16, SCALE, rng), check_contrast=False)  # float32 TIFF
    out = tmp_path / "predictions.csv"
    # .npy and PNG files state no pixel scale: given with --pixel-scale (the FITS header's wins)
    assert cli(["predict", str(model_path), str(folder), "--out", str(out), "--pixel-scale", str(SCALE)]) == 0
    import pandas as pd

    table = pd.read_csv(out)
    assert [p.rsplit("/", 1)[-1] for p in table["source"]] == ["a.fits", "b.npy", "c.png", "d.tif"]
    assert np.allclose(table[["p_no_sub", "p_cdm", "p_axion"]].sum(axis=1), 1.0, atol=1e-5)
    assert set(table["predicted_class"]) <= {"no_sub", "cdm", "axion"}
    for fmt in ("json", "parquet"):
        assert cli(["predict", str(model_path), str(folder), "--out", str(tmp_path / f"p.{fmt}")]) == 0
    assert len(json.loads((tmp_path / "p.json").read_text())) == 4
    assert pd.read_parquet(tmp_path / "p.parquet")["source"].tolist() == table["source"].tolist()
    capsys.readouterr()
    # a bad input names itself
    (folder / "notes.txt").write_text("x")
    assert cli(["predict", str(model_path), str(folder / "notes.txt"), "--out", str(out)]) == 2
    assert "is not an image file" in capsys.readouterr().err


def test_predict_a_deeplense_dataset_split(tmp_path):
    """A ``deeplense/<config>`` input: its split's raw images at the family's pixel scale."""
    import lensml.models as M
    from lensml.evaluation.predict import predict

    model = M.build("resnet18", (64, 64, 1), width=4, stage_blocks=(1, 1, 1, 1), input_pixel_scale=SCALE)
    table = predict(model, "deeplense/model_ii_tiny", split="validation", data_dir=str(tmp_path / "tfds"))
    assert len(table) == 12 and table["source"][0] == "deeplense/model_ii_tiny[validation][0]"
    assert table["pixel_scale"].tolist() == [SCALE] * 12 and not table["resampled"].any()
