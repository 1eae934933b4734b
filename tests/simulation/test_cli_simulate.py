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
    axion = np.load(out / "axion" / "axion_sim_2.npy", allow_pickle=False)  # a plain array: nothing pickled
    assert axion.shape == (64, 64) and axion.dtype == np.float32
    rows = list(csv.DictReader(open(out / "metadata.csv")))
    assert [r["class"] for r in rows] == ["no_sub", "cdm", "axion"] * 2
    assert -24 <= float(rows[2]["log10_axion_mass"]) <= -22
    # the evaluation reader takes the mass from metadata.csv
    from lensml.evaluation.inputs import load_npy_folder

    data = load_npy_folder(out)
    axion_rows = data["labels"] == 2
    assert np.allclose(data["log10_axion_mass"][axion_rows],
                       sorted(float(r["log10_axion_mass"]) for r in rows if r["class"] == "axion"))
    assert np.isnan(data["log10_axion_mass"][~axion_rows]).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no staging folder left


def test_simulate_is_all_or_nothing(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ds"
    args = ["simulate", "--family", "model_ii", "--per-class", "2", "--out", str(out), "--workers", "1"]
    # a run that dies half-way (here: the 4th file cannot be written) leaves no folder at all
    saved = []
    real_save = np.save

    def failing_save(path, *a, **k):
        if len(saved) == 3:
            raise KeyboardInterrupt
        saved.append(path)
        return real_save(path, *a, **k)

    monkeypatch.setattr(np, "save", failing_save)
    try:
        main(args)
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(np, "save", real_save)
    assert list(tmp_path.iterdir()) == []
    # a SIGKILLed run's staging folder (its process is gone) is removed by the next run
    (tmp_path / ".ds.staging-999999999" / "cdm").mkdir(parents=True)
    assert main(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]
    # an existing folder is refused (never mixed with another run's files) ...
    assert main(args[:4] + ["1"] + args[5:]) == 2
    assert "already exists" in capsys.readouterr().err and len(list((out / "cdm").glob("*.npy"))) == 2
    # ... unless --overwrite, which replaces it whole
    assert main(args[:4] + ["1"] + args[5:] + ["--overwrite"]) == 0
    assert len(list((out / "cdm").glob("*.npy"))) == 1 and len(list(out.rglob("*.npy"))) == 3


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
