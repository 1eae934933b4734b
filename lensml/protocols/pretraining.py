"""Self-supervised protocols: pretrain an encoder, fine-tune (or linear-probe) it, and the two
chained per seed (the evaluation protocol, docs/guide/evaluation.md).

- ``pretrain_seed(config, seed)``: one seed of an SSL trainer (``[model] name`` in
  ``lensml.ssl.factory.METHODS``) through ``run_seed``; writes ``encoder.keras`` (images ->
  features) and, for the token trainers (MAE, I-JEPA, Lens-JEPA), ``token_encoder.keras``
  (images -> patch tokens, for super-resolution) next to the runner's files.
- ``finetune_seed(config, seed, encoder_path=None)``: one seed of a downstream model
  (``[model] name = "pretrained"`` on a saved encoder, or an encoder name for the
  from-scratch baseline) through ``run_seed``, tested by its one test evaluation (the
  protocol of its task; super-resolution: PSNR / SSIM beside bicubic upsampling).
- ``pretrain_then_finetune(pretrain_config, finetune_config, seed)``: the chain a paper's SSL
  row is: the fine-tuning run starts from the encoder this seed's pretraining wrote
  (``finetune_from(pretrain_result, ...)`` when one pretraining feeds several rows).

``lensml pretrain`` / ``lensml finetune`` run the first two for each seed of a config, and
``lensml benchmark reproduce`` runs the chain for its SSL rows: one code path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from lensml.training.config import ExperimentConfig


def _summary(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "history"}


def pretrain_seed(config: ExperimentConfig, seed: int, *, callbacks: Iterable[Any] = ()) -> dict[str, Any]:
    """Pretrain ``config``'s SSL trainer for one seed.

    The EMA trainers' ``total_steps`` (BYOL, DINO, I-JEPA, Lens-JEPA: the momentum schedule's
    length) is the run's number of optimiser steps (``runner.training_steps``) unless the config
    sets it. Returns ``run_seed``'s result with ``paths["encoder"]`` (and
    ``paths["token_encoder"]`` for the token trainers).
    """
    from lensml.training.runner import run_seed
    from lensml.training.callbacks import save_model_atomic
    from lensml.training.runner import training_steps
    from lensml.ssl.factory import EMA_METHODS, METHODS, build_trainer, pretrained_encoder

    if config.model.name not in METHODS:
        raise ValueError(f"model.name: {config.model.name!r} is not a pretraining method; expected one of {list(METHODS)}")
    built = []
    total_steps = training_steps(config, seed) if config.model.name in EMA_METHODS else None

    def factory(name, **kwargs):
        if total_steps is not None and "total_steps" not in kwargs:
            kwargs["total_steps"] = total_steps
        built.append(build_trainer(name, **kwargs))
        return built[-1]

    result = run_seed(config, seed, model_factory=factory, evaluate_test=False, callbacks=callbacks)
    from lensml.training.distribute import is_chief

    if not is_chief():  # another worker of a multi-process job: the chief writes the encoder
        return result
    encoder_path = Path(result["paths"]["dir"]) / "encoder.keras"
    save_model_atomic(pretrained_encoder(built[-1]), encoder_path)
    result["paths"]["encoder"] = str(encoder_path)
    if hasattr(built[-1], "image_encoder"):  # token trainers: tokens too (super-resolution)
        tokens_path = encoder_path.with_name("token_encoder.keras")
        save_model_atomic(pretrained_encoder(built[-1], pool=None), tokens_path)
        result["paths"]["token_encoder"] = str(tokens_path)
    return result


def downstream_task(config: ExperimentConfig) -> str:
    """The fine-tuning task of ``config``: "classification", "regression" or "super_resolution"."""
    return config.model.options.get("task", "classification")


def finetune_seed(config: ExperimentConfig, seed: int, *, encoder_path: str | None = None,
                  callbacks: Iterable[Any] = ()) -> dict[str, Any]:
    """Fine-tune (or linear-probe, ``options.mode``) one seed of ``config``.

    ``encoder_path`` replaces ``model.options.encoder_path`` (whose ``{seed}`` is otherwise
    replaced by ``seed``). Every task is tested by the runner's test evaluation
    (``lensml.training.runner.test_metrics``, the best checkpoint, ``<run>/evaluation``);
    super-resolution reports PSNR / SSIM beside bicubic upsampling (``test_psnr``,
    ``test_ssim``, ``test_bicubic_psnr``, ``test_bicubic_ssim`` in ``result["metrics"]``).
    """
    from lensml.training.runner import run_seed
    from lensml.ssl.factory import build_downstream

    def factory(name, **kwargs):
        path = encoder_path or kwargs.get("encoder_path")
        if path:
            kwargs["encoder_path"] = str(path).format(seed=seed)
        kwargs.setdefault("normalization", config.data.normalization)  # the model's input contract
        return build_downstream(name, **kwargs)

    return run_seed(config, seed, model_factory=factory, callbacks=callbacks)


def finetune_from(pretrained: dict, finetune_config: ExperimentConfig, seed: int, *,
                  callbacks: Iterable[Any] = ()) -> dict[str, Any]:
    """Fine-tune ``finetune_config`` for ``seed`` from the encoder of ``pretrained`` (a
    ``pretrain_seed`` result): ``token_encoder.keras`` for super-resolution, else
    ``encoder.keras``. Returns the fine-tuning result with ``result["pretrain"]`` (the
    pretraining run's summary: paths, train time)."""
    key = "token_encoder" if downstream_task(finetune_config) == "super_resolution" else "encoder"
    if key not in pretrained["paths"]:
        raise ValueError("finetune_config: task super_resolution needs patch tokens, but this pretraining "
                         "wrote no token encoder (only the MAE / JEPA trainers do)")
    result = finetune_seed(finetune_config, seed, encoder_path=pretrained["paths"][key], callbacks=callbacks)
    result["pretrain"] = _summary(pretrained)
    return result


def pretrain_then_finetune(pretrain_config: ExperimentConfig, finetune_config: ExperimentConfig, seed: int, *,
                           callbacks: Iterable[Any] = ()) -> dict[str, Any]:
    """One seed of an SSL row: ``pretrain_seed`` then ``finetune_from`` its encoder."""
    return finetune_from(pretrain_seed(pretrain_config, seed, callbacks=callbacks), finetune_config, seed,
                         callbacks=callbacks)


def pretrain(config: ExperimentConfig) -> list[dict]:
    """``pretrain_seed`` for each seed of ``config`` (what ``lensml pretrain`` runs)."""
    return [_summary(pretrain_seed(config, s)) for s in config.seeds]


def finetune(config: ExperimentConfig) -> list[dict]:
    """``finetune_seed`` for each seed of ``config`` (what ``lensml finetune`` runs)."""
    return [_summary(finetune_seed(config, s)) for s in config.seeds]
