"""Every registered model: builds at 64x64 and 150x150, trains two steps, round-trips .keras."""

import pytest
import keras

import lensml.models as M
from lensml.testing import run_model_test
from tests.models._configs import TINY

#: Every registered model is tested here: a new model needs no test line (its ``tiny`` size,
#: registered beside it, keeps the test fast).
NAMES = M.available()
#: The models of the papers (a registry that lost one fails here).
PAPER_MODELS = [
    "resnet18", "resnet50", "vit", "vitsd", "cait", "cvt", "efficientnet_b0", "efficientnetv2_s",
    "mobilenetv3_small", "mobilenetv3_large", "lensformer", "lenspinn_small", "lenspinn_large",
    "d4lenspinn", "vanilla_lenspinn",
]


def test_registry_names():
    assert set(PAPER_MODELS) <= set(NAMES)
    assert set(TINY) == set(NAMES)
    assert all(M.describe(n) for n in NAMES)


# Models whose TensorFlow graph takes long to trace (keras.applications backbones, many
# layers): 20-90 s per fit on 2 cores, against ~3 s eagerly. On TensorFlow they train eagerly
# here (the same layers and maths; a compiled D4LensPINN with its EfficientNetV2 trains in
# test_physics_models); JAX always compiles (its eager mode compiles every primitive on its
# own and is slower still).
HEAVY = {"efficientnet_b0", "efficientnetv2_s", "mobilenetv3_small", "mobilenetv3_large",
         "lenspinn_small", "lenspinn_large", "d4lenspinn", "vanilla_lenspinn", "cvt", "resnet50"}


# Scheduled first (``slow``): the heavy ones and Lensformer (27 s on JAX).
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY | {"lensformer"} else n for n in NAMES])
def test_build_fit_save(name, tmp_path):
    # the harness a new model's own test calls (lensml.testing): build at 64x64 and 150x150,
    # two training steps, .keras round trip with safe_mode
    run_model_test(name, tmp_path=tmp_path, eager=name in HEAVY and keras.backend.backend() == "tensorflow")
