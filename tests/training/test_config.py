from pathlib import Path

import pytest

from lensml.protocols.tuning import prepare
from lensml.training import ExperimentConfig, apply_overrides, config_from_dict, config_to_dict, load_config, parse_set_option, save_config

TRAIN_DIR = Path(__file__).resolve().parents[2] / "train"


def test_load_typed_config(write_config):
    path = write_config(
        """
        seeds = [0, 1, 2]
        [data]
        dataset = "deeplense/model_ii_3k"
        batch_size = 32
        label_fraction = 0.1
        [model]
        name = "vit"
        [model.options]
        patch_size = 8
        [training]
        epochs = 5
        learning_rate = 1
        schedule = "warmup_cosine"
        """,
        name="my_exp",
    )
    c = load_config(path)
    assert isinstance(c, ExperimentConfig)
    assert c.name == "my_exp"  # defaults to the file name
    assert c.seeds == [0, 1, 2]
    assert c.data.batch_size == 32 and c.data.label_fraction == 0.1
    assert c.model.options == {"patch_size": 8}
    assert c.training.learning_rate == 1.0 and isinstance(c.training.learning_rate, float)
    assert c.training.optimizer == "adamw" and c.training.jit_compile == "auto"
    assert c.tune is None


@pytest.mark.parametrize(
    "text, match",
    [
        ("epoch = 3", r"unknown config key 'epoch'; allowed keys in the top level: .*seeds"),
        ("[training]\nlearnig_rate = 0.1", r"unknown config key 'training.learnig_rate'; allowed keys in \[training\]: .*learning_rate"),
        ("[data]\nbatchsize = 2", r"'data.batchsize'.*batch_size"),
        ("[optimizer]\nname = 'adam'", r"unknown config key 'optimizer'"),
        ("[tune]\nobjective = 'val_loss'", r"'tune.objective'.*objectives"),
        ("[training]\nschedule = 'linear'", r"training.schedule.*'linear'"),
        ("[training]\nepochs = 0", r"training.epochs"),
        ("[data]\nlabel_fraction = 1.5", r"data.label_fraction"),
        ("[data]\ntest_tta = 'd8'", r"'data.test_tta': got 'd8', expected 'd4'"),
        ("seeds = []", r"seeds"),
        ("[training]\njit_compile = 'yes'", r"jit_compile"),
        ("[tune]\nobjectives = ['val_loss']\ndirections = ['minimize', 'maximize']", r"tune.directions"),
    ],
)
def test_config_errors_name_the_key(write_config, text, match):
    with pytest.raises(ValueError, match=match):
        load_config(write_config(text))


@pytest.mark.parametrize(
    "text, match",
    [
        ("[training]\nepochs = 'ten'", "training.epochs.*integer"),
        ("[data]\nshuffle = 1", "data.shuffle.*true or false"),
        ("seeds = 3", "seeds.*list"),
        ("[training]\nlearning_rate = true", "learning_rate.*number"),
    ],
)
def test_config_type_errors(write_config, text, match):
    with pytest.raises(TypeError, match=match):
        load_config(write_config(text))


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(bad)


def test_overrides_and_set_option(write_config, tiny_toml):
    c = load_config(write_config(tiny_toml), {"training.epochs": 7, "model.options.width": 3})
    assert c.training.epochs == 7 and c.model.options == {"width": 3}
    assert parse_set_option("training.learning_rate=1e-3") == ("training.learning_rate", 1e-3)
    assert parse_set_option("seeds=[1, 2]") == ("seeds", [1, 2])
    assert parse_set_option("model.name=resnet18") == ("model.name", "resnet18")
    assert parse_set_option("data.augment = \"d4\"") == ("data.augment", "d4")
    with pytest.raises(ValueError, match="key=value"):
        parse_set_option("training.epochs")
    with pytest.raises(ValueError, match="unknown config key 'training.epoch'"):
        apply_overrides(c, {"training.epoch": 3})
    with pytest.raises(ValueError, match="is not a table"):
        apply_overrides(c, {"training.epochs.x": 3})


