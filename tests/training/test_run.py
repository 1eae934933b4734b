import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lensml.training import load_config, run
from lensml.training.runner import build_schedule, resolve_jit_compile, resolve_mixed_precision


def test_tiny_run_end_to_end(write_config, tiny_toml, model_factory):
    config = load_config(
        write_config(
            tiny_toml.replace("run_eagerly = true", 'metrics = ["accuracy", "macro_auc"]'), name="tiny_run"
        )
    )
    result = run(config, model_factory=model_factory)
    r = result["runs"][0]
    for key in ("config", "checkpoint", "history_csv", "history_json", "model", "metrics"):
        assert Path(r["paths"][key]).exists(), key
    # Nothing half-written, and the BackupAndRestore state is removed after a finished run.
    out = Path(r["paths"]["dir"])
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    assert not (out / "backup").exists()
    hist = json.loads((out / "history.json").read_text())
    assert len(hist["loss"]) == 2 and len(hist["val_macro_auc"]) == 2
    assert 0.0 <= result["metrics"]["val_accuracy"] <= 1.0
    assert 0.0 <= result["metrics"]["test_macro_auc"] <= 1.0
    assert result["num_params"] > 0 and r["epochs_run"] == 2
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["metrics"]["val_loss"] == pytest.approx(result["metrics"]["val_loss"])
    # The run folder's config trains the same run again.
    again = load_config(out / "config.toml")
    assert again.seeds == [0] and again.model.name == "tiny"
    import keras

    model = keras.saving.load_model(r["paths"]["checkpoint"])
    assert model.count_params() == result["num_params"]


def test_test_split_with_d4_tta(write_config, tiny_toml, model_factory):
    """data.test_tta = "d4": the run's test evaluation averages the model over D4."""
    config = load_config(write_config(tiny_toml.replace("[data]", '[data]\ntest_tta = "d4"'), name="tta_run"))
    assert config.data.test_tta == "d4"
    result = run(config, model_factory=model_factory)
    report = json.loads((Path(result["runs"][0]["paths"]["dir"]) / "evaluation" / "metrics.json").read_text())
    assert report["tta"] == "d4" and 0.0 <= result["metrics"]["test_accuracy"] <= 1.0


def test_interrupted_run_resumes_and_seeds_are_summarised(write_config, tiny_toml, model_factory, crash_after):
    text = "seeds = [0, 1]\n" + tiny_toml.replace("epochs = 2", "epochs = 3")
    config = load_config(write_config(text, name="resume"))

    with pytest.raises(KeyboardInterrupt):
        run(config, model_factory=model_factory, callbacks=[crash_after(1)], evaluate_test=False)
    out = Path(config.output.dir.format(name="resume")) / "seed_0"
    assert (out / "backup").exists()
    assert len(out.joinpath("history.csv").read_text().splitlines()) == 3  # header + 2 epochs
    result = run(config, model_factory=model_factory, evaluate_test=False)
    first, second = result["runs"]
    # Seed 0 resumed where it stopped; seed 1 ran from scratch; both histories are whole.
    assert len(first["history"]["loss"]) == 3 and len(second["history"]["loss"]) == 3
    assert not (out / "backup").exists()
    assert [r["seed"] for r in result["runs"]] == [0, 1]
    assert len(set(result["paths"]["dirs"])) == 2
    assert "val_accuracy" in result["metrics"] and "val_accuracy" in result["metrics_std"]
    summary = json.loads(Path(result["paths"]["summary"]).read_text())
    assert summary["seeds"] == [0, 1]


def test_label_fraction_shrinks_training_split(write_config, tiny_toml):
    from lensml.training.runner import default_data_factory

    config = load_config(write_config(tiny_toml.replace("batch_size = 8", "batch_size = 4\nlabel_fraction = 0.34"), name="lf"))
    train = default_data_factory(config.data, "train", training=True, seed=0)
    val = default_data_factory(config.data, "validation", training=False, seed=0)
    # The protocol's stratified subset (lensml.data.stratified_subset), as on stored data:
    # ceil(0.34 * 8) = 3 of each class's 8 examples, 9 in batches of 4.
    assert len(train) == 3 and len(val) == 6
    images, labels = train[0]
    assert images.shape == (4, 12, 12, 1) and images.dtype == "float32"
    kept = np.concatenate([train[i][1] for i in range(len(train))])
    assert np.bincount(kept).tolist() == [3, 3, 3]
    with pytest.raises(ValueError, match="synthetic:<examples>:<size>"):
        default_data_factory(load_config(write_config('[data]\ndataset = "synthetic:x"', name="bad")).data, "train", training=True, seed=0)


