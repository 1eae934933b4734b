"""``lensml quickstart --tiny`` end to end, ``lensml benchmark reproduce --scale tiny`` on one
row, and ``lensml benchmark speed``'s collection (on a stand-in script)."""

import json
import re
import subprocess
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
def test_quickstart_tiny_writes_every_file_and_prints_no_error_looking_line(tmp_path):
    """A newcomer's first command, from an empty data folder, in a fresh process: every file of
    the report is written, and its stderr is the dataset build's progress lines only, nothing
    from TensorFlow, XLA, absl or CUDA (``lensml._quiet``). A training budget so small that each
    model stops after its first step: what starts up and what each phase prints is the same."""
    out, data_dir = tmp_path / "report", tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "lensml", "quickstart", "--tiny", "--out", str(out),
                           "--data-dir", str(data_dir), "--minutes", "1e-6"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(" img (" in line and line.startswith("deeplense/") for line in lines), lines
    record = json.loads((out / "metrics.json").read_text())
    assert list(record["models"]) == ["resnet18", "lenspinn_small"]
    assert record["family"] == "model_ii_published" and record["source"] == "stream"
    assert record["dataset"]["name"] == "deeplense/model_ii_published_n8"
    assert record["dataset"]["splits"] == {"train": 15, "validation": 3, "test": 6}
    assert (data_dir / "deeplense" / "model_ii_published_n8").is_dir()  # cached in the TFDS data dir
    for name, m in record["models"].items():
        assert 0.0 <= m["accuracy"] <= 1.0 and m["num_params"] > 0
        assert 0.0 <= m["fresh"]["accuracy"] <= 1.0 and record["fresh"]["count"] == 24
        # planned on the stream: one epoch of 2 batches of 16 fresh lenses; the budget ended it
        # after the first batch, and the epoch was still validated and logged once
        assert m["steps_per_epoch"] == 2 and m["steps_done"] == 1 and m["stopped_at_budget"]
        assert m["lenses_seen"] == 16
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
    assert report.count("| 1 (time budget) | 16 |") == 2
    links = re.findall(r"\]\(([^)]+)\)", report)
    for target in ("examples.png", "resnet18/roc.png", "lenspinn_small/confusion_matrix.png", "runs/resnet18",
                   "resnet18/training_curves.png"):
        assert target in links, target
    for link in links:
        assert (out / link).exists(), link
    assert record["timings"]["total_s"] > 0 and record["timings"]["cpu_user_s"] > 0


