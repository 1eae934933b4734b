"""``lensml simulate``: old .npy layout, metadata, errors."""

import csv

import numpy as np

from lensml.cli import main


def test_simulate_writes_the_old_layout(tmp_path, capsys):
    out = tmp_path / "ds"
    rc = main(["simulate", "--family", "model_ii", "--per-class", "2", "--out", str(out), "--workers", "1"])
    assert rc == 0
    for name in ("no_sub", "cdm", "axion"):
        files = sorted((out / name).glob("*.npy"))
        assert len(files) == 2
    image = np.load(out / "no_sub" / "no_sub_sim_0.npy")
    assert image.shape == (64, 64) and image.dtype == np.float32
    axion = np.load(out / "axion" / "axion_sim_2.npy", allow_pickle=True)
    assert axion[0].shape == (64, 64) and 1e-24 <= axion[1] <= 1e-22
    rows = list(csv.DictReader(open(out / "metadata.csv")))
    assert [r["class"] for r in rows] == ["no_sub", "cdm", "axion"] * 2
    assert np.log10(axion[1]) == np.float64(rows[2]["log10_axion_mass"]) or abs(
        np.log10(axion[1]) - float(rows[2]["log10_axion_mass"])) < 1e-6


def test_simulate_bad_input(tmp_path, capsys):
    assert main(["simulate", "--family", "model_v", "--per-class", "2", "--out", str(tmp_path)]) == 2
    assert "unknown family 'model_v'" in capsys.readouterr().err
    assert main(["simulate", "--family", "model_ii", "--per-class", "0", "--out", str(tmp_path)]) == 2
    assert "--per-class must be a positive int, got 0" in capsys.readouterr().err


def test_simulate_a_published_family(tmp_path):
    out = tmp_path / "pub"
    assert main(["simulate", "--family", "model_i_published", "--per-class", "1", "--out", str(out),
                 "--workers", "1"]) == 0
    counts = np.load(out / "cdm" / "cdm_sim_1.npy")
    assert counts.shape == (150, 150) and np.all(counts == np.round(counts)) and counts.min() >= 0  # Poisson counts
