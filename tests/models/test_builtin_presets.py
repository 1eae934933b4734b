"""The presets lensml ships (``benchmarks/build_presets.py``): each loads by name, needs no
download, and scores above stated floors on freshly simulated lenses of a seed that neither its
training nor its reported figures used."""

from pathlib import Path

import numpy as np
import pytest

import lensml.models as M

#: preset -> (accuracy, macro AUC) floors on 150 fresh lenses: about 0.06 and 0.03 under the
#: figures measured on 600 lenses (benchmarks/results/presets.md), beyond the ~0.03 binomial
#: standard error of an accuracy on 150 lenses.
FLOORS = {"resnet18_model_ii_published": (0.85, 0.95), "resnet18_model_ii": (0.85, 0.95)}
UNSEEN_SEED = 20_000  # training streams use seeds 0..; the preset cards report seed 10,000


def test_the_builtin_presets_are_listed_and_small():
    presets = M.list_presets()
    assert set(FLOORS) <= set(presets)
    total = sum(p.stat().st_size for name in FLOORS for p in Path(presets[name]).iterdir())
    assert total < 20e6, f"built-in presets take {total / 1e6:.1f} MB; the budget is 20 MB"


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_builtin_preset_scores_on_unseen_fresh_lenses(name):
    from lensml.evaluation import classification_metrics
    from lensml.protocols.quickstart import fresh_lenses

    model = M.from_preset(name)
    family = name[len("resnet18_"):]
    assert M.input_contract(model)["pixel_scale"] == pytest.approx(0.101)  # Model II: Euclid VIS pixels
    images, labels = fresh_lenses(family, 150, seed=UNSEEN_SEED)
    metrics = classification_metrics(labels, model.predict(images, batch_size=50, verbose=0),
                                     ["no_sub", "cdm", "axion"])
    accuracy, auc = FLOORS[name]
    assert metrics["accuracy"] >= accuracy and metrics["macro_auc"] >= auc, metrics
    assert np.isfinite(metrics["ece"])


def test_a_builtin_preset_to_a_csv_of_predictions_on_fits_cutouts(tmp_path):
    """The one command of the README: a built-in preset applied to a folder of FITS cutouts."""
    import pandas as pd
    from astropy.io import fits
    from astropy.wcs import WCS

    from lensml.cli import main
    from lensml.protocols.quickstart import fresh_lenses

    images, labels = fresh_lenses("model_ii", 6, seed=UNSEEN_SEED + 1)
    folder = tmp_path / "cutouts"
    folder.mkdir()
    for i, image in enumerate(images):
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.cdelt = [-0.101 / 3600, 0.101 / 3600]  # Euclid VIS pixels, as a CDELT WCS
        fits.PrimaryHDU(image[..., 0] * 1000.0, header=wcs.to_header()).writeto(folder / f"lens_{i}.fits")
    out = tmp_path / "predictions.csv"
    assert main(["predict", "resnet18_model_ii", str(folder), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 6 and (table["hdu"] == 0).all()
    assert table["pixel_scale"].tolist() == pytest.approx([0.101] * 6)
    assert set(table["predicted_class"]) <= {"no_sub", "cdm", "axion"}