def test_schedules():
    from lensml.training import TrainingConfig

    t = TrainingConfig(epochs=10, learning_rate=1e-3, schedule="warmup_cosine", warmup_epochs=2,
                       warmup_start_factor=1 / 3, min_learning_rate=1e-7)
    s = build_schedule(t, steps_per_epoch=5)
    assert float(s(0)) == pytest.approx(1e-3 / 3, rel=1e-4)
    assert float(s(10)) == pytest.approx(1e-3, rel=1e-4)
    assert float(s(50)) == pytest.approx(1e-7, rel=1e-2)
    c = build_schedule(TrainingConfig(epochs=4, learning_rate=1e-2, schedule="cosine"), 10)
    assert float(c(0)) == pytest.approx(1e-2) and float(c(20)) == pytest.approx(5e-3, rel=1e-3)
    assert build_schedule(TrainingConfig(learning_rate=1e-4), 10) == 1e-4


def test_jit_and_precision_follow_backend_and_device(backend):
    # On a CPU, TF runs its graph without XLA and JAX always jits; with a GPU/TPU both compile
    # with XLA and train in bfloat16 (the test holds on either kind of machine).
    from lensml.models.compile import accelerator_available

    accelerated = accelerator_available()
    assert resolve_jit_compile("auto") is (backend == "jax" or accelerated)
    assert resolve_jit_compile("auto", "resnet18") is (backend == "jax" or accelerated)
    assert resolve_jit_compile("auto", "lensformer") is True  # measured faster under XLA on TF's CPU too
    assert resolve_jit_compile(False) is False
    assert resolve_mixed_precision("auto") == ("mixed_bfloat16" if accelerated else None)
    assert resolve_mixed_precision("bfloat16") == "mixed_bfloat16"


def test_infinite_data_needs_steps_per_epoch(write_config, tiny_toml, model_factory):
    config = load_config(write_config(tiny_toml, name="inf"))

    class Endless:
        def __len__(self):
            raise TypeError("no length")

    with pytest.raises(ValueError, match="steps_per_epoch"):
        run(config, model_factory=model_factory, data_factory=lambda *a, **k: Endless())


def test_run_rejects_non_config():
    with pytest.raises(TypeError, match="ExperimentConfig"):
        run({"name": "x"})


@pytest.mark.slow
def test_label_efficiency_on_the_tiny_tfds_dataset(tmp_path_factory, write_config, model_factory):
    """The real pipeline (lensml.data, stratified label fractions) and evaluation report
    (lensml.evaluation), through the label-efficiency protocol."""
    from lensml.protocols import run_label_efficiency

    data_dir = tmp_path_factory.mktemp("tfds")
    text = f"""
    label_fractions = [0.5, 1.0]
    [data]
    dataset = "deeplense/model_ii_tiny"
    batch_size = 8
    data_dir = "{data_dir}"
    [model]
    name = "tiny"
    [training]
    epochs = 1
    verbose = 0
    run_eagerly = true
    """
    config = load_config(write_config(text, name="tfds_tiny"))
    result = run_label_efficiency(config, model_factory=model_factory)
    assert [(r["fraction"], r["seed"]) for r in result["records"]] == [(0.5, 0), (1.0, 0)]
    for r in result["records"]:
        assert 0.0 <= r["metrics"]["accuracy"] <= 1.0 and "macro_auc" in r["metrics"]
    assert set(result["summary"]["tiny"]) == {0.5, 1.0}
    assert Path(result["paths"]["summary"]).exists()
    root = Path(config.output.dir.format(name="tfds_tiny"))
    assert (root / "fraction_0.5" / "evaluation" / "report.md").exists()
    assert "label_fraction = 0.5" in (root / "fraction_0.5" / "config.toml").read_text()
    with pytest.raises(ValueError, match="label_fractions"):
        load_config(write_config(text.replace("[0.5, 1.0]", "[0.0]"), name="badcurve"))


