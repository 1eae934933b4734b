"""The projection and prediction heads of the SSL methods, one named head per method and role
(as lightly names them), each built as its paper describes, at widths set by the trainer.

| head | the paper's words | lensml |
|---|---|---|
| SimCLR projection | "a MLP with one hidden layer ... where sigma is a ReLU non-linearity" (Chen et al. 2020, sec. 2.1) | with BN in the hidden layer (SimCLR v2, lightly) |
| BYOL projection and prediction | "a multi-layer perceptron (MLP) with a hidden layer ... followed by batch normalization, rectified linear units (ReLU), and a final linear layer"; the predictor "uses the same architecture" (Grill et al. 2020, sec. 3.3) | as written |
| SimSiam projection | "BN applied to each fully-connected (fc) layer, including its output fc ... This MLP has 3 layers" (Chen & He 2021, sec. 4) | no BN on the output fc |
| SimSiam prediction | "BN applied to its hidden fc layers. Its output fc does not have BN or ReLU. This MLP has 2 layers" (a bottleneck) | as written |
| DINO projection | "a 3-layer multi-layer perceptron (MLP) ... followed by l2 normalization and a weight normalized fully connected layer with K dimensions" (Caron et al. 2021, sec. 3.1) | GELU, as the paper's code |

Each head maps ``(B, input_dim)`` features to ``(B, output_dim)``; the layer names are those the
trainers have always used, so saved trainers load unchanged.

Example:

```python
import keras
from lensml.ssl.heads import byol_prediction_head, byol_projection_head

projector = byol_projection_head(512, hidden_dim=1024, output_dim=128)
predictor = byol_prediction_head(128, hidden_dim=1024, output_dim=128)
z = predictor(projector(keras.random.normal((8, 512))))  # (8, 128)
```
"""

from __future__ import annotations

import keras
from keras import ops

_PKG = "lensml"


def mlp_head(input_dim, hidden_dim, output_dim, num_layers=2, batch_norm=True, name="head"):
    """Projection / prediction MLP: (B, input_dim) -> (B, output_dim).

    num_layers - 1 hidden layers of `hidden_dim` with (BatchNorm +) ReLU, then a linear layer.
    """
    if num_layers < 1:
        raise ValueError(f"num_layers={num_layers!r}: expected >= 1")
    layers = [keras.Input(shape=(input_dim,))]
    for i in range(num_layers - 1):
        layers.append(keras.layers.Dense(hidden_dim, use_bias=not batch_norm, name=f"{name}_dense{i}"))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"{name}_bn{i}"))
        layers.append(keras.layers.ReLU(name=f"{name}_relu{i}"))
    layers.append(keras.layers.Dense(output_dim, name=f"{name}_out"))
    return keras.Sequential(layers, name=name)


def simclr_projection_head(input_dim, hidden_dim=512, output_dim=128, name="projector"):
    """SimCLR's projection g: one hidden layer (BN + ReLU), then linear. (B, input_dim) -> (B, output_dim)."""
    return mlp_head(input_dim, hidden_dim, output_dim, name=name)


def byol_projection_head(input_dim, hidden_dim=512, output_dim=128, name="projector"):
    """BYOL's projection g: one hidden layer of ``hidden_dim`` (BN + ReLU), then linear to ``output_dim``."""
    return mlp_head(input_dim, hidden_dim, output_dim, name=name)


def byol_prediction_head(input_dim=128, hidden_dim=512, output_dim=128, name="predictor"):
    """BYOL's predictor q: the projection's architecture, on the projection's output."""
    return mlp_head(input_dim, hidden_dim, output_dim, name=name)


def simsiam_projection_head(input_dim, hidden_dim=128, output_dim=128, name="projector"):
    """SimSiam's projection MLP: three layers, two hidden (BN + ReLU) of ``hidden_dim``, then linear."""
    return mlp_head(input_dim, hidden_dim, output_dim, num_layers=3, name=name)


def simsiam_prediction_head(input_dim=128, hidden_dim=32, output_dim=128, name="predictor"):
    """SimSiam's predictor h: a bottleneck of two layers (``hidden_dim`` < ``input_dim``, BN + ReLU), then linear."""
    return mlp_head(input_dim, hidden_dim, output_dim, name=name)


@keras.saving.register_keras_serializable(package=_PKG)
class WeightNormDense(keras.layers.Layer):
    """DINO's last layer: a linear map (no bias) whose kernel columns have unit L2 norm.

    Weight normalisation with the norm fixed to 1 (DINO's ``norm_last_layer=True``): with a
    unit-norm input, each logit is a cosine in [-1, 1], so the temperatures alone set the
    sharpness and the head cannot escape them by growing its weights.
    (B, D) -> (B, units).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        self.direction = self.add_weight(shape=(input_shape[-1], self.units),
                                         initializer="glorot_uniform", name="direction")

    def call(self, x):
        return ops.matmul(x, self.direction / ops.norm(self.direction, axis=0, keepdims=True))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def dino_projection_head(input_dim, output_dim, hidden_dim=256, bottleneck_dim=64, name="dino_head"):
    """DINO's projection head: 3-layer GELU MLP (the last a linear ``bottleneck_dim``) -> L2 normalise
    -> weight-normalised linear map to ``output_dim`` (:class:`WeightNormDense`): (B, input_dim) ->
    (B, output_dim) logits."""
    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(hidden_dim, activation="gelu", name=f"{name}_dense0"),
        keras.layers.Dense(hidden_dim, activation="gelu", name=f"{name}_dense1"),
        keras.layers.Dense(bottleneck_dim, name=f"{name}_bottleneck"),
        keras.layers.UnitNormalization(name=f"{name}_l2"),
        WeightNormDense(output_dim, name=f"{name}_last"),
    ], name=name)