def test_examples_sources_follow_the_einstein_radius():
    import numpy as np

    from lensml.protocols.quickstart import reconstruct_sources

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
    from lensml.protocols.reproduce import reproduce

    # the configs lensml ships (lensml.training.shipped): no repository root given
    result = reproduce("lenspinn", "tiny", tmp_path / "rep", rows=["resnet18"], data_dir=data_dir,
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
    # --render-only rewrites the same table from the JSON, training nothing
    Path(result["markdown"]).unlink()
    assert cli(["benchmark", "reproduce", "--table", "lenspinn", "--scale", "tiny", "--out", str(tmp_path / "rep"),
                "--render-only"]) == 0
    assert Path(result["markdown"]).read_text() == table
    assert cli(["benchmark", "reproduce", "--table", "mae", "--scale", "tiny", "--out", str(tmp_path / "rep"),
                "--render-only"]) == 2  # no run to render


@pytest.mark.slow
def test_reproduce_tiny_chains_an_ssl_row(tmp_path, data_dir):
    """MAE pretraining -> fine-tuning for classification and for super-resolution: one
    pretraining per seed feeds both rows (the harness runs lensml.protocols.pretraining)."""
    from lensml.protocols.reproduce import reproduce

    result = reproduce("mae", "tiny", tmp_path / "rep", rows=["MAE ViT (mask 0.90)", "MAE ViT super-resolution 16 -> 64"],
                       root=ROOT, data_dir=data_dir, log=lambda m: None)
    saved = json.loads(Path(result["json"]).read_text())["results"]
    mae, sr = saved["MAE ViT (mask 0.90)"], saved["MAE ViT super-resolution 16 -> 64"]
    assert mae["status"] == "ok" and sr["status"] == "ok", (mae["status"], sr["status"])
    assert 0 <= mae["runs"][0]["test_accuracy"] <= 1 and "test_auc_per_class/axion" in mae["runs"][0]
    assert {"test_psnr", "test_ssim", "test_bicubic_psnr", "test_bicubic_ssim"} <= set(sr["runs"][0])
    runs = tmp_path / "rep" / "runs"
    pre = runs / "pretrain_mae_vit_mask90_model_ii" / "seed_0"
    assert (pre / "encoder.keras").is_file() and (pre / "token_encoder.keras").is_file()
    assert len(list(runs.glob("pretrain_*"))) == 1  # pretrained once for both rows
    fine_cfg = (runs / "finetune_mae_vit_mask90_model_ii" / "seed_0" / "config.toml").read_text()
    assert "model_ii_published_n8" in fine_cfg
    sr_cfg = (runs / "finetune_mae_vit_mask90_sr16_model_ii" / "seed_0" / "config.toml").read_text()
    assert "model_ii_published_sr16_n8" in sr_cfg
    table = Path(result["markdown"]).read_text()
    assert "## Super-resolution rows" in table and "| 33 | 0.961 |" in table


@pytest.mark.slow
def test_d4_table_runs_on_the_paper_s_data_and_tests_d4lenspinn_again_with_tta(tmp_path, data_dir):
    """The D4LensPINN table trains on no_sphere_vort (its CPU family, at tiny scale) and its D4-TTA
    row tests D4LensPINN's own trained models again, seed for seed, training nothing."""
    import numpy as np

    from lensml.protocols.reproduce import reproduce

    messages = []
    rows = ["D4LensPINN with D4-TTA", "D4LensPINN"]  # the TTA row asked first: it waits for its source
    result = reproduce("d4lenspinn", "tiny", tmp_path / "rep", rows=rows, data_dir=data_dir, log=messages.append)
    saved = json.loads(Path(result["json"]).read_text())["results"]
    d4, tta = saved["D4LensPINN"], saved["D4LensPINN with D4-TTA"]
    assert d4["status"] == "ok" and tta["status"] == "ok", (d4["status"], tta["status"])
    assert "no_sphere_vort_50_n" in Path(d4["dirs"][0], "config.toml").read_text()
    assert tta["num_params"] == d4["num_params"] and tta["runs"][0]["train_minutes"] == 0
    # the test report names the family's own classes (no / sphere / vort)
    assert {"test_auc_per_class/no", "test_auc_per_class/sphere", "test_auc_per_class/vort"} <= set(d4["runs"][0])
    assert tta["dirs"][0] == str(Path(d4["dirs"][0]) / "tta_d4")
    assert sum("training" in m for m in messages) == 1  # D4LensPINN only
    plain = np.load(Path(d4["dirs"][0]) / "evaluation" / "predictions.npz")
    again = np.load(Path(tta["dirs"][0]) / "evaluation" / "predictions.npz")
    np.testing.assert_array_equal(plain["labels"], again["labels"])  # the same test lenses ...
    assert not np.allclose(plain["probs"], again["probs"])  # ... averaged over the 8 transforms
    table = Path(result["markdown"]).read_text()
    assert "| D4LensPINN with D4-TTA |" in table and "0.9809" in table
    # without its source row the TTA row says what it needs
    alone = reproduce("d4lenspinn", "tiny", tmp_path / "alone", rows=["D4LensPINN with D4-TTA"], data_dir=data_dir,
                      log=lambda m: None)
    status = json.loads(Path(alone["json"]).read_text())["results"]["D4LensPINN with D4-TTA"]["status"]
    assert "needs 'D4LensPINN' seed 0 first" in status


@pytest.mark.slow
def test_controlled_scale_gives_rows_one_budget_intervals_orderings_and_resumes(tmp_path, data_dir, monkeypatch):
    """The controlled scale at toy size: both rows sized to one parameter budget and trained the
    same steps, 2 seeds each, intervals and the paper's ordering from the saved predictions; a
    rerun trains nothing it finished."""
    import dataclasses

    from lensml.protocols import reproduce as rep

    monkeypatch.setitem(rep.TABLES, "lenspinn", dataclasses.replace(rep.TABLES["lenspinn"],
                                                                     size="budget_250k",
                                                                     controlled_epochs=1))
    monkeypatch.setitem(rep.SCALES, "controlled", dataclasses.replace(rep.SCALES["controlled"], per_class=8,
                                                                      seeds=(0, 1), batch_size=5))
    messages = []
    rows = ["resnet18", "vit"]
    result = rep.reproduce("lenspinn", "controlled", tmp_path / "rep", rows=rows, data_dir=data_dir,
                           log=messages.append)
    saved = json.loads(Path(result["json"]).read_text())
    resnet, vit = saved["results"]["ResNet18"], saved["results"]["ViT"]
    for row in (resnet, vit):
        assert row["status"] == "ok" and [m["seed"] for m in row["runs"]] == [0, 1]
        assert abs(row["num_params"] / 250_000 - 1) <= 0.15
        assert row["budget"]["steps"] == 3 and row["budget"]["images"] == 15 and row["budget"]["source"] == "stream"
    assert resnet["budget"]["options"]["width"] != 64 and vit["budget"]["options"]["embed_dim"] != 384
    stats = saved["statistics"]
    assert stats["metric"] == "accuracy" and set(stats["intervals"]) == set(saved["results"]) - {
        label for label, r in saved["results"].items() if r["status"].startswith("skipped")}
    (order,) = stats["orderings"]  # the paper ranks ViT above ResNet18
    assert order["verdict"] in ("confirms", "contradicts", "unresolved") and order["low"] <= order["high"]
    # every run's test predictions are archived beside the JSON (for a resume or a render elsewhere)
    assert len(list(rep.predictions_archive(result["json"]).glob("*_seed[01].npz"))) == 4
    table = Path(result["markdown"]).read_text()
    assert "## Controlled rows" in table and "Orderings of the paper" in table and "3 x 5" in table
    prov = saved["provenance"]  # where the numbers come from
    assert prov["commit"] and prov["command"].startswith("lensml benchmark reproduce --table lenspinn --scale controlled")
    assert prov["machine"]["cpu"] and prov["machine"]["versions"]["keras"] and prov["backend"] in table
    # a rerun keeps the finished seeds: nothing is trained again
    messages.clear()
    again = rep.reproduce("lenspinn", "controlled", tmp_path / "rep", rows=rows, data_dir=data_dir,
                          log=messages.append)
    assert not any("training" in m for m in messages), messages
    resaved = json.loads(Path(again["json"]).read_text())
    assert resaved["results"]["ViT"]["runs"] == vit["runs"] and resaved["minutes"] >= saved["minutes"]
    # run row by row: a run of other rows keeps the finished ones in the table
    rep.reproduce("lenspinn", "controlled", tmp_path / "rep", rows=["vit"], data_dir=data_dir, log=messages.append)
    kept = json.loads(Path(again["json"]).read_text())["results"]["ResNet18"]
    assert kept["runs"] == resnet["runs"] and kept["status"] == "ok"


@pytest.mark.slow
def test_controlled_physics_rows_ablation_sized_and_branch_measured_on_test_lenses(tmp_path, data_dir, monkeypatch):
    """LensPINN's ablation row (physics branch removed) gets the same budget; a trained
    LensPINN's Einstein radius is read on the stored test lenses beside the true one and the
    table renders it."""
    import dataclasses

    import keras

    from lensml.protocols import reproduce as rep
    from lensml.training.config import apply_overrides

    table = dataclasses.replace(rep.TABLES["lenspinn"], size="budget_250k", controlled_epochs=1)
    scale = dataclasses.replace(rep.SCALES["controlled"], per_class=8, seeds=(0,), batch_size=5)
    rows = {r.label: r for r in table.rows}
    assert rep.unavailable_reason(rows["LensPINN_small without its physics branch"], ROOT, rep.SCALES["cpu"])
    configs = {label: apply_overrides(rep.scaled_config(rows[label], scale, tmp_path, ROOT, table),
                                      {"data.data_dir": str(data_dir)})
               for label in ("LensPINN_small", "LensPINN_small without its physics branch")}
    ablation = configs["LensPINN_small without its physics branch"]
    assert ablation.model.options["physics"] is False and "physics" not in configs["LensPINN_small"].model.options
    from lensml.simulation import get_family

    oracle = rep.scaled_config(rows["LensPINN_small with the true Einstein radius"], scale, tmp_path, ROOT, table)
    # each row its own run folder, though three train lenspinn_small's config
    assert len({str(c.output.dir) for c in (*configs.values(), oracle)}) == 3
    assert oracle.model.options["theta_E_fixed"] == pytest.approx(get_family("model_ii_published").theta_E)
    noisy = dataclasses.replace(scale, regime="noisy")  # the realistic family has its own radius
    assert rep.scaled_config(rows["LensPINN_small with the true Einstein radius"], noisy, tmp_path, ROOT,
                             table).model.options["theta_E_fixed"] == pytest.approx(get_family("model_ii").theta_E)
    # its test lenses are the realistic family's: the table must not say they are the other regimes'
    assert "realistic family's own test lenses" in noisy.describe(table)
    assert "for the fresh and stored regimes" in scale.describe(table)
    from lensml.models import build

    for config in configs.values():
        model = build("lenspinn_small", (64, 64, 1), **config.model.options)
        assert abs(model.count_params() / 250_000 - 1) <= 0.15
        path = tmp_path / f"{config.model.options.get('physics', True)}.keras"
        model.save(path)
        metrics = rep.physics_metrics({"paths": {"checkpoint": str(tmp_path / "none.keras"), "model": str(path)}},
                                      config)
        if config is ablation:
            assert metrics == {}
            continue
        assert 0.05 <= metrics["physics/einstein_radius/mean"] <= metrics["physics/einstein_radius/high_bound"]
        assert 0 <= metrics["physics/einstein_radius/at_lower_bound"] <= 1
        assert metrics["physics/einstein_radius/true_mean"] > 0.3  # the simulated lenses' Einstein radii
        results = {"LensPINN_small": {"runs": [metrics], "status": "ok"}}
        assert "einstein_radius/at_lower_bound" in "\n".join(rep._render_physics(table, results))
    keras.backend.clear_session()


def test_d4_table_ablation_trains_the_head_alone_with_d4lenspinn_s_recipe_and_budget(tmp_path):
    """The D4LensPINN table's ablation row: its EfficientNetV2-S head alone on the image, at the
    table's parameter and step budget and with D4LensPINN's optimiser (not the CNN recipe), so the
    physics branch is the only difference; it runs at controlled scales only."""
    import dataclasses

    from lensml.models import build
    from lensml.protocols import reproduce as rep

    table = dataclasses.replace(rep.TABLES["d4lenspinn"], size="budget_150k", controlled_epochs=1)
    scale = dataclasses.replace(rep.SCALES["controlled"], per_class=8, seeds=(0,), batch_size=6)
    rows = {r.label: r for r in table.rows}
    ablation_row = rows["EfficientNetV2-S head alone (no physics)"]
    assert rep.unavailable_reason(ablation_row, ROOT, rep.SCALES["cpu"])  # controlled scales only
    ablation, d4 = (rep.scaled_config(rows[label], scale, tmp_path, ROOT, table)
                    for label in ("EfficientNetV2-S head alone (no physics)", "D4LensPINN"))
    resnet = rep.scaled_config(rows["ResNet18 (scratch)"], scale, tmp_path, ROOT, table)
    assert ablation.model.name == "efficientnetv2_s" and ablation.output.dir != resnet.output.dir
    for key in ("learning_rate", "weight_decay", "clipnorm", "schedule", "epochs"):
        assert getattr(ablation.training, key) == getattr(d4.training, key), key
    assert ablation.training.learning_rate != resnet.training.learning_rate  # the row's recipe, not its model's
    assert ablation.data.steps_per_epoch == d4.data.steps_per_epoch and ablation.data.batch_size == d4.data.batch_size
    assert ablation.training.physics_phase2_epoch is None  # nothing of the physics losses is left
    model = build("efficientnetv2_s", (50, 50, 1), **ablation.model.options)
    assert abs(model.count_params() / 150_000 - 1) <= 0.15


def test_a_controlled_table_resumed_on_another_machine_keeps_the_intervals_it_left_behind(tmp_path):
    """The runs' predictions stay on the machine that made them: a controlled table resumed
    elsewhere (here: asked for no row it can run) keeps the earlier rows' intervals and the
    paper's orderings from its JSON instead of dropping them."""
    from lensml.protocols.reproduce import reproduce

    out = tmp_path / "rep"
    out.mkdir()
    run = {"test_macro_auc": 0.9, "test_accuracy": 0.8, "seed": 0}
    earlier = {
        "table": "d4lenspinn", "scale": "controlled", "minutes": 12.0,
        "results": {label: {"status": "1 of 3 seeds", "runs": [run], "dirs": [str(tmp_path / "elsewhere" / label)],
                            "config": "x"} for label in ("D4LensPINN", "ResNet18 (scratch)")},
        "statistics": {"metric": "macro_auc", "intervals": {"D4LensPINN": [0.88, 0.92], "ResNet18 (scratch)": [0.97, 0.99]},
                       "orderings": [{"a": "D4LensPINN", "b": "ResNet18 (scratch)", "paper_a": 0.9786, "paper_b": 0.9182,
                                      "difference": -0.08, "low": -0.1, "high": -0.06, "level": 0.95,
                                      "verdict": "contradicts"}]},
    }
    (out / "reproduce_d4lenspinn_controlled.json").write_text(json.dumps(earlier))
    result = reproduce("d4lenspinn", "controlled", out, rows=["no such row"], log=lambda m: None)
    saved = json.loads(Path(result["json"]).read_text())
    assert saved["statistics"]["intervals"] == earlier["statistics"]["intervals"]
    assert saved["statistics"]["orderings"] == earlier["statistics"]["orderings"]
    assert saved["minutes"] >= 12.0 and saved["results"]["D4LensPINN"]["runs"] == [run]
    table = Path(result["markdown"]).read_text()
    # an interval kept from a run that did not record its seeds names none (not "(seeds )")
    assert "| [0.880, 0.920] | 1 |" in table and "contradicts" in table


def test_a_controlled_table_names_the_paper_s_orderings_it_cannot_compute(tmp_path):
    """Rows whose predictions were made elsewhere and not archived share no seed with the rows run
    here: the paper's orderings between them get no verdict, and the table says which, so the
    confirmed / contradicted counts are not read as covering every ordering."""
    from lensml.protocols.reproduce import reproduce

    out = tmp_path / "rep"
    out.mkdir()
    run = {"test_macro_auc": 0.9, "test_accuracy": 0.8, "seed": 0}
    labels = ("D4LensPINN", "VanillaLensPINN", "ResNet18 (scratch)")
    earlier = {
        "table": "d4lenspinn", "scale": "controlled", "minutes": 1.0,
        "results": {label: {"status": "1 of 3 seeds", "runs": [run], "dirs": [str(tmp_path / "gone" / label)],
                            "config": "x"} for label in labels},
        "statistics": {"metric": "macro_auc", "intervals": {},
                       "orderings": [{"a": "D4LensPINN", "b": "ResNet18 (scratch)", "paper_a": 0.9786, "paper_b": 0.9182,
                                      "difference": -0.08, "low": -0.1, "high": -0.06, "level": 0.95,
                                      "verdict": "contradicts"}]},
    }
    (out / "reproduce_d4lenspinn_controlled.json").write_text(json.dumps(earlier))
    result = reproduce("d4lenspinn", "controlled", out, rows=["no such row"], log=lambda m: None)
    table = Path(result["markdown"]).read_text()
    assert "contradicts 1 significantly" in table
    assert ("2 of the paper's 3 orderings among the rows run are not computed" in table
            and "D4LensPINN > VanillaLensPINN, VanillaLensPINN > ResNet18 (scratch)." in table)


def test_a_row_resumed_with_other_seeds_gets_an_interval_over_the_seeds_it_can_read(tmp_path):
    """Seed 0 ran elsewhere (its interval in the JSON covers seed 0 only); seeds 1 and 2 ran here.
    The interval beside the 3-seed mean was the stale seed-0 one; now it is recomputed over the
    seeds whose predictions are here, and the table says which seeds each interval covers."""
    import numpy as np

    from lensml.protocols.reproduce import reproduce

    out = tmp_path / "rep"
    out.mkdir()
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 30)

    noise = {s: rng.normal(size=(90, 3)) for s in (1, 2)}  # D4-TTA tests D4LensPINN's models again

    def predictions(folder, skill, seed, same_models_as=None):
        logits = (noise[seed] if same_models_as else rng.normal(size=(90, 3))) + skill * np.eye(3)[labels]
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        (folder / "evaluation").mkdir(parents=True)
        np.savez(folder / "evaluation" / "predictions.npz", labels=labels, probs=probs)
        return str(folder)

    results, stale = {}, {}
    ablation = "EfficientNetV2-S head alone (no physics)"  # D4LensPINN's variant: the physics branch removed
    for label, skill in (("D4LensPINN", 0.3), ("ResNet18 (scratch)", 2.0), ("D4LensPINN with D4-TTA", 0.4),
                         (ablation, 2.0)):
        shared = label.startswith("D4LensPINN")
        dirs = [str(tmp_path / "elsewhere" / label / "seed_0")] + [
            predictions(tmp_path / "here" / label / f"seed_{s}", skill, s, shared) for s in (1, 2)]
        results[label] = {"status": "ok", "dirs": dirs, "config": "x",
                          "runs": [{"test_macro_auc": 0.7, "test_accuracy": 0.5, "seed": s} for s in (0, 1, 2)]}
        stale[label] = [0.01, 0.02]
    made_elsewhere = {"commit": "abc1234def", "command": "lensml benchmark reproduce ... elsewhere", "backend": "jax",
                      "lensml": "0.1.0", "machine": {"cpu": "x"}}
    earlier = {"table": "d4lenspinn", "scale": "controlled", "minutes": 1.0, "results": results,
               "provenance": made_elsewhere, "provenance_earlier": [{"runs": "seed 0 of every row", "commit": "0ld5eed",
                                                                     "backend": "tensorflow"}],
               "statistics": {"metric": "macro_auc", "intervals": stale,
                              "interval_seeds": {label: [0] for label in stale}, "orderings": []}}
    (out / "reproduce_d4lenspinn_controlled.json").write_text(json.dumps(earlier))
    result = reproduce("d4lenspinn", "controlled", out, rows=["no such row"], log=lambda m: None)
    saved = json.loads(Path(result["json"]).read_text())
    statistics = saved["statistics"]
    # where the runs it resumed from were made is kept, with what they kept themselves
    assert saved["provenance_earlier"] == earlier["provenance_earlier"] + [made_elsewhere]
    assert saved["provenance"]["commit"] != "abc1234def"
    assert statistics["interval_seeds"] == {label: [1, 2] for label in stale}
    assert statistics["intervals"]["D4LensPINN"] != [0.01, 0.02]
    low, high = statistics["intervals"]["ResNet18 (scratch)"]
    assert 0.8 < low < high <= 1.0
    orderings = {(o["a"], o["b"]): o for o in statistics["orderings"]}
    ordering = orderings.get(("ResNet18 (scratch)", "D4LensPINN")) or orderings[("D4LensPINN", "ResNet18 (scratch)")]
    assert ordering["seeds"] == [1, 2] and ordering["verdict"] == "contradicts"  # the paper ranks D4LensPINN first
    assert not ordering["paired_seeds"]
    # the TTA row tests D4LensPINN's models again: resampled seed for seed with it, and the table says so
    assert orderings[("D4LensPINN", "D4LensPINN with D4-TTA")]["paired_seeds"]
    table = Path(result["markdown"]).read_text()
    assert f"[{low:.3f}, {high:.3f}] (seeds 1, 2)" in table and "| contradicts | 1, 2 |" in table
    assert "| 1, 2 (paired) |" in table
    # lensml's contrast of a row with its variant (here: the ablation scores higher), paired the same way
    (variant,) = statistics["variants"]
    assert (variant["a"], variant["b"], variant["seeds"]) == ("D4LensPINN", ablation, [1, 2]) and variant["high"] < 0
    assert f"| D4LensPINN | {ablation} | {variant['difference']:+.3f} " in table and "| variant higher | 1, 2 |" in table
    assert "Earlier runs kept by the resume" in table and "seed 0 of every row at commit 0ld5eed" in table
    assert "at commit abc1234 (jax)" in table


