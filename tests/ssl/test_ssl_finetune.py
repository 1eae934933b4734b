"""Fine-tuning heads on pretrained encoders, the factory, and the pretrain/finetune commands."""

import argparse
import json

import keras
import numpy as np
import pytest
from keras import ops

from lensml import ssl
from lensml.ssl import factory, finetune
from tests.ssl._helpers import tiny_cnn


def test_linear_probe_trains_only_the_head(images):
    encoder = tiny_cnn(name="probe_cnn")
    before = [ops.convert_to_numpy(w) for w in encoder.weights]
    model = finetune.build_classifier(encoder, num_classes=3, mode="linear_probe")
    assert len(model.trainable_weights) == 2  # one Dense: kernel + bias
    model.compile("adam", "sparse_categorical_crossentropy",
                  jit_compile=keras.backend.backend() == "jax")
    model.fit(images, np.arange(8) % 3, epochs=2, verbose=0)
    for b, w in zip(before, encoder.weights):
        np.testing.assert_array_equal(b, ops.convert_to_numpy(w))
    probs = ops.convert_to_numpy(model(images))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_full_finetune_regression_and_resize():
    encoder = tiny_cnn(name="ft_cnn")
    model = finetune.build_regressor(encoder, mode="finetune", input_shape=(16, 16, 1))
    assert model.output_shape == (None, 1)
    assert len(model.trainable_weights) > 4  # encoder included
    out = model(np.zeros((2, 16, 16, 1), "float32"))
    assert out.shape == (2, 1)
    with pytest.raises(ValueError, match="mode"):
        finetune.build_classifier(tiny_cnn(), mode="frozen")


def test_super_resolution_from_mae_tokens(tmp_path):
    mae = ssl.MAE(image_shape=(32, 32, 1), patch_size=8, embed_dim=16, depth=1, num_heads=2,
                  decoder_dim=8, seed=0)
    tokens = mae.image_encoder(pool=None)
    path = tmp_path / "tokens.keras"
    tokens.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    sr = finetune.build_sr_from_tokens(loaded, lr_shape=(8, 8, 1), filters=8)
    lr = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
    out = ops.convert_to_numpy(sr(lr))
    assert out.shape == (2, 32, 32, 1) and np.all(np.isfinite(out))
    with pytest.raises(ValueError, match="tokens"):
        finetune.build_sr_from_tokens(tiny_cnn())


def test_factory_wires_registry_and_small_vit():
    trainer = factory.build_trainer("simsiam", (32, 32, 1), encoder="ssl_vit",
                                    encoder_options={"patch_size": 8, "dim": 16, "depth": 1,
                                                     "num_heads": 2},
                                    projection_dim=8, predictor_dim=4)
    assert isinstance(trainer, ssl.SimSiam) and trainer.encoder.output_shape == (None, 16)
    with pytest.raises(ValueError, match="method"):
        factory.build_trainer("moco")
    with pytest.raises(ValueError, match="task"):
        factory.build_downstream("ssl_vit", (32, 32, 1), task="detection")
    with pytest.raises(ValueError, match="encoder_path"):
        factory.build_downstream("pretrained", (32, 32, 1))
    # one name table: every method the factory groups is a trainer of lensml.ssl.TRAINERS
    assert set(factory.METHODS) == set(ssl.TRAINERS)
    # super-resolution from scratch reads the tokens of a fresh ssl_vit (pooling switched off)
    sr = factory.build_downstream("ssl_vit", (16, 16, 1), task="super_resolution", sr_filters=8,
                                  encoder_options={"patch_size": 8, "dim": 16, "depth": 1, "num_heads": 2})
    assert sr.output_shape == (None, 64, 64, 1)
    with pytest.raises(ValueError, match="token encoder"):
        factory.build_downstream("resnet18", (16, 16, 1), task="super_resolution")