def test_warm_start_fine_tune_and_linear_probe(write_config, tiny_toml, model_factory):
    import keras
    import numpy as np

    from lensml.training.warm_start import warm_start

    source = run(load_config(write_config('name = "source"\n' + tiny_toml, name="source")), model_factory=model_factory,
                 evaluate_test=False)["runs"][0]["paths"]["model"]
    trained = keras.saving.load_model(source)
    # Another build in the same process gets other automatic layer names: paired in order.
    fresh = model_factory("tiny", (12, 12, 1), 3)
    moved = warm_start(fresh, source)
    assert len(moved["copied"]) == 2 and moved["kept"] == []
    for a, b in zip(fresh.weights, trained.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    # Another number of classes: the features transfer, the head starts fresh.
    five = model_factory("tiny", (12, 12, 1), 5)
    assert warm_start(five, source)["kept"] == ["predictions"]
    with pytest.raises(FileNotFoundError, match="model.init_from"):
        warm_start(fresh, source + ".missing")
    with pytest.raises(ValueError, match="same architecture"):
        warm_start(model_factory("tiny", (12, 12, 1), 5, width=6), source)

    # Linear probe through the config: only the head trains, the features stay the source's.
    text = 'name = "probe"\n' + tiny_toml.replace(
        'name = "tiny"', f'name = "tiny"\ninit_from = "{source}"\ntrainable = "head"')
    probe = run(load_config(write_config(text, name="probe")), model_factory=model_factory, evaluate_test=False)
    probed = keras.saving.load_model(probe["runs"][0]["paths"]["model"])
    conv = [keras.ops.convert_to_numpy(w) for w in probed.layers[1].weights]
    for a, b in zip(conv, trained.layers[1].weights):
        np.testing.assert_array_equal(a, keras.ops.convert_to_numpy(b))
    head = keras.ops.convert_to_numpy(probed.get_layer("predictions").kernel)
    assert not np.allclose(head, keras.ops.convert_to_numpy(trained.get_layer("predictions").kernel))


def test_warm_start_from_another_architecture_names_both(tmp_path):
    import lensml.models as M
    from lensml.training.warm_start import warm_start

    resnet = M.build("resnet18", (16, 16, 1), 3, width=4, stage_blocks=(1, 1, 1, 1))
    resnet.save(tmp_path / "resnet.keras")
    vit = M.build("vit", (16, 16, 1), 3, embed_dim=8, depth=1, num_heads=1, mlp_dim=8)
    with pytest.raises(ValueError, match=r"is a 'resnet18' model, but this run builds 'vit'"):
        warm_start(vit, tmp_path / "resnet.keras")


def test_damaged_backup_is_an_error_naming_the_folder(write_config, tiny_toml, model_factory, crash_after):
    config = load_config(write_config(tiny_toml.replace("epochs = 2", "epochs = 3"), name="damaged"))

    with pytest.raises(KeyboardInterrupt):
        run(config, model_factory=model_factory, callbacks=[crash_after(0)], evaluate_test=False)
    backup = Path(config.output.dir.format(name="damaged")) / "backup"
    files = [p for p in backup.rglob("*") if p.is_file() and p.stat().st_size > 100]
    assert files
    for path in files:  # truncate every backup file, as a full disk would
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(RuntimeError, match=r"cannot resume from the training backup in .*backup.*delete that folder"):
        run(config, model_factory=model_factory, evaluate_test=False)


def test_warm_start_config_errors(write_config, tiny_toml):
    with pytest.raises(ValueError, match="needs model.init_from"):
        load_config(write_config(tiny_toml.replace('name = "tiny"', 'name = "tiny"\ntrainable = "head"')))
    with pytest.raises(ValueError, match="model.trainable"):
        load_config(write_config(tiny_toml.replace('name = "tiny"', 'name = "tiny"\ninit_from = "x.keras"\ntrainable = "body"')))


@pytest.mark.slow
def test_train_script_runs_label_fractions_like_the_cli(tmp_path, monkeypatch, capsys):
    # train/train.py once ignored label_fractions (lensml train honoured them): both call
    # lensml.protocols.train now. Run in-process (runpy), as `python train/train.py CONFIG key=value`.
    import runpy
    import sys

    root = Path(__file__).resolve().parents[2]
    config = tmp_path / "curve.toml"
    config.write_text(f'''name = "curve"
label_fractions = [0.5, 1.0]
[data]
dataset = "synthetic:24:32"
batch_size = 8
[model]
name = "resnet18"
options = {{ width = 4, stage_blocks = [1, 1, 1, 1] }}
[training]
epochs = 1
verbose = 0
run_eagerly = true
[output]
dir = "{tmp_path}/runs/{{name}}"
''')
    monkeypatch.setattr(sys, "argv", ["train.py", str(config), "seeds=[0]"])
    runpy.run_path(str(root / "train" / "train.py"), run_name="__main__")
    assert "label-efficiency curve:" in capsys.readouterr().out
    runs = tmp_path / "runs" / "curve"
    assert (runs / "fraction_0.5").is_dir() and (runs / "fraction_1").is_dir()


@pytest.mark.slow
def test_cross_instrument_protocol_from_the_library(tmp_path_factory, write_config, model_factory):
    # Model I (150 px) -> Model II (64 px) on the tiny datasets: zero-shot, scratch, fine-tune and
    # linear probe at two fractions, one seed; evaluate/cross_instrument.py wraps this call.
    from lensml.protocols import run_cross_instrument

    data_dir = tmp_path_factory.mktemp("tfds")
    common = f"""
    [model]
    name = "tiny"
    [training]
    epochs = 1
    verbose = 0
    run_eagerly = true
    """
    source = load_config(write_config(f'[data]\ndataset = "deeplense/model_i_tiny"\nbatch_size = 8\ndata_dir = "{data_dir}"\n'
                                      + textwrap.dedent(common), name="src"))
    target = load_config(write_config(f'[data]\ndataset = "deeplense/model_ii_tiny"\nbatch_size = 8\ndata_dir = "{data_dir}"\n'
                                      + textwrap.dedent(common), name="tgt"))
    out = tmp_path_factory.mktemp("transfer")
    result = run_cross_instrument(source, target, out, fractions=[0.5, 1.0], model_factory=model_factory)
    settings = sorted({(r["setting"], r["fraction"]) for r in result["records"]})
    assert settings == sorted((s, f) for s in ("zero_shot", "scratch", "fine_tune", "linear_probe") for f in (0.5, 1.0))
    assert all(0.0 <= r["metrics"]["test_accuracy"] <= 1.0 for r in result["records"])
    assert (out / "summary.md").exists() and (out / "zero_shot_s0" / "report.md").exists()
    assert "init_from" in (out / "runs" / "tgt_fine_tune_f0.5" / "seed_0" / "config.toml").read_text()


def test_label_efficiency_script_wraps_the_library_protocol(tmp_path, monkeypatch, capsys):
    # evaluate/label_efficiency.py is a wrapper of lensml.protocols.run_label_efficiency: the
    # same folders (fraction_<f>/, label_efficiency/) and the curve of the test accuracy. Run
    # in-process (runpy), as `python evaluate/label_efficiency.py CONFIG OUT key=value` does.
    import runpy
    import sys

    root = Path(__file__).resolve().parents[2]
    config = tmp_path / "le.toml"
    config.write_text('''name = "le"
[data]
dataset = "synthetic:24:32"
batch_size = 8
[model]
name = "resnet18"
options = { width = 4, stage_blocks = [1, 1, 1, 1] }
[training]
epochs = 1
verbose = 0
run_eagerly = true
''')
    out = tmp_path / "curve"
    monkeypatch.setattr(sys, "argv", ["label_efficiency.py", str(config), str(out), "seeds=[0]", "label_fractions=[0.5]"])
    runpy.run_path(str(root / "evaluate" / "label_efficiency.py"), run_name="__main__")
    summary = json.loads((out / "label_efficiency" / "summary.json").read_text())
    assert summary["metric"] == "accuracy" and list(summary["summary"]["resnet18"]) == ["0.5"]  # on the test split
    assert (out / "fraction_0.5" / "evaluation" / "metrics.json").exists()
    assert "accuracy, mean +- std" in capsys.readouterr().out