def test_a_table_rendered_from_a_clone_reads_its_seeds_from_the_predictions_archive(tmp_path):
    """The runs' folders stay on the machine that trained them; the predictions archive beside
    the JSON carries their test predictions, so a clone (or a resume on another machine) computes
    intervals and orderings over every seed; a row-seed run again elsewhere (another folder) does
    not reuse the archived predictions of the run it replaced."""
    import shutil

    import numpy as np

    from lensml.protocols.reproduce import predictions_archive, rerender

    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), 30)
    results = {}
    for label, skill in (("ResNet18", 2.5), ("LensPINN_small", 0.5), ("LensPINN_small without its physics branch", 0.6)):
        dirs = []
        for s in (0, 1, 2):
            folder = tmp_path / "machine" / label / f"seed_{s}"
            (folder / "evaluation").mkdir(parents=True)
            logits = rng.normal(size=(90, 3)) + skill * np.eye(3)[labels]
            np.savez(folder / "evaluation" / "predictions.npz", labels=labels, probs=np.exp(logits))
            dirs.append(str(folder))
        results[label] = {"status": "ok", "dirs": dirs, "config": "x",
                          "runs": [{"test_accuracy": 0.5, "seed": s} for s in (0, 1, 2)]}
    made = tmp_path / "made" / "reproduce_lenspinn_controlled.json"
    made.parent.mkdir()
    made.write_text(json.dumps({"table": "lenspinn", "scale": "controlled", "minutes": 1.0, "results": results}))
    rerender(made)
    archive = predictions_archive(made)
    assert archive.name == "reproduce_lenspinn_controlled_predictions" and len(list(archive.glob("*.npz"))) == 9
    written = {f: f.stat().st_mtime_ns for f in archive.iterdir()}
    rerender(made)  # each run's file is written once
    assert {f: f.stat().st_mtime_ns for f in archive.iterdir()} == written
    there = json.loads(made.read_text())["statistics"]
    assert there["interval_seeds"]["ResNet18"] == [0, 1, 2]

    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(made, clone / made.name)
    shutil.copytree(archive, clone / archive.name)
    shutil.rmtree(tmp_path / "machine")
    md = Path(rerender(clone / made.name)).read_text()
    here = json.loads((clone / made.name).read_text())["statistics"]
    assert here["interval_seeds"] == there["interval_seeds"] and here["intervals"] == there["intervals"]
    assert here["orderings"] == there["orderings"] and here["orderings"][0]["seeds"] == [0, 1, 2]
    assert "| LensPINN_small > ResNet18 |" in md and "| contradicts | 0, 1, 2 |" in md
    assert "| LensPINN_small | LensPINN_small without its physics branch |" in md

    # seed 2 of ResNet18 run again elsewhere: a new folder, so the archive's seed 2 is not its
    saved = json.loads((clone / made.name).read_text())
    saved.pop("statistics")
    saved["results"]["ResNet18"]["dirs"][2] = "/elsewhere/ResNet18/seed_2"
    (clone / made.name).write_text(json.dumps(saved))
    rerender(clone / made.name)
    assert json.loads((clone / made.name).read_text())["statistics"]["interval_seeds"]["ResNet18"] == [0, 1]


