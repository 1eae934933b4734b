"""Tuning an experiment config end to end on tiny synthetic data."""

import json
from pathlib import Path

import optuna
import pytest

from lensml.training import load_config
from lensml.protocols.tuning import prepare, tune_experiment

TUNE = """
[tune]
objectives = ["val_macro_auc"]
n_trials = 3
pruner = "median"
startup_trials = 1
heartbeat_interval = 1
seed_policy = "per_trial"

[tune.params."training.learning_rate"]
type = "float"
low = 1e-3
high = 1e-1
log = true

[tune.params."training.schedule"]
type = "categorical"
choices = ["constant", "warmup_cosine"]

[tune.params."training.warmup_epochs"]
type = "float"
low = 0.5
high = 1.0
condition = {param = "training.schedule", values = ["warmup_cosine"]}

[tune.params."model.options.width"]
type = "int"
low = 2
high = 6
step = 2
"""


def test_three_trial_study_finishes_and_exports_a_config(write_config, tiny_toml, model_factory):
    # val_accuracy: the streaming macro AUC is slow in eager mode (tested in test_run).
    text = tiny_toml + TUNE.replace('objectives = ["val_macro_auc"]', 'objectives = ["val_accuracy"]')
    config = load_config(write_config(text, name="study3"))
    result = tune_experiment(config, model_factory=model_factory)
    assert result["trials_run"] == 3
    assert result["directions"] == ["maximize"]
    storage = result["storage"]
    study = optuna.load_study(study_name="study3", storage=storage)
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) == 3
    # Seeds per trial are recorded.
    assert [t.user_attrs["seed"] for t in study.trials] == [0, 1, 2]
    paths = result["paths"]
    for key in ("best_config", "summary_md", "summary_json", "history"):
        assert Path(paths[key]).exists(), key
    best = load_config(paths["best_config"])
    assert best.tune is None and best.name == "study3_tuned"
    params = result["best"][0]["params"]
    assert best.training.learning_rate == pytest.approx(params["training.learning_rate"])
    assert best.model.options["width"] == params["model.options.width"]
    summary = json.loads(Path(paths["summary_json"]).read_text())
    assert summary["objectives"] == ["val_accuracy"]
    # Running the command again resumes: the study already holds 3 trials, nothing re-runs.
    again = tune_experiment(config, model_factory=model_factory, report=False)
    assert again["trials_run"] == 0


@pytest.mark.parametrize(
    "replace, match",
    [
        (('"training.learning_rate"', '"training.learnrate"'), "not a config key"),
        (('"training.learning_rate"', '"optimizer.lr"'), "not a config key"),
        (('objectives = ["val_macro_auc"]', 'objectives = ["val_f2"]'), "unknown metric 'val_f2'"),
        (('choices = ["constant", "warmup_cosine"]', 'choices = ["constant", "linear"]'), "invalid config"),
        (("high = 1e-1", "high = 1e-4"), "greater than high"),
    ],
)
def test_bad_tune_input_fails_before_training(write_config, tiny_toml, replace, match):
    config = load_config(write_config(tiny_toml + TUNE.replace(*replace), name="bad"))
    calls = []

    def factory(*a, **k):
        calls.append(1)
        raise AssertionError("must not build a model")

    with pytest.raises(ValueError, match=match):
        tune_experiment(config, model_factory=factory)
    assert calls == []


def test_empty_space_and_missing_tune_table(write_config, tiny_toml):
    # An objective on the macro AUC switches the streaming metric on.
    config, space, objectives, directions = prepare(load_config(write_config(tiny_toml + TUNE, name="auc")))
    assert "macro_auc" in config.training.metrics and directions == ["maximize"]
    assert space.names[0] == "training.learning_rate"
    with pytest.raises(ValueError, match="search space is empty"):
        prepare(load_config(write_config(tiny_toml + "[tune]\nn_trials = 2\n", name="empty")))
    with pytest.raises(ValueError, match=r"no \[tune\] table"):
        prepare(load_config(write_config(tiny_toml, name="notune")))


def test_unreachable_storage_fails_before_training(write_config, tiny_toml, model_factory, tmp_path):
    config = load_config(write_config(tiny_toml + TUNE, name="unreach"))
    with pytest.raises(ValueError, match="unreachable"):
        tune_experiment(config, storage="sqlite:////nonexistent-dir/x/study.db", model_factory=model_factory)
    assert not (tmp_path / "runs" / "unreach" / "tune" / "unreach" / "trials").exists()


def test_cli_multi_objective_tune_then_train(write_config, tiny_toml, model_factory, monkeypatch, capsys, tmp_path):
    from lensml import cli
    from lensml.training import runner

    monkeypatch.setattr(runner, "default_model_factory", model_factory)
    path = write_config(tiny_toml + TUNE, name="cli")
    journal = tmp_path / "cli.log"
    rc = cli.main([
        "tune", "--config", str(path), "--study", "s1", "--storage", f"journal:{journal}", "--n-trials", "1",
        "--set", "training.epochs=1", "--set", "tune.objectives=['val_accuracy', 'num_params']",
    ])
    captured = capsys.readouterr()
    out = captured.out
    assert rc == 0, captured.err[-3000:]
    assert "best config:" in out and "optuna-dashboard" in out, out[-3000:]
    result = json.loads(out[out.index("\n{\n") + 1 : out.index("\nbest config:")])
    assert result["directions"] == ["maximize", "minimize"]
    assert Path(result["paths"]["pareto"]).exists()
    for p in result["paths"]["pareto_configs"]:
        assert load_config(p).tune is None
    # The exported config trains as it is.
    rc = cli.main(["train", "--config", result["paths"]["best_config"], "--set", "data.test_split=''"])
    assert rc == 0, capsys.readouterr().err[-3000:]
    assert cli.main(["tune", "--config", str(path), "--set", "tune.objectives=['val_nope']"]) == 2
    assert "unknown metric 'val_nope'" in capsys.readouterr().err
    assert cli.main(["train", "--config", str(path), "--set", "training.lr=1"]) == 2
    assert "unknown config key 'training.lr'" in capsys.readouterr().err


def test_protocols_tune_is_the_function_after_the_cli_imported_the_module():
    # The study module once shared the name ``tune`` and replaced the package's function on import.
    import lensml.protocols as P
    from lensml.cli import tune as tune_cmd  # noqa: F401  (what the CLI imports)
    import lensml.protocols.tuning  # noqa: F401

    assert callable(P.tune) and P.tune.__module__ == "lensml.protocols.tuning"
    assert P.tune is lensml.protocols.tuning.tune_experiment
