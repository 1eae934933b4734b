"""Build SSL trainers and downstream models by name (what configs and commands call).

``build_trainer("simclr", input_shape, encoder="resnet50", encoder_options={...}, **options)``
and ``build_downstream("pretrained", input_shape, num_classes, encoder_path=..., ...)`` have
the ``model_factory(name, input_shape=..., num_classes=..., **options)`` signature of
``lensml.training.run_seed``, so pretraining and fine-tuning reuse its fit loop,
callbacks, checkpoints and metrics.
"""

from __future__ import annotations

import keras

IMAGE_ENCODER_METHODS = ("simclr", "byol", "simsiam", "dino")
TOKEN_METHODS = ("mae", "ijepa", "lens_jepa")
METHODS = IMAGE_ENCODER_METHODS + TOKEN_METHODS
#: Trainers with an EMA target whose momentum schedule runs over ``total_steps`` optimiser steps.
EMA_METHODS = ("byol", "dino", "ijepa", "lens_jepa")
TASKS = ("classification", "regression", "super_resolution")


def _trainer_class(method):
    from lensml.ssl import TRAINERS  # the one name -> trainer table

    if method not in TRAINERS:
        raise ValueError(f"method={method!r}: expected one of {list(TRAINERS)}")
    return TRAINERS[method]


def build_image_encoder(name, input_shape=(64, 64, 1), **options):
    """An encoder images -> (B, D) by name: ``lensml.models.build_encoder`` names (e.g.
    "resnet50", "vit", or "ssl_vit", the token trainers' ViT)."""
    from lensml.models import build_encoder

    return build_encoder(name, tuple(input_shape), **options)


def build_trainer(method, input_shape=(64, 64, 1), num_classes=None, encoder="resnet50",
                  encoder_options=None, **options):
    """A compiled-ready SSL trainer.

    method: "simclr", "byol", "simsiam", "dino" (on an image encoder named `encoder`, built
    with `encoder_options`), or "mae", "ijepa", "lens_jepa" (ViT tokens; `encoder` ignored).
    options: the trainer's keyword arguments. num_classes is accepted and ignored (SSL). A view
    generator given as a dict (a config's ``views = { d4 = "all", noise = [], blur = [] }``) is
    ``lensml.ssl.views.LensViews`` of those arguments (an empty range: no such transform).
    """
    cls = _trainer_class(method)
    for key in ("views", "global_views", "local_views"):  # a config's view recipe: LensViews' arguments
        if isinstance(options.get(key), dict):
            from lensml.ssl.views import LensViews

            options[key] = LensViews(**options[key], seed=options.get("seed"))
    if method in IMAGE_ENCODER_METHODS:
        enc = build_image_encoder(encoder, input_shape, **(encoder_options or {}))
        return cls(enc, image_shape=tuple(input_shape), **options)
    return cls(image_shape=tuple(input_shape), **options)


def pretrained_encoder(trainer, pool="default"):
    """The encoder to keep after pretraining: images -> (B, D), pooled as the trainer pools
    (its class token's output, else the mean token; pool=None: the patch tokens, for the token
    trainers)."""
    if hasattr(trainer, "image_encoder"):
        return trainer.image_encoder(pool=pool)
    return trainer.encoder


def build_downstream(name="pretrained", input_shape=(64, 64, 1), num_classes=3, *,
                     encoder_path=None, task="classification", mode="finetune", hidden=(),
                     dropout=0.0, encoder_options=None, sr_filters=64, lr_shape=(16, 16, 1),
                     target_range=None, normalization=None):
    """A downstream model on a pretrained (or, for baselines, fresh) encoder.

    name: "pretrained" (load `encoder_path`, a .keras file, with safe_mode) or an encoder
    name for :func:`build_image_encoder` (from scratch, same head: the fair baseline; for
    super_resolution "ssl_vit", whose tokens the decoder reads, as an MAE's).
    task: "classification" (num_classes probabilities), "regression" (one output, e.g.
    log10 axion mass) or "super_resolution" (`lr_shape` -> the encoder's image size; needs
    a token encoder, e.g. an MAE's ``image_encoder(pool=None)``).
    mode: "finetune" or "linear_probe".
    target_range: for regression, the (low, high) range of the targets (the output starts at its
    centre; ``lensml.models.heads.regression_head``).
    normalization: the model's input contract (``lensml.models.build``), None for none.
    """
    from lensml.ssl.finetune import build_classifier, build_regressor, build_sr_from_tokens

    if task not in TASKS:
        raise ValueError(f"task={task!r}: expected one of {TASKS}")
    if name == "pretrained":
        if not encoder_path:
            raise ValueError("encoder_path: required when name='pretrained'")
        encoder = keras.saving.load_model(encoder_path, safe_mode=True, compile=False)
    elif task == "super_resolution":  # from scratch: the token encoder (no pooling) the decoder reads
        if name != "ssl_vit":
            raise ValueError(f"name={name!r}: super_resolution from scratch needs a token encoder ('ssl_vit')")
        encoder = build_image_encoder(name, (64, 64, 1), **{**(encoder_options or {}), "pool": None})
    else:
        encoder = build_image_encoder(name, input_shape, **(encoder_options or {}))
    if task == "classification":
        return build_classifier(encoder, num_classes, mode=mode, hidden=tuple(hidden),
                                dropout=dropout, input_shape=input_shape, normalization=normalization)
    if task == "regression":
        return build_regressor(encoder, mode=mode, hidden=tuple(hidden) or (64,), dropout=dropout,
                               input_shape=input_shape, target_range=target_range, normalization=normalization)
    if mode != "finetune":
        raise ValueError(f"mode={mode!r}: super_resolution trains the encoder (mode='finetune')")
    return build_sr_from_tokens(encoder, lr_shape=tuple(input_shape) if input_shape else tuple(lr_shape),
                                filters=sr_filters, normalization=normalization)