def test_lenspinn_table_2_rows_train_a_cnn_on_the_preprocessed_or_the_raw_image(tmp_path):
    """The paper's Table 2 at a controlled scale: MobileNetV3-Small (and EfficientNetB0) alone, at
    the table's budget, with the LensPINN preprocessing as its input map or on the raw image."""
    import dataclasses

    from lensml.protocols import reproduce as rep
    from lensml.models import build

    table = dataclasses.replace(rep.TABLES["lenspinn"], size="budget_250k", controlled_epochs=1)
    scale = dataclasses.replace(rep.SCALES["controlled"], per_class=8, seeds=(0,), batch_size=5)
    rows = {r.label: r for r in table.rows}
    assert {"EfficientNetB0 on the preprocessed image", "EfficientNetB0 on the raw image"} <= set(rows)
    pre, raw = (rep.scaled_config(rows[f"MobileNetV3-Small on the {view} image"], scale, tmp_path, ROOT, table)
                for view in ("preprocessed", "raw"))
    assert pre.model.name == raw.model.name == "mobilenetv3_small" and pre.output.dir != raw.output.dir
    assert pre.model.options["input_map"] == "lenspinn" and "input_map" not in raw.model.options
    from lensml.training.runner import check_config

    for config in (pre, raw):
        check_config(config)  # what lensml train checks first
        model = build(config.model.name, (64, 64, 1), **config.model.options)
        assert abs(model.count_params() / 250_000 - 1) <= 0.15
        assert any(layer.name == "input_map" for layer in model.layers) == (config is pre)


