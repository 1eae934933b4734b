"""The bad-input table of the docs (docs/guide/reliability.md, "Bad inputs"): every public entry point, the bad inputs
tried, and the error each gets. Each case runs in an empty working folder and must leave it
empty (nothing half-written after a failure).

``python tests/test_bad_inputs.py`` prints the table as Markdown (what docs/guide/reliability.md shows).
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
import pytest

CONFIG = '[data]\ndataset = "{dataset}"\nbatch_size = {batch}\n[model]\nname = "{model}"\n{extra}'


def _toml(dataset="synthetic:8:8", batch=4, model="resnet18", extra=""):
    Path("exp.toml").write_text(CONFIG.format(dataset=dataset, batch=batch, model=model, extra=extra))
    return "exp.toml"


def _train_set(override):
    """``lensml train`` on the tiny config with ``--set override``."""
    return lambda: _cli("train", "--config", _toml(), "--set", override)


def _cli(*args):
    """(exit code, last stderr line) of ``lensml ARGS``."""
    from lensml.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse
            code = e.code
    lines = err.getvalue().strip().splitlines()
    return code, lines[-1] if lines else ""


def _raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the table records what each raises
        return type(e).__name__, str(e)
    return None, "no error"


def _models():
    import lensml.models

    return lensml.models


def _data():
    import lensml.data

    return lensml.data


def _physics():
    import lensml.physics

    return lensml.physics


def _nan_images(folder="bad_npy"):
    for cls in ("no_sub", "cdm", "axion"):
        os.makedirs(f"{folder}/test/{cls}", exist_ok=True)
        np.save(f"{folder}/test/{cls}/a.npy", np.full((8, 8), np.nan if cls == "cdm" else 1.0))
    return folder


def _non_utf8_toml():
    Path("exp.toml").write_bytes(b'[data]\ndataset = "synthetic:8:8"\n# caf\xe9\n')
    return "exp.toml"


class _RunsCode:
    """What a crafted data file holds: a pickle that calls a function when loaded."""

    def __reduce__(self):
        return os.system, ("touch pwned",)


def _pickled_npy(folder="bad_npy"):
    _nan_images(folder)
    np.save(f"{folder}/test/cdm/a.npy", np.ones((8, 8), "float32"))
    crafted = np.empty(2, dtype=object)
    crafted[0], crafted[1] = np.ones((8, 8)), _RunsCode()
    np.save(f"{folder}/test/axion/a.npy", crafted, allow_pickle=True)
    return folder


def _truncated_npy(folder="bad_npy"):
    _nan_images(folder)
    np.save(f"{folder}/test/cdm/a.npy", np.ones((8, 8), "float32"))
    raw = Path(f"{folder}/test/cdm/a.npy").read_bytes()
    Path(f"{folder}/test/cdm/a.npy").write_bytes(raw[:100])
    return folder


def _with_env(fn, **env):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return fn()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _predict(images):
    model = _models().build("resnet18", (16, 16, 1), width=4, stage_blocks=(1, 1, 1, 1))
    return model.predict(images, verbose=0)


def _with_nan(shape=(2, 16, 16, 1)):
    images = np.ones(shape, "float32")
    images[1, 3, 3, 0] = np.nan
    return images


def _tiny_model(path="m.keras"):
    _models().build("resnet18", (8, 8, 1), width=4, stage_blocks=(1, 1, 1, 1)).save(path)
    return path


#: (entry point, bad input, how it is tried, expected: ("exit", code, text) or (exception, text)).
CASES = [
    ("lensml train", "config file missing", lambda: _cli("train", "--config", "missing.toml"),
     ("exit", 2, "does not exist")),
    ("lensml train", "misspelled config key", lambda: _cli("train", "--config", _toml(extra="[training]\nepoch = 3\n")),
     ("exit", 2, "unknown config key 'training.epoch'")),
    ("lensml train", "batch size 0", lambda: _cli("train", "--config", _toml(batch=0)),
     ("exit", 2, "'data.batch_size': got 0, expected >= 1")),
    ("lensml train", "unknown model name", lambda: _cli("train", "--config", _toml(model="resnet19")),
     ("exit", 2, "unknown model 'resnet19'")),
    ("lensml train", "unknown dataset config", lambda: _cli("train", "--config", _toml(dataset="deeplense/model_x_3k")),
     ("exit", 2, "unknown deeplense config 'model_x_3k'")),
    ("lensml train", "unknown normalisation", _train_set("data.normalization='zscore'"),
     ("exit", 2, "'data.normalization': got 'zscore'")),
    ("lensml train", "negative epochs (--set)", _train_set("training.epochs=-1"),
     ("exit", 2, "'training.epochs': got -1, expected >= 1")),
    ("lensml train", "learning rate NaN (--set)", _train_set("training.learning_rate=nan"),
     ("exit", 2, "'training.learning_rate': got nan, expected a finite number")),
    ("lensml train", "weight decay inf (--set)", _train_set("training.weight_decay=inf"),
     ("exit", 2, "'training.weight_decay': got inf, expected a finite number")),
    ("lensml train", "negative clipnorm (--set)", _train_set("training.clipnorm=-1"),
     ("exit", 2, "'training.clipnorm': got -1.0, expected > 0")),
    ("lensml train", "negative warm-up (--set)", _train_set("training.warmup_epochs=-3"),
     ("exit", 2, "'training.warmup_epochs': got -3.0, expected >= 0")),
    ("lensml train", "negative seed", _train_set("seeds=[-1]"),
     ("exit", 2, "'seeds[0]': got -1, expected a seed >= 0")),
    ("lensml train", "misspelled output.dir placeholder", _train_set("output.dir='runs/{nme}'"),
     ("exit", 2, "has the placeholder(s) {nme}; expected only {name} and {seed}")),
    ("lensml train", "run name that leaves its root", _train_set("name='../../x'"),
     ("exit", 2, "'name': got '../../x', expected a name without '/'")),
    ("lensml train", "config file not UTF-8", lambda: _cli("train", "--config", _non_utf8_toml()),
     ("exit", 2, "'exp.toml' is not UTF-8 text")),
    ("lensml train", "misspelled model option", lambda: _cli("train", "--config",
                                                             _toml(extra="options = { widht = 8 }\n")),
     ("exit", 2, "has no option 'widht'")),
    ("lensml evaluate", "model file missing", lambda: _cli("evaluate", "--model", "missing.keras", "--data",
                                                            "deeplense/model_ii_tiny", "--out", "report"),
     ("exit", 2, "'missing.keras' does not exist")),
    ("lensml evaluate", "target of another task", lambda: _cli("evaluate", "--model", "m.keras", "--data",
                                                                "deeplense/model_ii_tiny", "--out", "report",
                                                                "--target", "theta_E"),
     ("exit", 2, "--target 'theta_E' is tested under the regression task, not --task classification")),
    ("lensml tune", "config without [tune]", lambda: _cli("tune", "--config", _toml()),
     ("exit", 2, "has no [tune] table")),
    ("lensml simulate", "unknown family", lambda: _cli("simulate", "--family", "model_x", "--per-class", "1", "--out",
                                                        "sim"),
     ("exit", 2, "model_x")),
    ("lensml pretrain", "unknown SSL method", lambda: _cli("pretrain", "--config", _toml(model="moco")),
     ("exit", 2, "model.name='moco': expected one of")),
    ("lensml finetune", "encoder file missing", lambda: _cli(
        "finetune", "--config", _toml(model="pretrained", extra='options = { encoder_path = "missing.keras" }\n'
                                                              "[training]\nepochs = 1\nverbose = 0\n")),
     ("exit", 2, "missing.keras")),
    ("lensml quickstart", "unknown model", lambda: _cli("quickstart", "--models", "resnet18,nope", "--out", "qs"),
     ("exit", 2, "unknown model 'nope'")),
    ("lensml.models.build", "unknown name", lambda: _raises(lambda: _models().build("resnet19")),
     ("ValueError", "unknown model name 'resnet19'")),
    ("lensml.models.build", "input shape of rank 2", lambda: _raises(lambda: _models().build("resnet18", (64, 64))),
     ("ValueError", "expected rank 3")),
    ("lensml.models.build", "one class", lambda: _raises(lambda: _models().build("resnet18", num_classes=1)),
     ("ValueError", "num_classes=1: expected an integer >= 2")),
    ("lensml.models.build", "misspelled option", lambda: _raises(lambda: _models().build("resnet18", depht=3)),
     ("ValueError", "has no option 'depht'; its options:")),
    ("lensml.data.pipeline", "batch size 0", lambda: _raises(lambda: _data().pipeline("model_ii_tiny", "train",
                                                                                       batch_size=0)),
     ("ValueError", "batch_size must be a positive int, got 0")),
    ("lensml.data.pipeline", "unknown augmentation", lambda: _raises(
        lambda: _data().pipeline("model_ii_tiny", "train", augment="rotate")),
     ("ValueError", "augment must be None or a combination of")),
    ("lensml.data.pipeline", "unknown target", lambda: _raises(
        lambda: _data().pipeline("model_ii_tiny", "train", target="mass")),
     ("ValueError", "target must be one of")),
    ("lensml.data.pipeline", "unknown dataset", lambda: _raises(lambda: _data().pipeline("model_x_tiny", "train")),
     ("ValueError", "unknown deeplense config 'model_x_tiny'")),
    ("lensml.data.simulated_stream", "unknown family", lambda: _raises(
        lambda: _data().simulated_stream("model_x", batch_size=4)),
     ("ValueError", "unknown family 'model_x'")),
    ("lensml.data.simulated_stream", "batch size 0", lambda: _raises(
        lambda: _data().simulated_stream("model_ii", batch_size=0)),
     ("ValueError", "batch_size must be a positive int, got 0")),
    ("lensml.data.simulated_stream", "unknown class", lambda: _raises(
        lambda: _data().simulated_stream("model_ii", batch_size=4, classes=("wimp",))),
     ("ValueError", "unknown class 'wimp'")),
    ("lensml.data.normalize", "NaN pixels", lambda: _raises(
        lambda: _data().normalize(np.full((1, 8, 8, 1), np.nan, "float32"))),
     ("InvalidArgumentError", "images hold NaN or inf pixels")),
    ("lensml evaluate", "a .npy image with NaN pixels", lambda: _cli("evaluate", "--model", _tiny_model(), "--data",
                                                                      _nan_images(), "--split", "test", "--out", "report"),
     ("exit", 2, "NaN")),
    ("lensml evaluate", "a pickled .npy that would run code", lambda: _cli(
        "evaluate", "--model", _tiny_model(), "--data", _pickled_npy(), "--split", "test", "--out", "report"),
     ("exit", 2, "lensml does not run code from data files")),
    ("lensml evaluate", "a truncated .npy", lambda: _cli("evaluate", "--model", _tiny_model(), "--data",
                                                         _truncated_npy(), "--split", "test", "--out", "report"),
     ("exit", 2, "cdm/a.npy' is not a readable .npy image")),
    ("lensml (any command)", "KERAS_BACKEND=torch", lambda: _with_env(lambda: _cli("train", "--config", _toml()),
                                                                     KERAS_BACKEND="torch"),
     ("exit", 2, "KERAS_BACKEND='torch': lensml runs on the Keras backends tensorflow, jax")),
    ("model.predict", "an image with a NaN pixel", lambda: _raises(lambda: _predict(_with_nan())),
     ("ValueError", "1 of 2 images hold NaN or inf pixels (image 1: 1 pixels)")),
    ("model.predict", "images of another size", lambda: _raises(lambda: _predict(np.ones((2, 20, 20, 1), "float32"))),
     ("ValueError", "takes images of shape (batch, 16, 16, 1) (height, width, channels), got (2, 20, 20, 1)")),
    ("lensml.data.pipeline", "a config too large for the disk", lambda: _raises(
        lambda: _data().pipeline("model_ii_n999999999", "train")),
     ("ValueError", "deeplense/model_ii_n999999999: building it needs about")),
    ("lensml.data.pipeline", "negative size `_n-5`", lambda: _raises(lambda: _data().pipeline("model_ii_n-5", "train")),
     ("ValueError", "per_class: expected an integer >= 5 (examples per class), got -5")),
    ("lensml.data.pipeline", "download=False, not built", lambda: _raises(
        lambda: _data().pipeline("model_ii_tiny", "train", download=False)),
     ("FileNotFoundError", "deeplense/model_ii_tiny is not built in")),
    ("lensml.physics.PoissonSolver", "negative pixel scale", lambda: _raises(lambda: _physics().PoissonSolver(-1.0)),
     ("ValueError", "pixel_scale must be finite and > 0, got -1.0")),
    ("lensml.physics.PhysicsPreprocessing", "epsilon <= 0", lambda: _raises(
        lambda: _physics().PhysicsPreprocessing(0.0)),
     ("ValueError", "epsilon must be finite and > 0")),
]


@pytest.mark.parametrize("entry, bad, attempt, expected", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_bad_input_gets_a_clear_error_and_leaves_nothing(entry, bad, attempt, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds_unused"))
    outcome = attempt()
    if expected[0] == "exit":
        code, message = outcome
        assert code == expected[1], outcome
        assert expected[2] in message, outcome
    else:
        kind, message = outcome
        assert kind == expected[0], outcome
        assert expected[1] in message, outcome
    inputs = {"exp.toml", "bad_npy", "m.keras"}
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                  if p.is_file() and p.relative_to(tmp_path).parts[0] not in inputs)
    assert left == [], f"{entry} left files behind after failing: {left}"
    assert not (tmp_path / "pwned").exists()  # no data file ran code


def markdown() -> str:
    """The reliability page's table: entry point, bad input, the error (from CASES)."""
    lines = ["| entry point | bad input | error |", "|---|---|---|"]
    for entry, bad, _, expected in CASES:
        error = f"exit code {expected[1]}: `...{expected[2]}...`" if expected[0] == "exit" else \
            f"`{expected[0]}`: `...{expected[1]}...`"
        lines.append(f"| `{entry}` | {bad} | {error} |")
    return "\n".join(lines)


def test_the_reliability_page_shows_the_table():
    page = (Path(__file__).resolve().parents[1] / "docs" / "guide" / "reliability.md").read_text()
    assert markdown() in page, "docs/guide/reliability.md's bad-input table is out of date: python tests/test_bad_inputs.py"


if __name__ == "__main__":
    print(markdown())