def test_the_token_trainers_vit_is_a_registered_model_built_from_the_one_token_stack():
    from lensml.layers import PatchEmbedding, TransformerEncoder
    from lensml.models import build_encoder, size

    options = {"patch_size": 8, "dim": 16, "depth": 1, "num_heads": 2}
    keras.utils.set_random_seed(3)
    registry = build_encoder("ssl_vit", (32, 32, 1), cls_token=True, **options)
    keras.utils.set_random_seed(3)
    old_entry = ssl.build_vit_encoder((32, 32, 1), cls_token=True, **options)
    assert isinstance(registry.get_layer("tokenizer"), PatchEmbedding)
    assert isinstance(registry.get_layer("transformer"), TransformerEncoder)
    x = np.random.default_rng(0).random((2, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(registry(x)), np.asarray(old_entry(x)), atol=1e-6)  # one builder
    assert build_encoder("ssl_vit", (32, 32, 1), pool=None, **options).output_shape == (None, 16, 16)
    # the MAE's tokens and the scratch baseline's: the same shapes, the same layers
    mae = ssl.MAE(image_shape=(32, 32, 1), patch_size=8, embed_dim=16, depth=1, num_heads=2, decoder_dim=8,
                  decoder_heads=2, cls_token=True, seed=0)
    assert mae.image_encoder(pool=None).output_shape == build_encoder(
        "ssl_vit", (32, 32, 1), pool=None, cls_token=True, **options).output_shape
    # and, registered with a width rule, it has budget-matched sizes
    assert size("ssl_vit", "budget_150k", input_shape=(32, 32, 1))["dim"] > 16


def _args(config, out, **extra):
    ns = argparse.Namespace(config=str(config), overrides=[], out=str(out), dry_run=False)
    ns.__dict__.update(extra)
    return ns


@pytest.mark.slow
def test_pretrain_then_linear_probe_commands(tmp_path, capsys):
    from lensml.cli import finetune as finetune_cmd
    from lensml.cli import pretrain as pretrain_cmd

    pre = tmp_path / "pre.toml"
    pre.write_text('''name = "pre"
[data]
dataset = "synthetic:16:32"
batch_size = 8
val_split = ""
test_split = ""
[model]
name = "mae"
options = { patch_size = 8, embed_dim = 16, depth = 1, num_heads = 2, decoder_dim = 8, seed = 0 }
[training]
epochs = 1
learning_rate = 1e-3
metrics = []
monitor = "loss"
jit_compile = "auto"
verbose = 0
''')
    assert pretrain_cmd.main(_args(pre, tmp_path / "pre")) == 0
    encoder_path = tmp_path / "pre" / "encoder.keras"
    assert encoder_path.exists() and (tmp_path / "pre" / "token_encoder.keras").exists()
    fin = tmp_path / "fin.toml"
    fin.write_text(f'''name = "fin"
[data]
dataset = "synthetic:16:32"
batch_size = 8
test_split = ""
label_fraction = 0.5
[model]
name = "pretrained"
options = {{ encoder_path = "{encoder_path}", task = "classification", mode = "linear_probe" }}
[training]
epochs = 1
learning_rate = 1e-3
verbose = 0
''')
    capsys.readouterr()
    assert finetune_cmd.main(_args(fin, tmp_path / "fin")) == 0
    result = json.loads(capsys.readouterr().out)
    assert np.isfinite(result[0]["metrics"]["loss"])


def test_commands_reject_bad_configs(tmp_path, capsys):
    from lensml.cli import pretrain as pretrain_cmd

    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\nname = "moco"\n')
    assert pretrain_cmd.main(_args(bad, tmp_path / "x")) == 2
    assert "moco" in capsys.readouterr().err
    typo = tmp_path / "typo.toml"
    typo.write_text('[model]\nname = "mae"\nsize = 3\n')
    assert pretrain_cmd.main(_args(typo, tmp_path / "y")) == 2


def test_commands_dry_run_print_the_resolved_config_and_train_nothing(tmp_path, capsys):
    # lensml train / pretrain / finetune share one command shape (commands.train.run_command).
    import tomllib

    from lensml.cli import finetune as finetune_cmd
    from lensml.cli import pretrain as pretrain_cmd
    from lensml.cli import train as train_cmd

    configs = {"pretrain": (pretrain_cmd, '[data]\ndataset = "synthetic:8:16"\n[model]\nname = "simclr"\n'),
               "finetune": (finetune_cmd, '[data]\ndataset = "synthetic:8:16"\n[model]\nname = "pretrained"\n'),
               "train": (train_cmd, '[data]\ndataset = "synthetic:8:16"\n[model]\nname = "resnet18"\n')}
    for command, (module, text) in configs.items():
        path = tmp_path / f"{command}.toml"
        path.write_text(text)
        capsys.readouterr()
        args = _args(path, tmp_path / command, dry_run=True, overrides=["training.epochs=7"])
        assert module.main(args) == 0, command
        printed = tomllib.loads(capsys.readouterr().out)
        assert printed["training"]["epochs"] == 7 and printed["output"]["dir"] == str(tmp_path / command)
        assert not (tmp_path / command).exists()  # nothing trained, nothing written
    capsys.readouterr()
    assert pretrain_cmd.main(_args(tmp_path / "train.toml", tmp_path / "x", dry_run=True)) == 2
    assert "lensml pretrain: model.name='resnet18'" in capsys.readouterr().err


@pytest.mark.slow
def test_super_resolution_finetune_writes_psnr_ssim_beside_bicubic(tmp_path, capsys):
    # MAE tokens -> 16x16 -> 64x64 super-resolution on the tiny SR dataset, end to end through
    # `lensml finetune`: the test split is scored against bicubic upsampling by the runner's one
    # test evaluation (evaluation/metrics.json, test_* metrics in the result).
    from lensml.cli import finetune as finetune_cmd
    from lensml.cli import pretrain as pretrain_cmd

    data_dir = tmp_path / "tfds"
    pre = tmp_path / "pre.toml"
    pre.write_text('''name = "pre_sr"
[data]
dataset = "synthetic:8:64"
batch_size = 8
val_split = ""
test_split = ""
[model]
name = "mae"
options = { patch_size = 16, embed_dim = 16, depth = 1, num_heads = 2, decoder_dim = 8, seed = 0 }
[training]
epochs = 1
metrics = []
monitor = "loss"
verbose = 0
''')
    assert pretrain_cmd.main(_args(pre, tmp_path / "pre")) == 0
    fin = tmp_path / "fin.toml"
    fin.write_text(f'''name = "fin_sr"
[data]
dataset = "deeplense/model_ii_sr16_tiny"
data_dir = "{data_dir}"
batch_size = 12
target = "hr"
[model]
name = "pretrained"
options = {{ encoder_path = "{tmp_path / 'pre' / 'token_encoder.keras'}", task = "super_resolution", mode = "finetune", sr_filters = 8 }}
[training]
epochs = 1
loss = "mse"
metrics = ["mae"]
verbose = 0
''')
    capsys.readouterr()
    assert finetune_cmd.main(_args(fin, tmp_path / "fin")) == 0
    sr = json.loads((tmp_path / "fin" / "evaluation" / "metrics.json").read_text())
    assert sr["task"] == "super_resolution" and (tmp_path / "fin" / "evaluation" / "super_resolution.png").exists()
    assert sr["num_examples"] == 12  # the test split: 4 per class
    for key in ("psnr", "ssim", "bicubic_psnr", "bicubic_ssim"):
        assert np.isfinite(sr[key]), key
    # bicubic upsampling of the true 16x16 image is a fair reference: well above noise level
    assert sr["bicubic_psnr"] > 15 and 0 < sr["bicubic_ssim"] <= 1
    out = capsys.readouterr().out
    result = json.loads(out[out.index("[\n  {"):])
    assert result[0]["metrics"]["test_psnr"] == pytest.approx(sr["psnr"])


@pytest.mark.slow
def test_ema_schedule_spans_the_whole_run(tmp_path, capsys):
    # BYOL's total_steps comes from the data size, batch and epochs (also after --set), not a
    # number written in the config that may end the schedule early.
    from lensml.cli import pretrain as pretrain_cmd
    from lensml.protocols.quickstart import eager_is_faster
    from lensml.training.config import load_config
    from lensml.training.runner import training_steps

    pre = tmp_path / "byol.toml"
    pre.write_text('''name = "byol"
[data]
dataset = "synthetic:16:16"
batch_size = 4
val_split = ""
test_split = ""
[model]
name = "byol"
options = { encoder = "resnet18", encoder_options = { width = 4, stage_blocks = [1, 1, 1, 1] }, projection_dim = 4, hidden_dim = 8 }
[training]
epochs = 2
metrics = []
monitor = "loss"
verbose = 0
run_eagerly = EAGER
'''.replace("EAGER", str(eager_is_faster(12)).lower()))  # 12 steps: eager on TensorFlow, jitted on JAX
    assert training_steps(load_config(pre)) == 2 * 4  # 16 examples / batch 4 x 2 epochs
    args = _args(pre, tmp_path / "out", overrides=["training.epochs=3"])
    assert pretrain_cmd.main(args) == 0
    result = json.loads(capsys.readouterr().out)[0]
    import keras

    trainer = keras.saving.load_model(result["paths"]["model"])
    assert trainer.total_steps == 3 * 4 and float(np.asarray(trainer.step)) == 12


def test_pretrain_then_finetune_starts_from_this_seeds_encoder(tmp_path):
    """lensml.protocols.pretrain_then_finetune: the fine-tuning run of seed k loads the
    encoder that seed k's pretraining wrote (weights equal before any fine-tuning step), and a
    super-resolution row asks for a token encoder that an image-encoder trainer cannot give."""
    from pathlib import Path

    import keras

    from lensml.training import config_from_dict
    from lensml.protocols import pretrain_then_finetune
    from lensml.protocols.pretraining import finetune_from

    common = {"seeds": [3], "training": {"epochs": 1, "learning_rate": 1e-3, "verbose": 0}}
    pre = config_from_dict({**common, "name": "pre", "output": {"dir": str(tmp_path / "pre_{seed}")},
                            "data": {"dataset": "synthetic:16:32", "batch_size": 8, "val_split": "", "test_split": ""},
                            "model": {"name": "simclr", "options": {"encoder": "resnet18", "encoder_options": {
                                "width": 4, "stage_blocks": [1, 1, 1, 1]}}},
                            "training": {**common["training"], "metrics": [], "monitor": "loss"}})
    fin = config_from_dict({**common, "name": "fin", "output": {"dir": str(tmp_path / "fin_{seed}")},
                            "data": {"dataset": "synthetic:16:32", "batch_size": 8, "test_split": ""},
                            "model": {"name": "pretrained", "options": {"encoder_path": "unused", "mode": "linear_probe"}}})
    result = pretrain_then_finetune(pre, fin, seed=3)
    encoder_path = Path(result["pretrain"]["paths"]["encoder"])
    assert encoder_path == tmp_path / "pre_3" / "encoder.keras"
    encoder = keras.saving.load_model(encoder_path)
    tuned = keras.saving.load_model(result["paths"]["model"])
    # a linear probe leaves the encoder as pretrained: its first convolution equals the saved one
    first = next(layer for layer in encoder.layers if layer.weights and "conv" in layer.name)
    np.testing.assert_array_equal(tuned.get_layer(encoder.name).get_layer(first.name).get_weights()[0],
                                  first.get_weights()[0])
    sr = config_from_dict({**common, "name": "sr", "data": {"dataset": "synthetic:16:32", "target": "label"},
                           "model": {"name": "pretrained", "options": {"encoder_path": "x", "task": "super_resolution"}}})
    with pytest.raises(ValueError, match="token encoder"):
        finetune_from({"paths": {"encoder": str(encoder_path)}}, sr, seed=3)


@pytest.mark.slow
def test_ssl_label_efficiency_protocol_from_the_library(tmp_path):
    """lensml.protocols.run_ssl_label_efficiency (what benchmarks/bench_ssl.py label-efficiency
    wraps): one pretraining per seed, then at each fraction the pretrained encoder and the same
    architecture freshly initialised, fine-tuned under one config on one stratified subset and
    tested by the one test evaluation."""
    import keras

    from lensml.training import config_from_dict
    from lensml.protocols import run_ssl_label_efficiency

    common = {"seeds": [1], "training": {"epochs": 1, "learning_rate": 1e-3, "verbose": 0}}
    pre = config_from_dict({**common, "name": "pre",
                            "data": {"dataset": "synthetic:24:32", "batch_size": 8, "val_split": "", "test_split": ""},
                            "model": {"name": "simclr", "options": {"encoder": "ssl_vit", "encoder_options": {
                                "patch_size": 8, "dim": 16, "depth": 1, "num_heads": 2}}},
                            "training": {**common["training"], "metrics": [], "monitor": "loss"}})
    fin = config_from_dict({**common, "name": "fin", "output": {"dir": str(tmp_path / "le")},
                            "data": {"dataset": "synthetic:24:32", "batch_size": 8},
                            "model": {"name": "pretrained", "options": {"encoder_path": "replaced", "mode": "finetune"}},
                            "training": {**common["training"], "metrics": ["accuracy"]}})
    result = run_ssl_label_efficiency(pre, fin, [0.5])
    assert sorted((r["series"], r["fraction"], r["seed"]) for r in result["records"]) == [("scratch", 0.5, 1), ("ssl", 0.5, 1)]
    assert set(result["summary"]) == {"ssl", "scratch"} and result["summary"]["ssl"][0.5]["n"] == 1
    for r in result["records"]:
        assert 0 <= r["metrics"]["test_accuracy"] <= 1 and "test_macro_auc" in r["metrics"]
    root = tmp_path / "le"
    assert (root / "ssl_label_efficiency" / "summary.md").exists()
    assert (root / "runs" / "ssl_f0.5" / "seed_1" / "evaluation" / "metrics.json").exists()
    # the baseline is the pretrained architecture, freshly initialised: same layers, other weights
    pretrained = keras.saving.load_model(root / "pretrain" / "seed_1" / "encoder.keras")
    fresh = keras.saving.load_model(root / "pretrain" / "seed_1" / "fresh_encoder.keras")
    assert [w.shape for w in fresh.weights] == [w.shape for w in pretrained.weights]
    values = lambda m: [keras.ops.convert_to_numpy(w) for w in m.weights]  # noqa: E731
    assert not all(np.allclose(a, b) for a, b in zip(values(fresh), values(pretrained)))
    from lensml.training import apply_overrides

    with pytest.raises(ValueError, match="model.name"):
        run_ssl_label_efficiency(pre, apply_overrides(fin, {"model.name": "resnet18"}), [0.5])


def test_mae_with_a_class_token_classifies_from_it_with_a_linear_head(tmp_path):
    """The MAE paper's head: "a linear head on the CLS token". The class token is trained by the
    pretraining, the saved encoder returns its output, the decoder and the SR path see patch
    tokens only, and the scratch ViT baseline has the same token and head."""
    images = np.random.default_rng(0).random((8, 32, 32, 1)).astype("float32")
    mae = ssl.MAE(image_shape=(32, 32, 1), patch_size=8, embed_dim=16, depth=1, num_heads=2,
                  decoder_dim=8, cls_token=True, seed=0)
    before = ops.convert_to_numpy(mae.class_token.token)
    mae.compile(keras.optimizers.Adam(1e-2))
    mae.fit(images, batch_size=4, epochs=1, verbose=0)
    assert not np.allclose(ops.convert_to_numpy(mae.class_token.token), before)  # pretrained too
    encoder = factory.pretrained_encoder(mae)
    assert encoder.get_layer("pool").__class__.__name__ == "TakeToken"
    np.testing.assert_allclose(ops.convert_to_numpy(encoder(images)), ops.convert_to_numpy(mae(images)), atol=1e-5)
    assert factory.pretrained_encoder(mae, pool=None)(images).shape == (8, 16, 16)  # patch tokens only
    path = tmp_path / "encoder.keras"
    encoder.save(path)
    classifier = finetune.build_classifier(keras.saving.load_model(path, safe_mode=True), 3, mode="finetune")
    dense = [layer for layer in classifier.layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == 1 and dense[0].units == 3  # one linear layer on the class token
    scratch = factory.build_image_encoder("ssl_vit", (32, 32, 1), patch_size=8, dim=16, depth=1, num_heads=2,
                                          cls_token=True)
    assert scratch.get_layer("pool").__class__.__name__ == "TakeToken" and scratch(images).shape == (8, 16)
    with pytest.raises(ValueError, match="pool='cls' needs a class token"):
        ssl.MAE(image_shape=(32, 32, 1), patch_size=8, embed_dim=16, depth=1, num_heads=2).image_encoder(pool="cls")
