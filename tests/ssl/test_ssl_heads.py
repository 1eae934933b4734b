"""The named SSL heads: each is the architecture its paper describes (lensml.ssl.heads)."""

import keras
import numpy as np

from lensml.ssl import heads


def _kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def test_each_head_has_its_paper_s_layers_and_shapes():
    x = np.random.default_rng(0).normal(size=(4, 24)).astype("float32")
    simclr = heads.simclr_projection_head(24, 32, 8)
    assert _kinds(simclr) == ["Dense", "BatchNormalization", "ReLU", "Dense"]  # one hidden layer
    simsiam = heads.simsiam_projection_head(24, 16, 16)
    assert _kinds(simsiam).count("Dense") == 3 and _kinds(simsiam).count("BatchNormalization") == 2
    bottleneck = heads.simsiam_prediction_head(16, 4, 16)
    assert bottleneck.layers[0].units == 4 < 16 and _kinds(bottleneck)[-1] == "Dense"
    byol_g, byol_q = heads.byol_projection_head(24, 32, 8), heads.byol_prediction_head(8, 32, 8)
    assert _kinds(byol_g) == _kinds(byol_q)  # "the same architecture"
    dino = heads.dino_projection_head(24, 10, hidden_dim=16, bottleneck_dim=6)
    assert _kinds(dino) == ["Dense", "Dense", "Dense", "UnitNormalization", "WeightNormDense"]
    for head, out in [(simclr, 8), (simsiam, 16), (byol_q, 8), (dino, 10)]:
        y = keras.ops.convert_to_numpy(head(x[:, : head.input_shape[-1]] if head is not byol_q else x[:, :8]))
        assert y.shape == (4, out)
    # DINO's logits are cosines: a unit-norm input through unit-norm kernel columns
    assert np.abs(keras.ops.convert_to_numpy(dino(x))).max() <= 1.0 + 1e-5


def test_trainers_keep_their_head_layer_names():
    # saved trainers load unchanged: the heads keep the names the trainers always gave them
    simsiam = heads.simsiam_projection_head(24, 16, 16)
    assert [layer.name for layer in simsiam.layers] == [
        "projector_dense0", "projector_bn0", "projector_relu0", "projector_dense1", "projector_bn1",
        "projector_relu1", "projector_out"]
    assert heads.dino_projection_head(8, 4).name == "dino_head"
