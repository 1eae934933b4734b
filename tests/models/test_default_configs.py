"""The real default configuration of every registered model builds at 64x64 (its layers and
shapes, no weights drawn: the other tests train tiny variants), with parameter counts near the
papers'."""

import pytest

import lensml.models as M
from lensml.models.budget import build_without_weights

# Millions of parameters at 64x64x1, 3 classes, as the papers report.
PAPER = {"resnet18": 11.17, "lenspinn_small": 7.17, "lenspinn_large": 14.56, "lensformer": 15.7,
         "d4lenspinn": 20.65}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(M.available()))
def test_default_config_builds(name):
    # shapes and counts only: no weights drawn (JAX compiles every initialiser: ~20 s a large model)
    model = build_without_weights(lambda: M.build(name, input_shape=(64, 64, 1), num_classes=3))
    assert model.output_shape == (None, 3)
    params = model.count_params() / 1e6
    if name in PAPER:
        assert params == pytest.approx(PAPER[name], rel=0.05), params
