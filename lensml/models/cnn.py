"""CNN backbones from ``keras.applications``, single channel, from scratch (``weights=None``,
nothing downloads): EfficientNetB0, EfficientNetV2-S, MobileNetV3 small/large.

The applications' ImageNet input scaling is switched off (``include_preprocessing=False``;
EfficientNetB0 has no such switch, so its fixed ``Rescaling(1/255)`` is set to 1): lensml
images arrive normalised already, and a 1/255 scale would leave the stem's batch-norm
dominated by its epsilon.

``width_coefficient`` / ``depth_coefficient`` options (EfficientNets) scale the network
through keras' generic ``EfficientNet``/``EfficientNetV2`` builders (``keras.src``, the
functions the public constructors call); the defaults use the public constructors.

Batch-norm momentum: keras' MobileNetV3 uses 0.999 and EfficientNetB0 0.99, made for
ImageNet-length runs. After a few hundred steps a moving average at 0.999 has moved ~10 %
of the way from its initial (0, 1) to the data's statistics, so the model in inference mode
sees other activations than in training: LensPINN small (MobileNetV3 decoders) reached
train accuracy 0.96 while its validation output was uniform (loss ln 3). Every backbone here
uses ``bn_momentum=0.9`` by default, as lensml's ResNets and keras' EfficientNetV2.
"""

from __future__ import annotations

import keras

from lensml.models import widths
from lensml.models.registry import TINY_EFFICIENTNET, TINY_MOBILENET, register


#: Batch-norm momentum of every CNN backbone (see the module docstring).
BN_MOMENTUM = 0.9


def set_batch_norm_momentum(model: keras.Model, momentum: float = BN_MOMENTUM) -> keras.Model:
    """Set the moving-average momentum of every ``BatchNormalization`` layer of ``model``
    (nested models included) to ``momentum`` in [0, 1); saved with the model's config."""
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0.0 <= momentum < 1.0:
        raise ValueError(f"bn_momentum must be a number in [0, 1), got {momentum!r}")
    from lensml.layers.walk import iter_layers

    for layer in iter_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = float(momentum)
    return model


def _disable_rescaling(model: keras.Model) -> keras.Model:
    for layer in model.layers:
        if isinstance(layer, keras.layers.Rescaling):
            layer.scale = 1.0
            layer.offset = 0.0
    return model


def efficientnet_b0_backbone(input_shape, *, width_coefficient: float = 1.0,
                             depth_coefficient: float = 1.0, name: str = "efficientnetb0",
                             pooling: str = "avg", bn_momentum: float = BN_MOMENTUM) -> keras.Model:
    """EfficientNetB0 without top: images ``(B, H, W, C)`` -> ``(B, 1280 * width)`` features."""
    if width_coefficient == 1.0 and depth_coefficient == 1.0:
        model = keras.applications.EfficientNetB0(
            include_top=False, weights=None, input_shape=tuple(input_shape), pooling=pooling, name=name)
    else:
        from keras.src.applications.efficientnet import EfficientNet

        model = EfficientNet(width_coefficient, depth_coefficient, 224, include_top=False,
                             weights=None, input_shape=tuple(input_shape), pooling=pooling, name=name)
    return set_batch_norm_momentum(_disable_rescaling(model), bn_momentum)


def efficientnetv2_s_backbone(input_shape, *, width_coefficient: float = 1.0,
                              depth_coefficient: float = 1.0, name: str = "efficientnetv2-s",
                              pooling: str = "avg", bn_momentum: float = BN_MOMENTUM) -> keras.Model:
    """EfficientNetV2-S without top: images ``(B, H, W, C)`` -> ``(B, 1280)`` features."""
    # keras looks the block table up by the model name, so build under the canonical name
    # and rename afterwards.
    if width_coefficient == 1.0 and depth_coefficient == 1.0:
        model = keras.applications.EfficientNetV2S(
            include_top=False, weights=None, input_shape=tuple(input_shape), pooling=pooling,
            include_preprocessing=False)
    else:
        from keras.src.applications.efficientnet_v2 import EfficientNetV2

        model = EfficientNetV2(width_coefficient, depth_coefficient, 384, name="efficientnetv2-s",
                               include_top=False, weights=None, input_shape=tuple(input_shape),
                               pooling=pooling, include_preprocessing=False)
    model.name = name
    return set_batch_norm_momentum(model, bn_momentum)


