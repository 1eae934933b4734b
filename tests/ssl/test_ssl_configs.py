"""Every config in train/ssl loads, names a known method / task, and keeps its row's notes."""

from pathlib import Path

import pytest

from lensml.training.config import load_config
from lensml.ssl.factory import METHODS, TASKS

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "train" / "ssl").glob("*.toml"))


def test_there_is_a_config_per_table_row():
    names = {p.stem for p in CONFIGS}
    for method in ("simclr_rotation_resnet50", "simclr_noise_vit", "byol_resnet50",
                   "simsiam_resnet50", "dino_resnet50"):
        for family in ("model_ii", "model_iii"):
            assert f"pretrain_{method}_{family}" in names
            assert f"finetune_{method}_{family}" in names
    assert {"pretrain_mae_vit_mask90_model_ii", "finetune_mae_vit_mask90_sr16_model_ii",
            "pretrain_lens_jepa_model_a", "finetune_lens_jepa_model_b_3k",
            "pretrain_ijepa_model_a", "finetune_ijepa_model_b_3k"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_loads(path):
    config = load_config(path)
    assert path.read_text().startswith("#")  # says which paper row it reproduces
    if path.stem.startswith("pretrain_"):
        assert config.model.name in METHODS
        assert config.training.metrics == [] and config.data.test_split == ""
    else:
        assert config.model.options.get("task", "classification") in TASKS
        if config.model.name == "pretrained":
            assert config.model.options["encoder_path"].endswith(".keras")