def test_reproduce_tables_name_configs_that_load(tmp_path):
    from lensml.protocols.reproduce import TABLES, reproduce, unavailable_reason

    assert set(TABLES) == {"lenspinn", "lens_jepa", "ssl", "mae", "d4lenspinn"}
    # each table file says what of its paper it reproduces and what not
    from lensml.protocols.reproduce import SCALES as _SCALES, render_table

    for spec in TABLES.values():
        assert spec.coverage and all(what and status for what, status in spec.coverage), spec.name
        rendered = render_table(spec, _SCALES["cpu"], {})
        assert "What of the paper this table reproduces" in rendered and spec.coverage[0][0] in rendered
    with pytest.raises(ValueError, match="table"):
        reproduce("nope", "small", tmp_path)
    # Every row with a config names a file that exists and loads; only rows without one are unavailable.
    from lensml.training import load_config

    for spec in TABLES.values():
        for row in spec.rows:
            assert (unavailable_reason(row, ROOT) is None) == (row.config is not None), row.label
            for path in (row.config, row.pretrain):
                if path:
                    load_config(ROOT / path)
    # every row resolves at every scale (the paper scale keeps each config's data and seeds)
    from lensml.protocols.reproduce import SCALES, scaled_config

    for spec in TABLES.values():
        for row in spec.rows:
            for scale in (s for s in SCALES.values() if not s.regime):  # controlled: sizing takes seconds a row
                for path in filter(None, (row.config, row.pretrain)):
                    cfg = scaled_config(row, scale, tmp_path, ROOT, spec, path=path)
                    if scale.name == "paper":
                        assert cfg.data.dataset == load_config(ROOT / path).data.dataset
                        assert cfg.seeds == load_config(ROOT / path).seeds
                    elif scale.name == "cpu":  # the published data, or the table's own CPU family
                        assert ("_published" in cfg.data.dataset or any(f in cfg.data.dataset for _, f in spec.cpu_families)) \
                            and cfg.seeds == [0], (row.label, path)