def mobilenet_v3_backbone(input_shape, *, size: str = "small", alpha: float = 1.0,
                          minimalistic: bool = False, name: str | None = None,
                          pooling: str = "avg", bn_momentum: float = BN_MOMENTUM) -> keras.Model:
    """MobileNetV3 small/large without top: ``(B, H, W, C)`` -> ``(B, 576 | 960)`` (at alpha 1).

    Images must be at least 32x32 pixels.
    """
    fn = {"small": keras.applications.MobileNetV3Small,
          "large": keras.applications.MobileNetV3Large}.get(size)
    if fn is None:
        raise ValueError(f"size={size!r}: expected 'small' or 'large'")
    model = fn(input_shape=tuple(input_shape), alpha=alpha, minimalistic=minimalistic,
               include_top=False, weights=None, pooling=pooling, include_preprocessing=False,
               name=name or f"mobilenetv3{size}")
    return set_batch_norm_momentum(model, bn_momentum)


@register("efficientnet_b0", tiny=TINY_EFFICIENTNET, width=widths.efficientnet, cpu_scale={"options": {"width_coefficient": 0.5, "depth_coefficient": 0.5}}, description="EfficientNetB0 (keras.applications, from scratch)")
def efficientnet_b0(inputs, *, width_coefficient: float = 1.0, depth_coefficient: float = 1.0,
                    bn_momentum: float = BN_MOMENTUM):
    """EfficientNetB0 features ``(batch, 1280)``.

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("efficientnet_b0", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("efficientnet_b0", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("efficientnet_b0")["cpu"])  # the laptop size
    ```
    """
    return efficientnet_b0_backbone(inputs.shape[1:], width_coefficient=width_coefficient,
                                    depth_coefficient=depth_coefficient, bn_momentum=bn_momentum)(inputs)


@register("efficientnetv2_s", tiny=TINY_EFFICIENTNET, width=widths.efficientnet, cpu_scale={"options": {"width_coefficient": 0.5, "depth_coefficient": 0.34}}, description="EfficientNetV2-S (keras.applications, from scratch)")
def efficientnetv2_s(inputs, *, width_coefficient: float = 1.0, depth_coefficient: float = 1.0,
                     bn_momentum: float = BN_MOMENTUM):
    """EfficientNetV2-S features ``(batch, 1280)``.

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("efficientnetv2_s", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("efficientnetv2_s", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("efficientnetv2_s")["cpu"])  # the laptop size
    ```
    """
    return efficientnetv2_s_backbone(inputs.shape[1:], width_coefficient=width_coefficient,
                                     depth_coefficient=depth_coefficient, bn_momentum=bn_momentum)(inputs)


@register("mobilenetv3_small", tiny=TINY_MOBILENET, width=widths.mobilenet, description="MobileNetV3-Small (keras.applications, from scratch)")
def mobilenetv3_small(inputs, *, alpha: float = 1.0, minimalistic: bool = False,
                      bn_momentum: float = BN_MOMENTUM):
    """MobileNetV3-Small features ``(batch, 576)`` at alpha 1.

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("mobilenetv3_small", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("mobilenetv3_small", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("mobilenetv3_small")["cpu"])  # the laptop size
    ```
    """
    return mobilenet_v3_backbone(inputs.shape[1:], size="small", alpha=alpha,
                                 minimalistic=minimalistic, bn_momentum=bn_momentum)(inputs)


@register("mobilenetv3_large", tiny=TINY_MOBILENET, width=widths.mobilenet, description="MobileNetV3-Large (keras.applications, from scratch)")
def mobilenetv3_large(inputs, *, alpha: float = 1.0, minimalistic: bool = False,
                      bn_momentum: float = BN_MOMENTUM):
    """MobileNetV3-Large features ``(batch, 960)`` at alpha 1.

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("mobilenetv3_large", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("mobilenetv3_large", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("mobilenetv3_large")["cpu"])  # the laptop size
    ```
    """
    return mobilenet_v3_backbone(inputs.shape[1:], size="large", alpha=alpha,
                                 minimalistic=minimalistic, bn_momentum=bn_momentum)(inputs)
