"""D4-equivariant U-Net (D4LensPINN's convergence estimator), and the
plain U-Net of the same topology (the paper's VanillaLensPINN baseline).

Lifting conv -> D4 residual blocks with 2x2 max-pooling between levels -> bottleneck ->
nearest-neighbour upsampling with skip connections -> group pooling -> 1x1 conv ->
softplus. The output map is non-negative and D4-*invariant* as a field: transforming the
input by any of the 8 elements transforms the output map the same way (no channel mixing).

Exact equivariance needs symmetric sampling: inputs are zero-padded equally on both sides
to a multiple of ``2 ** levels`` (so even image sizes only: 64 stays 64, 150 -> 152) and
cropped back at the end.
"""

from __future__ import annotations

from keras import layers

from lensml.layers import D4BatchNormalization, D4GroupConv2D, D4GroupPooling, D4LiftingConv2D
from lensml.models.common import CenterCrop2D, SymmetricPad2D


def _d4_res_block(x, fields, name):
    shortcut = x
    y = D4GroupConv2D(fields, 3, use_bias=False, name=f"{name}_conv1")(x)
    y = layers.ReLU(name=f"{name}_relu1")(D4BatchNormalization(name=f"{name}_bn1")(y))
    y = D4GroupConv2D(fields, 3, use_bias=False, name=f"{name}_conv2")(y)
    y = D4BatchNormalization(name=f"{name}_bn2")(y)
    if x.shape[-1] != fields * 8:
        shortcut = D4GroupConv2D(fields, 1, use_bias=False, name=f"{name}_proj")(x)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def _plain_res_block(x, channels, name):
    shortcut = x
    y = layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.ReLU(name=f"{name}_relu1")(layers.BatchNormalization(name=f"{name}_bn1")(y))
    y = layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if x.shape[-1] != channels:
        shortcut = layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_proj")(x)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def unet(inputs, fields=(8, 16, 32, 48), stem_kernel: int = 7, name: str = "d4unet", equivariant: bool = True):
    """The convergence U-Net: D4-equivariant (``equivariant``, ``d4_unet``) or plain.

    The plain U-Net has the same levels, skips, pooling and output, with ordinary
    convolutions of ``8 * fields`` channels (the width of a regular D4 field), so its
    feature maps are as wide as the D4 one's; its output is not D4-invariant.
    """
    if equivariant:
        return d4_unet(inputs, fields, stem_kernel, name)
    levels = len(fields) - 1
    h, w = inputs.shape[1], inputs.shape[2]
    pad = SymmetricPad2D(2 ** levels, name=f"{name}_pad")
    x = layers.Conv2D(8 * fields[0], stem_kernel, padding="same", use_bias=False, name=f"{name}_stem")(pad(inputs))
    x = layers.ReLU(name=f"{name}_stem_relu")(layers.BatchNormalization(name=f"{name}_stem_bn")(x))
    skips = []
    for level in range(levels):
        x = _plain_res_block(x, 8 * fields[level], f"{name}_enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"{name}_pool{level}")(x)
    x = _plain_res_block(x, 8 * fields[-1], f"{name}_bottleneck")
    for level in reversed(range(levels)):
        x = layers.UpSampling2D(2, name=f"{name}_up{level}")(x)
        x = layers.Concatenate(name=f"{name}_skip{level}")([x, skips[level]])
        x = _plain_res_block(x, 8 * fields[level], f"{name}_dec{level}")
    x = layers.Conv2D(1, 1, activation="softplus", name=f"{name}_output_conv", dtype="float32")(x)
    return CenterCrop2D(pad.padding(h), pad.padding(w), name=f"{name}_output")(x)


def d4_unet(inputs, fields=(8, 16, 32, 48), stem_kernel: int = 7, name: str = "d4unet"):
    """D4 U-Net on an image tensor.

    Args:
      inputs: ``(batch, H, W, C)`` plain (D4-scalar) channels; H and W even.
      fields: D4 fields per level; the last is the bottleneck (len(fields) - 1 poolings).
      stem_kernel: odd kernel size of the lifting convolution.

    Returns:
      ``(batch, H, W, 1)`` non-negative map (softplus), layer name ``f"{name}_output"``.
    """
    levels = len(fields) - 1
    h, w = inputs.shape[1], inputs.shape[2]
    pad = SymmetricPad2D(2 ** levels, name=f"{name}_pad")
    x = pad(inputs)
    x = D4LiftingConv2D(fields[0], stem_kernel, use_bias=False, name=f"{name}_lift")(x)
    x = layers.ReLU(name=f"{name}_lift_relu")(D4BatchNormalization(name=f"{name}_lift_bn")(x))
    skips = []
    for level in range(levels):
        x = _d4_res_block(x, fields[level], f"{name}_enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"{name}_pool{level}")(x)
    x = _d4_res_block(x, fields[-1], f"{name}_bottleneck")
    for level in reversed(range(levels)):
        x = layers.UpSampling2D(2, name=f"{name}_up{level}")(x)
        x = layers.Concatenate(name=f"{name}_skip{level}")([x, skips[level]])
        x = _d4_res_block(x, fields[level], f"{name}_dec{level}")
    x = D4GroupPooling("max", name=f"{name}_group_pool")(x)
    x = layers.Conv2D(1, 1, activation="softplus", name=f"{name}_output_conv", dtype="float32")(x)
    return CenterCrop2D(pad.padding(h), pad.padding(w), name=f"{name}_output")(x)