def test_cpu_scale_uses_published_data_recipes_and_stream():
    from lensml.protocols.reproduce import SCALES, TABLES, scaled_config

    out = Path("unused")
    by_label = {(t.name, r.label): (t, r) for t in TABLES.values() for r in t.rows}
    table, row = by_label[("lenspinn", "ViT")]
    vit = scaled_config(row, SCALES["cpu"], out, ROOT, table)
    assert vit.data.dataset == "deeplense/model_ii_published_n500" and vit.data.source == "stream"
    assert vit.model.options["embed_dim"] == 128 and vit.training.learning_rate == 3e-4  # CPU scale, recipe
    assert vit.data.batch_size == 48 and vit.seeds == [0]
    table, row = by_label[("ssl", "BYOL, ResNet50 (model_iii)")]
    pre = scaled_config(row, SCALES["cpu"], out, ROOT, table, path=row.pretrain)
    fine = scaled_config(row, SCALES["cpu"], out, ROOT, table)
    assert pre.model.options["encoder_options"] == {"width": 16} and pre.data.dataset.endswith("model_iii_published_n500")
    assert fine.data.augment == "" and fine.data.source == "stream" and fine.training.learning_rate == 1e-3
    table, row = by_label[("mae", "MAE ViT super-resolution 16 -> 64")]
    sr = scaled_config(row, SCALES["cpu"], out, ROOT, table)
    assert sr.data.dataset == "deeplense/model_ii_published_sr16_n500" and sr.data.source == "stored"
    table, row = by_label[("d4lenspinn", "D4LensPINN")]
    d4 = scaled_config(row, SCALES["cpu"], out, ROOT, table)
    # the paper's own data at CPU scale: no_sphere_vort's 7.5" field in 50x50 pixels
    assert d4.training.physics_phase2_epoch == 1 and d4.data.dataset == "deeplense/no_sphere_vort_50_n500"
    assert d4.model.options["pixel_scale"] == pytest.approx(0.15) and d4.data.steps_per_epoch == 150
    from lensml.simulation import get_family

    assert get_family("no_sphere_vort_50").instrument.pixel_scale == pytest.approx(d4.model.options["pixel_scale"])


def test_speed_collects_present_scripts(tmp_path):
    from lensml.protocols.speed import machine_description, speed

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


def test_render_table_mean_std_gap_ranking_and_spearman():
    from lensml.protocols.reproduce import SCALES, TABLES, render_table, spearman

    runs = lambda *accs: [{"test_accuracy": a, "test_micro_f1": a, "test_macro_auc": a} for a in accs]  # noqa: E731
    results = {"ResNet18": {"status": "ok", "runs": runs(0.5, 0.7), "num_params": 11_000_000},
               "LensPINN_small": {"status": "ok", "runs": runs(0.4, 0.4), "num_params": 7_000_000},
               "ViT": {"status": "failed: boom"},
               "CaiT": {"status": "ok", "runs": runs(0.3334, 0.3333)},
               "ViTSD": {"status": "ok", "runs": runs(0.3333, 0.3333)}}
    text = render_table(TABLES["lenspinn"], SCALES["small"], results)
    resnet = next(line for line in text.splitlines() if line.startswith("| ResNet18 |"))
    assert "| 0.600 +- 0.141 |" in resnet and "11,000,000" in resnet
    assert "| -0.218 |" in resnet  # gap to the paper's 0.818
    assert "failed: boom" in text and "Scale small" in text
    assert "- paper:  LensPINN_small > CaiT > ViTSD > ResNet18" in text
    # Equal at the table's 3 digits (both at chance) is a tie, in the table's row order.
    assert "- lensml: ResNet18 > LensPINN_small > CaiT = ViTSD" in text
    # paper (0.956, 0.878, 0.867, 0.818) vs lensml (0.4, 0.333, 0.333, 0.6), ties averaged
    expected = spearman([0.956, 0.878, 0.867, 0.818], [0.4, 0.333, 0.333, 0.6])
    assert f"Spearman rank correlation: {expected:+.2f}" in text and expected < 0
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [5, 5]) is None  # a ranking of ties has no correlation


def test_physics_section_gives_the_bound_fractions_per_seed():
    """A branch at the lower bound in one seed and at the upper in the next is shown seed by seed,
    not as "half the lenses at each bound"; the other statistics as mean +- std."""
    from lensml.protocols.reproduce import TABLES, _render_physics

    runs = [{"seed": 0, "physics/einstein_radius/at_lower_bound": 1.0, "physics/einstein_radius/mean": 0.05},
            {"seed": 1, "physics/einstein_radius/at_lower_bound": 0.0, "physics/einstein_radius/mean": 3.2}]
    text = "\n".join(_render_physics(TABLES["lenspinn"], {"LensPINN_small": {"runs": runs}}))
    assert "einstein_radius/at_lower_bound 1 / 0 (seeds 0 / 1)" in text
    assert "einstein_radius/mean 1.62 +- 2.2" in text


def test_a_run_of_a_handful_of_steps_trains_eagerly_on_tensorflow_only():
    """Tracing costs more than a handful of steps on TensorFlow, not on JAX (one jit beats
    op-by-op compiles); a controlled row's planned steps include its pretraining's."""
    import dataclasses

    import keras

    from lensml.protocols import reproduce as rep
    from lensml.protocols.quickstart import EAGER_MAX_STEPS, eager_is_faster

    tf = keras.backend.backend() == "tensorflow"
    assert eager_is_faster(EAGER_MAX_STEPS) is tf and eager_is_faster(EAGER_MAX_STEPS + 1) is False
    table = dataclasses.replace(rep.TABLES["lenspinn"], controlled_epochs=1)
    toy = dataclasses.replace(rep.SCALES["controlled"], per_class=8, batch_size=5)
    row = next(r for r in table.rows if r.label == "ResNet18")
    config = rep.scaled_config(row, toy, Path("unused"), ROOT, table)
    assert rep._planned_steps(toy, config) == 3  # 15 training lenses in batches of 5, one epoch
    assert rep._planned_steps(rep.SCALES["controlled"], rep.scaled_config(row, rep.SCALES["controlled"], Path("unused"),
                                                                          ROOT, rep.TABLES["lenspinn"])) == 945
    assert rep._planned_steps(rep.SCALES["tiny"], config) == 1 and rep._planned_steps(rep.SCALES["cpu"], config) > 1e9


