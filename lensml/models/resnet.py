"""ResNet-18 and ResNet-50 (v1.5: stride in the 3x3 conv, as torchvision), single channel.

Written here rather than taken from keras.applications so that width and depth are options
(tests build tiny variants) and both depths share one code path. With 1 input channel and
3 classes ResNet-18 has 11.17M parameters, as the DeepLense papers report.
"""

from __future__ import annotations

from keras import layers

from lensml.models import widths
from lensml.models.registry import register


def _bn(x, name):
    return layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=name)(x)


def _projection(x, filters, strides, name):
    # The 1x1 projection shortcut. A strided 1x1 convolution is the 1x1 convolution of every
    # strides-th pixel; it is written as that subsample (a 1x1 max pool) and a stride-1
    # convolution because TensorFlow's oneDNN kernel for the filter gradient of a strided 1x1
    # convolution corrupts memory for odd batch sizes on AVX-512 CPUs (TF 2.21: a ragged last
    # batch of 15 crashed training). The same values and weights.
    if strides != 1:
        x = layers.MaxPooling2D(1, strides=strides, name=f"{name}_down_subsample")(x)
    return _bn(layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_down")(x), f"{name}_down_bn")


def _basic_block(x, filters, strides, name):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.ReLU(name=f"{name}_relu1")(_bn(y, f"{name}_bn1"))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = _bn(y, f"{name}_bn2")
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _projection(x, filters, strides, name)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def _bottleneck_block(x, filters, strides, name):
    shortcut = x
    y = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv1")(x)
    y = layers.ReLU(name=f"{name}_relu1")(_bn(y, f"{name}_bn1"))
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.ReLU(name=f"{name}_relu2")(_bn(y, f"{name}_bn2"))
    y = layers.Conv2D(4 * filters, 1, use_bias=False, name=f"{name}_conv3")(y)
    y = _bn(y, f"{name}_bn3")
    if strides != 1 or x.shape[-1] != 4 * filters:
        shortcut = _projection(x, 4 * filters, strides, name)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def resnet_features(inputs, *, block: str = "basic", stage_blocks=(2, 2, 2, 2), width: int = 64,
                    stem: str = "imagenet"):
    """ResNet backbone -> global-average-pooled features.

    Args:
      inputs: images ``(batch, H, W, 1)``.
      block: "basic" (ResNet-18/34) or "bottleneck" (ResNet-50+).
      stage_blocks: blocks per stage; stage ``i`` has ``width * 2**i`` filters.
      width: filters of the first stage.
      stem: "imagenet" (7x7 stride-2 conv + 3x3 stride-2 max-pool) or "small"
        (one 3x3 conv, no downsampling: more resolution for small images).

    Returns:
      features ``(batch, width * 2**(stages-1) * (4 if bottleneck else 1))``.
    """
    if block not in ("basic", "bottleneck"):
        raise ValueError(f"block={block!r}: expected 'basic' or 'bottleneck'")
    if stem not in ("imagenet", "small"):
        raise ValueError(f"stem={stem!r}: expected 'imagenet' or 'small'")
    make = _basic_block if block == "basic" else _bottleneck_block
    if stem == "imagenet":
        x = layers.Conv2D(width, 7, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
        x = layers.ReLU(name="stem_relu")(_bn(x, "stem_bn"))
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    else:
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
        x = layers.ReLU(name="stem_relu")(_bn(x, "stem_bn"))
    for stage, blocks in enumerate(stage_blocks):
        for b in range(int(blocks)):
            strides = 2 if (stage > 0 and b == 0) else 1
            x = make(x, width * 2 ** stage, strides, f"stage{stage + 1}_block{b + 1}")
    return layers.GlobalAveragePooling2D(name="avg_pool")(x)


@register("resnet18", tiny={"width": 4, "stage_blocks": (1, 1, 1, 1)}, width=widths.resnet, cpu_scale={"options": {"width": 24}, "epochs": 8, "steps_per_epoch": 200}, description="ResNet-18 (basic blocks 2-2-2-2), 11.17M parameters at 3 classes")
def resnet18(inputs, *, stage_blocks=(2, 2, 2, 2), width: int = 64, stem: str = "imagenet"):
    """ResNet-18 features (512-d at the default width).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("resnet18", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("resnet18", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("resnet18")["cpu"])  # the laptop size
    # the axion mass (regression), the output rescaled to the prior's range in dex
    regressor = lensml.models.build("resnet18", input_shape=(64, 64, 1), task="regression",
                                    target_range=(-24.0, -22.0))
    ```
    """
    return resnet_features(inputs, block="basic", stage_blocks=stage_blocks, width=width, stem=stem)


@register("resnet50", tiny={"width": 4, "stage_blocks": (1, 1, 1, 1)}, width=widths.resnet, cpu_scale={"options": {"width": 16}}, description="ResNet-50 v1.5 (bottleneck blocks 3-4-6-3)")
def resnet50(inputs, *, stage_blocks=(3, 4, 6, 3), width: int = 64, stem: str = "imagenet"):
    """ResNet-50 features (2048-d at the default width).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("resnet50", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("resnet50", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("resnet50")["cpu"])  # the laptop size
    encoder = lensml.models.build_encoder("resnet50", (64, 64, 1))  # images -> features, for SSL
    ```
    """
    return resnet_features(inputs, block="bottleneck", stage_blocks=stage_blocks, width=width, stem=stem)