def test_toml_round_trip(tmp_path, write_config):
    raw = {
        "name": "rt",
        "seeds": [1, 2],
        "data": {"dataset": "synthetic:8:8", "augment": "d4"},
        "model": {"name": "vit", "input_shape": [64, 64, 1], "options": {"depth": 2, "act": "elu", "dims": [1, 2]}},
        "training": {"learning_rate": 3e-4, "schedule": "cosine", "clipnorm": 1.0},
        "tune": {
            "objectives": ["val_macro_auc", "num_params"],
            "params": {"training.learning_rate": {"type": "float", "low": 1e-5, "high": 1e-2, "log": True}},
        },
    }
    c = config_from_dict(raw)
    save_config(c, tmp_path / "rt.toml")
    assert load_config(tmp_path / "rt.toml") == c
    assert config_to_dict(c)["model"]["options"]["dims"] == [1, 2]


def test_every_train_config_loads():
    from lensml.models import available

    known = available()
    paths = sorted(TRAIN_DIR.glob("*.toml"))
    assert len(paths) >= 13
    for path in paths:
        c = load_config(path)
        assert c.name == path.stem
        assert c.training.optimizer == "adamw"
        assert c.model.name in known, (path.name, c.model.name)
        if c.tune is not None:
            prepare(c)


def test_names_are_checked_before_any_data(tmp_path):
    # A misspelled model, option, loss or metric, or a loss that does not fit the target, is
    # reported when the config is checked: before the dataset is built (run_seed checks first).
    from lensml.training.checks import check_names, evaluation_task
    from lensml.training.config import config_from_dict
    from lensml.training.runner import run_seed

    def cfg(**parts):
        raw = {"data": {"dataset": "deeplense/model_ii_n400000"}, "model": {"name": "resnet18"}}
        for key, value in parts.items():
            section, name = key.split("__")
            raw.setdefault(section, {})[name] = value
        return config_from_dict(raw)

    check_names(cfg())
    check_names(cfg(model__name="lenspinn_small", model__options={"embed_dim": 32}))
    for bad, match in ((cfg(model__name="resnet19"), "model.name"),
                       (cfg(model__options={"depth": 3}), "has no option 'depth'"),
                       (cfg(model__name="lenspinn_small", model__options={"embed_dims": 32}), "embed_dims"),
                       (cfg(training__loss="msee"), "unknown loss"),
                       (cfg(training__metrics=["acuracy"]), "unknown metric"),
                       (cfg(data__target="log10_axion_mass"), "classification loss"),
                       (cfg(training__loss="mse"), "on class labels"),
                       (cfg(data__target="convergence", training__loss="mse"), "no evaluation protocol")):
        with pytest.raises(ValueError, match=match):
            check_names(bad)
        # the 400,000-per-class dataset is never built: the check comes first
        with pytest.raises(ValueError, match=match):
            run_seed(bad, 0, out_dir=tmp_path / "never")
    assert evaluation_task("hr") == "super_resolution" and evaluation_task("theta_E") == "regression"


def test_misspelled_test_split_fails_before_training(write_config, tiny_toml, tmp_path):
    from lensml.training.runner import run_seed

    text = f'''
[data]
dataset = "deeplense/model_ii_tiny"
test_split = "tset"
batch_size = 8
data_dir = "{tmp_path / 'tfds'}"
[model]
name = "resnet18"
options = {{ width = 4, stage_blocks = [1, 1, 1, 1] }}
[training]
epochs = 1
verbose = 0
'''
    config = load_config(write_config(text, name="tset"))
    with pytest.raises(ValueError, match="unknown split 'tset'"):
        run_seed(config, 0)
    assert not (tmp_path / "runs" / "tset" / "history.csv").exists()  # nothing trained