def test_wall_time_budget_stops_after_the_step_that_crosses_it():
    import keras
    import numpy as np

    from lensml.training.callbacks import WallTimeBudget

    x, y = np.zeros((12, 4), "float32"), np.zeros((12, 1), "float32")
    for seconds, steps, stopped in ((1e-9, 1, True), (3600, 6, False)):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        budget = WallTimeBudget(seconds)
        history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[budget])
        assert (budget.steps, budget.stopped) == (steps, stopped)
        assert len(history.history["loss"]) == (1 if stopped else 2)
    with pytest.raises(ValueError, match="seconds: expected a number > 0"):
        WallTimeBudget(0)


def test_first_step_notice_says_when_compilation_starts_and_ends():
    import keras
    import numpy as np

    from lensml.training.callbacks import FirstStepNotice

    said = []
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.zeros((8, 4), "float32"), np.zeros((8, 1), "float32"), batch_size=4, epochs=2, verbose=0,
              callbacks=[FirstStepNotice(said.append)])
    assert len(said) == 2 and said[0].startswith("compiling the training step")
    assert re.fullmatch(r"first training step done after \d+ s", said[1])


def test_mae_table_sweeps_the_mask_ratio_and_trains_both_tasks_from_scratch_with_the_same_model():
    """The MAE paper's ablation (one pretraining per mask ratio, each fine-tuned for both tasks) and
    its scratch baselines: the same encoder, linear head and super-resolution decoder as the MAE's."""
    from lensml.protocols.reproduce import SCALES, TABLES, scaled_config
    from lensml.ssl.factory import build_downstream, build_trainer, pretrained_encoder
    from lensml.ssl.finetune import build_classifier, build_sr_from_tokens

    table = TABLES["mae"]
    pre = {r.label: scaled_config(r, SCALES["cpu"], Path("unused"), ROOT, table, path=r.pretrain)
           for r in table.rows if r.pretrain}
    assert sorted({c.model.options["mask_ratio"] for c in pre.values()}) == [0.5, 0.75, 0.9]
    kinds = [(r.kind, r.needs) for r in table.rows]
    assert kinds.count(("classification", "pretrain")) == 3 and kinds.count(("super_resolution", "pretrain")) == 3
    scratch = {r.kind: scaled_config(r, SCALES["cpu"], Path("unused"), ROOT, table) for r in table.rows
               if r.needs == "finetune"}
    mae_options = pre["MAE ViT (mask 0.90)"].model.options
    mae = build_trainer("mae", (64, 64, 1), **{k: v for k, v in mae_options.items() if k != "mask_ratio"})
    for kind, cfg in scratch.items():
        options = dict(cfg.model.options)
        fresh = build_downstream(cfg.model.name, (64, 64, 1) if kind == "classification" else (16, 16, 1), **options)
        if kind == "classification":
            tuned = build_classifier(pretrained_encoder(mae), 3, input_shape=(64, 64, 1))
        else:
            tuned = build_sr_from_tokens(pretrained_encoder(mae, pool=None), lr_shape=(16, 16, 1),
                                         filters=options["sr_filters"])
        assert fresh.count_params() == tuned.count_params(), kind


@pytest.mark.parametrize("table_name", ["mae", "lens_jepa"])
def test_token_trainers_are_sized_to_a_controlled_table_s_budget_as_the_classifier_they_become(table_name):
    """MAE, I-JEPA and Lens-JEPA at a controlled scale: the pretrained encoder, fine-tuned with its
    row's head, is within 15 % of the table's budget, as is the MAE's from-scratch baseline (the same
    ViT); depths and heads stay the config's, the decoder / predictor shrink with the encoder, the warmup with the run, and a
    150x150 config's token grid is kept on the 50x50 field (10-pixel patches -> 5)."""
    import dataclasses

    from lensml.protocols import reproduce as rep
    from lensml.ssl.factory import build_downstream, build_trainer, pretrained_encoder
    from lensml.ssl.finetune import build_classifier
    from lensml.training.config import load_config

    table = dataclasses.replace(rep.TABLES[table_name], size="budget_250k")
    scale = rep.SCALES["controlled"]
    token_rows = [r for r in table.rows if r.kind == "classification" and r.needs]
    assert token_rows and all(rep.unavailable_reason(r, ROOT, scale) is None for r in token_rows)
    counts = {}
    for row in token_rows:
        config = rep.scaled_config(row, scale, Path("unused"), ROOT, table, path=row.pretrain or row.config)
        pixels = rep.get_num_pix(config.data.dataset.split("/")[-1].rsplit("_n", 1)[0])
        if row.needs == "finetune":  # the from-scratch baseline
            options = config.model.options
            model = build_downstream(config.model.name, (pixels, pixels, 1), **options)
            shipped = load_config(ROOT / row.config).model.options["encoder_options"]
            assert options["encoder_options"]["depth"] == shipped["depth"]
        else:
            published = load_config(ROOT / row.pretrain).training
            shipped = load_config(ROOT / row.pretrain).model.options
            # the pretraining's warmup keeps its share of the run (40 of 300 epochs -> 0.93 of 7)
            assert config.training.epochs == table.controlled_epochs < published.epochs
            assert config.training.warmup_epochs == pytest.approx(
                published.warmup_epochs * table.controlled_epochs / published.epochs)
            options = {k: v for k, v in config.model.options.items() if k != "mask_ratio"}
            assert (options["depth"], options["num_heads"]) == (shipped["depth"], shipped["num_heads"])
            assert options["embed_dim"] < shipped["embed_dim"] and options["embed_dim"] % shipped["num_heads"] == 0
            part = "decoder" if "decoder_dim" in options else "predictor"
            assert options[f"{part}_dim"] < shipped[f"{part}_dim"]
            if table_name == "lens_jepa":  # Model A at 150x150 -> 50x50, the token grid kept near 15 a side
                assert (pixels, shipped["patch_size"], options["patch_size"]) == (50, 10, 5)
                if "pixel_scale" in shipped:
                    assert options["pixel_scale"] == pytest.approx(0.15)
            trainer = build_trainer(config.model.name, (pixels, pixels, 1), **options)
            model = build_classifier(pretrained_encoder(trainer), 3, input_shape=(pixels, pixels, 1))
        counts[row.label] = model.count_params()
        assert abs(counts[row.label] / 250_000 - 1) <= 0.15, (row.label, counts[row.label])
    if table_name == "mae":  # every mask ratio's encoder and the scratch ViT: one model
        assert len(set(counts.values())) == 1, counts


