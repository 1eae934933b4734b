"""lensml.models: every DeepLense architecture behind one registry.

>>> import lensml.models as M
>>> model = M.build("resnet18", input_shape=(64, 64, 1), num_classes=3)   # softmax outputs
>>> model.compile("adamw", "sparse_categorical_crossentropy", jit_compile=M.default_jit_compile())

- ``build(name, input_shape=(64, 64, 1), num_classes=3, task="classification", **options)``
- ``build_encoder(name, input_shape, **options)``: images -> features ``(batch, D)``.
- ``available()``: the registered names (their training recipes: ``lensml.training.recipe``);
  ``cpu_scale(name)``: how it trains in minutes on a laptop CPU (options, epochs, steps).
- ``sizes(name)``: its named sizes as options: ``"tiny"`` (tests, smoke runs), ``"cpu"``, ``"paper"``;
  ``size(name, which, ...)`` any named size, the benchmark's budget-matched ``"budget_1m"`` /
  ``"budget_14m"`` included (``BUDGET_SIZES``).
- ``LensModel``: what ``build`` returns, a functional model whose predict / fit / evaluate check
  image shape and NaN / inf pixels (``set_masked(model, "fill")`` fills them instead).
- ``save_preset(model, DIR, card=...)`` / ``from_preset(DIR | name | "hf://...")`` / ``list_presets()``:
  keras-hub style preset folders with a model card (``lensml.models.presets``).
- ``D4TTA(model)``: D4 test-time augmentation; ``PhysicsLossSchedule(phase2_epoch)``:
  D4LensPINN's two-phase training; ``default_jit_compile()``.
- ``build_super_resolution(...)``: a 16x16 -> 64x64 super-resolution CNN.
"""


from lensml._backend import check_backend as _check_backend

_check_backend()  # before Keras is imported: an unsupported backend is one clear error
from lensml.models.common import (
    Affine,
    CenterCrop2D,
    OnesLike,
    PeakNormalization,
    SplitBatch,
    SymmetricPad2D,
    MeanTokens,
    TakeToken,
)
from lensml.models.compile import default_jit_compile
from lensml.models.contract import LensModel, set_masked
from lensml.models.presets import from_preset, list_presets, preset_metadata, register_preset, save_preset
from lensml.models.heads import (
    build_super_resolution,
    classification_head,
    regression_head,
    super_resolution_decoder,
)
from lensml.models.physics_loss import PhysicsLoss, PhysicsLossSchedule, set_physics_phase
from lensml.models.registry import (BUDGET_SIZES, SIZES, available, build, build_encoder, cpu_scale, describe,
                                    input_contract, size, sizes)
from lensml.models.tta import D4TTA

# The architectures register themselves (lensml.models.registry.register) when imported: the
# package imports them, the registry imports none of them (no import circle).
from lensml.models import cait, cnn, cvt, d4lenspinn, lensformer, lenspinn, resnet, vit  # noqa: E402,F401

__all__ = [
    "LensModel", "set_masked", "save_preset", "from_preset", "list_presets", "register_preset", "preset_metadata",
    "available", "build", "build_encoder", "cpu_scale", "describe", "input_contract", "sizes", "size", "SIZES", "BUDGET_SIZES",
    "default_jit_compile", "D4TTA",
    "PhysicsLoss", "PhysicsLossSchedule", "set_physics_phase", "build_super_resolution",
    "classification_head", "regression_head", "super_resolution_decoder",
    "Affine", "CenterCrop2D", "OnesLike", "PeakNormalization", "SplitBatch", "SymmetricPad2D", "TakeToken", "MeanTokens",
]

from lensml import _keras_objects  # noqa: E402

_keras_objects.register_if_keras_loaded(finishing=__name__)  # see lensml._keras_objects
