"""`lensml evaluate` and `lensml compare` end to end on a tiny saved model and .npy folder."""

import json
import shutil

import numpy as np
import pytest

from lensml.cli import main as cli
from lensml.evaluation.compare import compare_runs
from lensml.evaluation.published import normalize_dataset, published_for


def _write_npy_folder(root, rng, per_class=3, size=16):
    for label, name in enumerate(["no_sub", "cdm", "axion"]):
        (root / "test" / name).mkdir(parents=True)
        for i in range(per_class):
            image = rng.random((size, size)) * 0.2 + label
            payload = np.array([image, 1e-23], dtype=object) if name == "axion" else image
            np.save(root / "test" / name / f"{i}.npy", payload)


def test_evaluate_and_compare_commands(tmp_path, rng, tiny_cnn, capsys):
    model_path = tmp_path / "tiny.keras"
    tiny_cnn.save(model_path)
    _write_npy_folder(tmp_path / "data", rng)
    rc = cli(["evaluate", "--model", str(model_path), "--data", str(tmp_path / "data"), "--split", "test",
              "--out", str(tmp_path / "run_a"), "--model-name", "resnet18"])
    assert rc == 0
    progress = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[lensml evaluate]")]
    assert [line.split(" ")[2] for line in progress] == ["loading", "predicting", "metrics"]  # never silent
    shutil.copytree(tmp_path / "run_a", tmp_path / "run_b")  # a second "seed" for the aggregation
    record = json.loads((tmp_path / "run_a" / "metrics.json").read_text())
    assert record["num_examples"] == 9 and record["model_name"] == "resnet18"
    assert (tmp_path / "run_a" / "gradcam.png").stat().st_size > 2000

    capsys.readouterr()
    assert cli(["compare", str(tmp_path / "run_a"), str(tmp_path / "run_b"), "--out", str(tmp_path / "cmp.md")]) == 0
    table = capsys.readouterr().out
    assert "+-" in table and "| 2 |" in table  # two seeds aggregated into one row
    assert (tmp_path / "cmp.md").read_text() == table


def test_compare_published_column(tmp_path):
    for name, acc in (("a", 0.80), ("b", 0.84)):
        (tmp_path / name).mkdir()
        record = {"task": "classification", "model_name": "ResNet-18", "dataset": "deeplense/model_ii_3k", "split": "test",
                  "accuracy": acc, "micro_f1": acc, "macro_f1": acc, "macro_auc": 0.9, "ece": 0.05}
        (tmp_path / name / "metrics.json").write_text(json.dumps(record))
    table = compare_runs([tmp_path / "a", tmp_path / "b"])
    assert "0.8200 +- 0.0283" in table
    assert "accuracy 0.818" in table and "accuracy 0.8207" in table
    separate = compare_runs([tmp_path / "a", tmp_path / "b"], aggregate=False)
    assert separate.count("| resnet") == 0 and separate.count("ResNet-18") == 2


def test_published_matching():
    assert normalize_dataset("deeplense/model_ii_3k:1.0.0") == "model_ii_3k"
    assert {p.metric for p in published_for("lens-jepa", "deeplense/model_ii_3k")} >= {"accuracy", "auc_per_class/axion"}
    assert published_for("resnet18", "my_own_data") == []