def test_super_resolution_rows_run_at_a_controlled_scale_on_stored_pairs_with_their_sibling_s_encoder():
    """The MAE table's super-resolution rows at a controlled scale: the stored 16 -> 64 pairs (the
    stream has none) for the same steps as the classification rows, the encoder of their
    classification sibling (the same pretraining; the scratch ViT as wide as the scratch classifier)."""
    import dataclasses

    from lensml.protocols import reproduce as rep

    table = dataclasses.replace(rep.TABLES["mae"], size="budget_250k")
    scale = rep.SCALES["controlled"]
    rows = {r.label: r for r in table.rows}

    def config(label, pretrain=False):
        row = rows[label]
        return rep.scaled_config(row, scale, Path("unused"), ROOT, table, path=row.pretrain if pretrain else None)

    sr, classify = config("MAE ViT super-resolution 16 -> 64"), config("MAE ViT (mask 0.90)")
    assert rep.unavailable_reason(rows["MAE ViT super-resolution 16 -> 64"], ROOT, scale) is None
    assert sr.data.dataset == "deeplense/model_ii_published_sr16_n3000" and sr.data.source == "stored"
    assert classify.data.source == "stream"
    assert rep._training_budget(sr)["steps"] == rep._training_budget(classify)["steps"] == rep.controlled_steps(table, scale)
    assert (config("MAE ViT super-resolution 16 -> 64", True).model.options
            == config("MAE ViT (mask 0.90)", True).model.options)
    scratch_sr = config("ViT super-resolution 16 -> 64 (scratch)").model.options["encoder_options"]
    assert scratch_sr == config("ViT (scratch)").model.options["encoder_options"] and scratch_sr["dim"] < 192
    assert "Super-resolution rows train on the stored" in scale.describe(table)


def test_ssl_table_has_the_paper_s_14_rows_regression_for_every_method_and_byol_s_views():
    from lensml.training import load_config
    from lensml.protocols.reproduce import TABLES
    from lensml.ssl.factory import build_trainer

    rows = TABLES["ssl"].rows
    ssl = [r for r in rows if r.needs == "pretrain" and r.kind == "classification"]
    assert len(ssl) == 14  # 7 per data model, as the paper's Tables 1-2
    assert {r.paper_model for r in ssl} == {"simclr_rotation", "simclr_noise", "byol", "simsiam", "dino",
                                           "simclr_rotation_vit", "simclr_noise_vit"}
    regression = {(r.paper_model, r.paper_dataset) for r in rows if r.kind == "regression"}
    assert regression == {(m, f) for m in ("simclr_rotation", "simclr_noise", "byol", "simsiam", "dino", "resnet50")
                          for f in ("model_ii", "model_iii")}
    # every self-supervised row has a published value; BYOL's views are the paper's flips and rotations
    from lensml.protocols.reproduce import paper_values

    assert all(paper_values(TABLES["ssl"], r) for r in ssl)
    options = load_config(ROOT / "train/ssl/pretrain_byol_resnet50_model_ii.toml").model.options
    trainer = build_trainer("byol", (32, 32, 1), encoder_options={"width": 8},
                            **{k: v for k, v in options.items() if k != "encoder"}, encoder="resnet50")
    assert (trainer.views.d4, trainer.views.noise, trainer.views.blur) == ("all", None, None)


@pytest.mark.slow
def test_controlled_scale_runs_a_self_supervised_row_beside_its_baseline(tmp_path, data_dir, monkeypatch):
    """A self-supervised row at a controlled scale: its encoder sized to the table's budget as its
    from-scratch baseline's, pretrained for the same steps of unlabelled lenses, then fine-tuned for
    the baseline's steps; its regression row shares the pretraining."""
    import dataclasses

    from lensml.protocols import reproduce as rep

    monkeypatch.setitem(rep.TABLES, "ssl", dataclasses.replace(rep.TABLES["ssl"], size="budget_300k",
                                                               controlled_epochs=1))
    monkeypatch.setitem(rep.SCALES, "controlled", dataclasses.replace(rep.SCALES["controlled"], per_class=8,
                                                                      seeds=(0,), batch_size=5))
    # the ViT rows: a shallower graph to compile than ResNet50's 16 bottleneck blocks
    rows = ["Contrastive (rotation), ViT (model_ii)", "ViT supervised (model_ii)"]
    result = rep.reproduce("ssl", "controlled", tmp_path / "rep", rows=rows, data_dir=data_dir, log=lambda m: None)
    saved = json.loads(Path(result["json"]).read_text())["results"]
    ssl, scratch = (saved[label] for label in rows)
    for row in (ssl, scratch):
        assert row["status"] == "ok", row["status"]
    assert ssl["num_params"] == scratch["num_params"] and abs(ssl["num_params"] / 300_000 - 1) <= 0.15
    assert ssl["budget"]["steps"] == scratch["budget"]["steps"] == 3  # one fine-tuning budget ...
    assert ssl["budget"]["pretrain"]["steps"] == 3 and "pretrain" not in scratch["budget"]  # ... after pretraining
    pre = (tmp_path / "rep" / "runs" / "pretrain_simclr_rotation_vit_model_ii" / "seed_0" / "config.toml").read_text()
    embed_dim = scratch["budget"]["options"]["encoder_options"]["embed_dim"]
    assert embed_dim != 384 and f"embed_dim = {embed_dim}" in pre
    assert "(+ 3 pretraining)" in Path(result["markdown"]).read_text()
    # a ResNet50 method's regression row fine-tunes its classification row's pretraining (one
    # encoder per method, sized as the ResNet50 baseline), on axion lenses
    table, scale = rep.TABLES["ssl"], rep.SCALES["controlled"]
    rows = {r.label: r for r in table.rows}
    row = rows["BYOL regression (model_ii)"]
    assert rep.unavailable_reason(row, ROOT, scale) is None
    width = rep.scaled_config(rows["ResNet50 supervised (model_ii)"], scale, tmp_path / "rep", ROOT,
                              table).model.options["encoder_options"]["width"]
    regression = rep.scaled_config(row, scale, tmp_path / "rep", ROOT, table, path=row.pretrain)
    assert regression.model.options["encoder_options"]["width"] == width
    classification = rows["BYOL, ResNet50 (model_ii)"]
    assert rep.scaled_config(classification, scale, tmp_path / "rep", ROOT, table,
                             path=classification.pretrain).output.dir == regression.output.dir
    fine = rep.scaled_config(row, scale, tmp_path / "rep", ROOT, table)
    assert fine.data.target == "log10_axion_mass" and fine.data.steps_per_epoch == 3
