"""D4LensPINN, with its physics made exact.

1. ``PhysicsPreprocessing`` (|tanh(d/dx d/dy (log(I_max/I))^2)|, D4-invariant) by default; the
   paper's signed Sobel product (``preprocessing="sobel_product"``) flips sign under
   reflections and quarter turns, which is why its D4 test-time augmentation lowered accuracy.
2. D4-equivariant U-Net on [image, preprocessed] -> softplus convergence kappa >= 0,
   D4-invariant (``lensml.models.d4unet``).
3. Physics engine: ``PoissonSolver`` (zero-padded FFT, arcsec, not periodic) -> psi, alpha;
   ``InverseLens`` -> source; residual = image - source. ``PhysicsLoss`` adds the TV / L1 /
   centre / Poisson-residual regularisers, off until ``PhysicsLossSchedule`` switches them on.
4. Head: [image, kappa, source, residual] -> 1x1 conv to 3 channels + BN + SiLU ->
   EfficientNetV2-S (from scratch) -> 1280 features (then dropout 0.2 + Dense in ``build``).
"""

from __future__ import annotations

from keras import layers

from lensml.models.cnn import efficientnetv2_s_backbone
from lensml.models.d4unet import unet
from lensml.models.physics_loss import PhysicsLoss
from lensml.models import widths
from lensml.models.registry import TINY_D4, register



@register("d4lenspinn", tiny=TINY_D4, width=widths.d4lenspinn, cpu_scale={"options": {"unet_fields": [2, 4, 4, 8], "head_options": {"width_coefficient": 0.25, "depth_coefficient": 0.25}}, "epochs": 4, "steps_per_epoch": 100}, head_dropout=0.2, xla_on_cpu=True,
          description="D4LensPINN: D4 U-Net convergence -> Poisson solver -> inverse lensing -> "
                      "EfficientNetV2-S")
def d4lenspinn(inputs, *, pixel_scale: float = 0.101, unet_fields=(8, 16, 32, 48),
               stem_kernel: int = 7, pad_factor: int = 2, tv_weight: float = 0.005,
               l1_weight: float = 0.001, centre_weight: float = 0.002, poisson_weight: float = 0.01,
               physics_phase: float = 0.0, head_options=None, epsilon: float = 1e-6,
               equivariant: bool = True, preprocessing: str = "lenspinn"):
    """D4LensPINN features ``(batch, 1280)``.

    Args:
      inputs: images ``(batch, H, H, 1)``, H even.
      pixel_scale: arcsec per pixel (0.101 = Model II; 0.05 = Model I).
      unet_fields: D4 fields per U-Net level.
      equivariant: False swaps the D4 U-Net for a plain one of the same topology and width
        (``d4unet.unet``): the paper's VanillaLensPINN, registered as ``vanilla_lenspinn``.
      physics_phase: initial phase of the physics losses (0 = off until the schedule).
      head_options: options of the EfficientNetV2-S (``width_coefficient``, ``depth_coefficient``).
      preprocessing: the U-Net's second input channel: ``"lenspinn"`` (``PhysicsPreprocessing``,
        D4-invariant, the default) or ``"sobel_product"`` (``SobelProduct``, the paper's signed map).
    Intermediate layers: "d4unet_output" and "kappa" (batch, H, H, 1), "poisson" (psi, alpha),
    "source", "residual".

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("d4lenspinn", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("d4lenspinn", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("d4lenspinn")["cpu"])  # the laptop size
    sobel = lensml.models.build("d4lenspinn", input_shape=(64, 64, 1), num_classes=3,
                                preprocessing="sobel_product")  # the paper's signed preprocessing
    tta = lensml.models.D4TTA(model)  # D4 test-time augmentation
    ```
    """
    from lensml.physics import InverseLens, PoissonSolver
    from lensml.physics.preprocessing import MAPS, preprocessing_layer

    if preprocessing not in MAPS:
        raise ValueError(f"`preprocessing` must be one of {sorted(MAPS)}, got {preprocessing!r}.")
    preproc = preprocessing_layer(preprocessing, epsilon, name="preprocessing")(inputs)
    x = layers.Concatenate(name="unet_input")([inputs, preproc])
    kappa = unet(x, fields=tuple(unet_fields), stem_kernel=stem_kernel, equivariant=bool(equivariant))
    psi, alpha = PoissonSolver(pixel_scale, pad_factor=pad_factor, name="poisson")(kappa)
    kappa = PhysicsLoss(pixel_scale, tv_weight, l1_weight, centre_weight, poisson_weight,
                        initial_phase=physics_phase, name="kappa")([kappa, psi])
    source = InverseLens(pixel_scale, name="source")([inputs, alpha])
    residual = layers.Subtract(name="residual")([inputs, source])
    x = layers.Concatenate(name="head_input")([inputs, kappa, source, residual])
    x = layers.Conv2D(3, 1, use_bias=False, name="head_stem_conv")(x)
    x = layers.BatchNormalization(name="head_stem_bn")(x)
    x = layers.Activation("silu", name="head_stem_act")(x)
    backbone = efficientnetv2_s_backbone(x.shape[1:], name="head_efficientnetv2s",
                                         **dict(head_options or {}))
    return backbone(x)


@register("vanilla_lenspinn", tiny=TINY_D4, width=widths.d4lenspinn, cpu_scale={"options": {"unet_fields": [2, 4, 4, 8], "head_options": {"width_coefficient": 0.25, "depth_coefficient": 0.25}}, "epochs": 4, "steps_per_epoch": 100}, head_dropout=0.2, xla_on_cpu=True,
          description="VanillaLensPINN: D4LensPINN with a plain (non-equivariant) U-Net, the paper's ablation")
def vanilla_lenspinn(inputs, **options):
    """D4LensPINN's pipeline with a plain U-Net (``d4lenspinn(equivariant=False)``).

    Example:

    ```python
    import lensml.models

    model = lensml.models.build("vanilla_lenspinn", input_shape=(64, 64, 1), num_classes=3)  # the published size
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cpu = lensml.models.build("vanilla_lenspinn", input_shape=(64, 64, 1), num_classes=3,
                              **lensml.models.sizes("vanilla_lenspinn")["cpu"])  # the laptop size
    ```
    """
    return d4lenspinn(inputs, **{**options, "equivariant": False})
