"""``lensml quickstart --tiny`` end to end, ``lensml benchmark reproduce --scale tiny`` on one
row, and ``lensml benchmark speed``'s collection (on a stand-in script)."""

import json
import re
import sys
from pathlib import Path

import pytest

from lensml.cli import main as cli

PNG = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One TFDS data dir for the module: the tiny dataset is simulated once."""
    return tmp_path_factory.mktemp("tfds")


def _assert_png(path: Path):
    assert path.is_file(), path
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 2000, path


@pytest.mark.slow
def test_quickstart_tiny_writes_every_file(tmp_path, data_dir):
    out = tmp_path / "report"
    assert cli(["quickstart", "--tiny", "--out", str(out), "--data-dir", str(data_dir)]) == 0
    record = json.loads((out / "metrics.json").read_text())
    assert list(record["models"]) == ["resnet18", "lenspinn_small"]
    assert record["family"] == "model_ii_published" and record["source"] == "stream"
    assert record["dataset"]["name"] == "deeplense/model_ii_published_n8"
    assert record["dataset"]["splits"] == {"train": 15, "validation": 3, "test": 6}
    assert (data_dir / "deeplense" / "model_ii_published_n8").is_dir()  # cached in the TFDS data dir
    for name, m in record["models"].items():
        assert 0.0 <= m["accuracy"] <= 1.0 and m["num_params"] > 0
        assert 0.0 <= m["fresh"]["accuracy"] <= 1.0 and record["fresh"]["count"] == 24
        # trained on the stream: one epoch of 2 batches of 16 fresh lenses, logged once
        assert m["lenses_seen"] == 2 * 16 and m["steps_per_epoch"] == 2
        history = (out / "runs" / name / "history.csv").read_text().splitlines()
        assert len(history) == 2, history
        for png in ("roc.png", "confusion_matrix.png", "reliability.png", "samples.png"):
            _assert_png(out / name / png)
        assert json.loads((out / name / "metrics.json").read_text())["model_name"] == name
        assert (out / "runs" / name / "model.keras").is_file()
        assert (out / "runs" / name / "history.csv").is_file()
    _assert_png(out / "examples.png")
    report = (out / "report.md").read_text()
    for name in record["models"]:
        assert f"| {name} |" in report  # the metrics table has a row per model
    links = re.findall(r"\]\(([^)]+)\)", report)
    for target in ("examples.png", "resnet18/roc.png", "lenspinn_small/confusion_matrix.png", "runs/resnet18",
                   "resnet18/training_curves.png"):
        assert target in links, target
    for link in links:
        assert (out / link).exists(), link
    assert record["timings"]["total_s"] > 0 and record["timings"]["cpu_user_s"] > 0


def test_examples_sources_follow_the_einstein_radius():
    import numpy as np

    from lensml.experiments.quickstart import reconstruct_sources

    # An Einstein ring of radius 1" under an SIS of radius 1" maps back onto the source centre.
    n, s = 32, 0.1
    c = (np.arange(n) - (n - 1) / 2) * s
    x, y = np.meshgrid(c, c)
    ring = np.exp(-((np.hypot(x, y) - 1.0) ** 2) / (2 * 0.1**2)).astype("float32")[None, :, :, None]
    right, wrong = reconstruct_sources(np.concatenate([ring, ring]), [1.0, 0.3], s)[..., 0]
    r = np.hypot(x, y)
    central = r < 0.3
    assert right[central].sum() > 3 * wrong[central].sum()


def test_split_sizes_and_bad_arguments():
    from lensml.datasets import sized_config, split_sizes

    assert split_sizes(3000) == (2160, 240, 600)
    assert split_sizes(8) == (5, 1, 2)
    with pytest.raises(ValueError, match="per_class"):
        split_sizes(3)
    with pytest.raises(ValueError, match="family"):
        sized_config("model_x", 10)
    assert sized_config("model_ii", 10) == "deeplense/model_ii_n10"
    assert cli(["quickstart", "--models", "resnet18,nope", "--out", "unused"]) == 2


@pytest.mark.slow
def test_reproduce_tiny_one_row(tmp_path, data_dir):
    from lensml.experiments.reproduce import reproduce

    result = reproduce("lenspinn", "tiny", tmp_path / "rep", rows=["resnet18"], root=ROOT, data_dir=data_dir,
                       log=lambda m: None)
    table = Path(result["markdown"]).read_text()
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if line.startswith("| ")}
    resnet = rows["ResNet18"]
    assert "0.818" in resnet  # the paper's number ...
    assert re.search(r"\| \d\.\d{3} \(1 seed\) \|", resnet)  # ... beside lensml's (one seed at tiny scale)
    assert resnet.rstrip(" |").endswith("ok")
    assert "skipped" in rows["LensPINN_small"]
    assert "Scale tiny" in table
    saved = json.loads(Path(result["json"]).read_text())
    assert len(saved["results"]["ResNet18"]["runs"]) == 1


def test_reproduce_rows_without_trainers_say_so(tmp_path):
    from lensml.experiments.reproduce import TABLES, reproduce

    result = reproduce("lens_jepa", "small", tmp_path, rows=["I-JEPA", "Lens-JEPA"], root=ROOT, log=lambda m: None)
    table = Path(result["markdown"]).read_text()
    jepa = next(line for line in table.splitlines() if line.startswith("| Lens-JEPA"))
    assert "0.912" in jepa and "not run" in jepa and "lensml pretrain" in jepa and "+-" not in jepa
    assert set(TABLES) == {"lenspinn", "lens_jepa", "ssl", "mae", "d4lenspinn"}
    with pytest.raises(ValueError, match="table"):
        reproduce("nope", "small", tmp_path)
    # Every row with a config names a file that exists and loads.
    from lensml.experiments import load_config

    for spec in TABLES.values():
        for row in spec.rows:
            for path in (row.config, row.pretrain):
                if path:
                    load_config(ROOT / path)


def test_speed_collects_present_scripts(tmp_path):
    from lensml.experiments.speed import machine_description, speed

    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "bench_physics.py").write_text(
        "import os\nprint('| op | backend | s |')\nprint('|---|---|---|')\n"
        "print('| splat | ' + os.environ.get('KERAS_BACKEND', '?') + ' | 0.1 |')\n")
    (bench / "bench_models.py").write_text("import sys\nsys.exit('no models here')\n")
    out = tmp_path / "speed.md"
    result = speed(out, bench_dir=bench, timeout=60, log=lambda m: None)
    text = out.read_text()
    assert "| splat |" in text and "FAILED" in text and "no models here" in text
    assert "bench_simulation.py" in text  # listed as not present
    machine = machine_description()
    assert machine["logical_cores"] >= 1 and "keras" in machine["versions"]
    assert [r["returncode"] for r in result["runs"]] == [0, 1]


def test_benchmark_cli_needs_an_action(capsys):
    assert cli(["benchmark"]) == 2
    with pytest.raises(SystemExit):
        cli(["benchmark", "reproduce", "--table", "nope"])


def test_render_table_mean_std_and_ranking():
    from lensml.experiments.reproduce import SCALES, TABLES, render_table

    runs = lambda *accs: [{"test_accuracy": a, "test_micro_f1": a, "test_macro_auc": a} for a in accs]  # noqa: E731
    results = {"ResNet18": {"status": "ok", "runs": runs(0.5, 0.7), "num_params": 11_000_000},
               "LensPINN_small": {"status": "ok", "runs": runs(0.4, 0.4), "num_params": 7_000_000},
               "ViT": {"status": "failed: boom"},
               "CaiT": {"status": "ok", "runs": runs(0.3334, 0.3333)},
               "ViTSD": {"status": "ok", "runs": runs(0.3333, 0.3333)}}
    text = render_table(TABLES["lenspinn"], SCALES["small"], results)
    resnet = next(line for line in text.splitlines() if line.startswith("| ResNet18 |"))
    assert "| 0.600 +- 0.141 |" in resnet and "11,000,000" in resnet
    assert "failed: boom" in text and "Scale small" in text
    assert "- paper:  LensPINN_small > CaiT > ViTSD > ResNet18" in text
    # Equal at the table's 3 digits (both at chance) is a tie, in the table's row order.
    assert "- lensml: ResNet18 > LensPINN_small > CaiT = ViTSD" in text