def test_command_errors(tmp_path, rng, tiny_cnn, capsys):
    rc = cli(["evaluate", "--model", str(tmp_path / "missing.keras"), "--data", str(tmp_path), "--out", str(tmp_path / "o")])
    assert rc == 2 and "missing.keras" in capsys.readouterr().err
    model_path = tmp_path / "tiny.keras"
    tiny_cnn.save(model_path)
    (tmp_path / "empty" / "test" / "cdm").mkdir(parents=True)
    rc = cli(["evaluate", "--model", str(model_path), "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert rc == 2 and "no .npy files" in capsys.readouterr().err
    _write_npy_folder(tmp_path / "data", rng)
    rc = cli(["evaluate", "--model", str(model_path), "--data", str(tmp_path / "data"), "--out", str(tmp_path / "o"),
              "--class-names", "a,b"])
    assert rc == 2 and "2 classes" in capsys.readouterr().err
    assert cli(["compare", str(tmp_path / "nothing")]) == 2
    assert "metrics.json" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["compare"])


def test_evaluate_writes_its_report_whole_or_not_at_all(tmp_path, rng, tiny_cnn, capsys, monkeypatch):
    model_path = tmp_path / "tiny.keras"
    tiny_cnn.save(model_path)
    _write_npy_folder(tmp_path / "data", rng)
    args = ["evaluate", "--model", str(model_path), "--data", str(tmp_path / "data"), "--out",
            str(tmp_path / "report"), "--no-gradcam"]
    # killed while writing its figures: no report folder, no staging folder left
    from lensml.evaluation import plots

    def dies(*a, **k):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(plots, "plot_reliability_diagram", dies)
        with pytest.raises(KeyboardInterrupt):
            cli(args)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "tiny.keras"]
    assert cli(args) == 0
    (tmp_path / "report" / "old_figure.png").write_bytes(b"x")
    capsys.readouterr()
    assert cli(args) == 2 and "already exists" in capsys.readouterr().err  # never mixed with another report
    assert cli(args + ["--overwrite"]) == 0
    assert not (tmp_path / "report" / "old_figure.png").exists() and (tmp_path / "report" / "metrics.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["d4lenspinn", "lenspinn_small"])
def test_evaluate_physics_models_with_tta_and_interpretability(tmp_path, rng, name):
    """The physics models from the CLI: D4 test-time augmentation and interpretability through
    the Poisson solver's two outputs (D4LensPINN) and the stacked image-and-source batch (LensPINN)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
    from _configs import TINY

    from lensml.evaluation.patching import default_patch_layers
    from lensml.models.registry import build

    model = build(name, (32, 32, 1), 3, **TINY[name])
    model.save(tmp_path / "m.keras")
    multi = "poisson" if name == "d4lenspinn" else "image_and_source_features"
    sites = default_patch_layers(model)  # the default: each output of a multi-output layer is its own site
    assert {f"{multi}/0", f"{multi}/1"} <= set(sites) and multi not in sites
    # every default site of the model: a few here (each site costs 7 patched forward passes)
    chosen = [f"{multi}/0", f"{multi}/1", "source", "predictions"] + (["image_and_source"] if name != "d4lenspinn" else [])
    _write_npy_folder(tmp_path / "data", rng, per_class=2, size=32)
    out = tmp_path / "eval"
    assert cli(["evaluate", "--model", str(tmp_path / "m.keras"), "--data", str(tmp_path / "data"), "--out", str(out),
                "--tta", "d4", "--interpretability", "--interpretability-layers", ",".join(chosen)]) == 0
    record = json.loads((out / "metrics.json").read_text())
    assert record["tta"] == "d4" and (out / "gradcam.png").is_file() and (out / "patching.png").is_file()
    assert list(record["interpretability"]["patching"]) == chosen
    probed = set(record["interpretability"]["probes"])
    if name == "d4lenspinn":
        assert {"poisson/0", "poisson/1"} <= probed
    else:  # the shared decoder's stacked batch (image and source, 2N rows): patched, not probed
        assert "image_and_source" not in probed and "image_and_source_features/0" in probed
        assert any("stacked batch" in note for note in record["notes"])
    # a multi-output layer named without its output is refused with the sites to choose from
    assert cli(["evaluate", "--model", str(tmp_path / "m.keras"), "--data", str(tmp_path / "data"), "--out",
                str(tmp_path / "bad"), "--no-gradcam", "--interpretability", "--interpretability-layers", multi]) == 2
    assert not (tmp_path / "bad").exists()
