"""Warm starts: initialise a freshly built model from a trained ``.keras`` file.

Used for cross-instrument transfer (train on Model I, fine-tune or linear-probe on Model II)
through ``[model] init_from = "runs/.../seed_{seed}/model.keras"`` and ``[model] trainable``.
Weights are copied layer by layer, so the same architecture built for another input size
(150 x 150 -> 64 x 64: convolution kernels do not depend on the image size) takes them; a
layer whose weight shapes differ (a head for another number of classes, a ViT's positional
embedding for another patch grid) keeps its fresh initialisation. Layers are paired in order
when both models have the same sequence of layer types (the same architecture: Keras' automatic
layer names differ between builds in one process), else by name.
"""

from __future__ import annotations

from pathlib import Path

from lensml.training.config import TRAINABLE


def warm_start(model, path, *, trainable: str = "all") -> dict[str, list[str]]:
    """Copy the weights of the model saved at ``path`` into ``model`` (in place).

    Args:
      model: a built Keras model.
      path: a ``.keras`` file of the same architecture (e.g. the same registry model trained
        on another dataset or instrument).
      trainable: ``"all"`` (fine-tune everything) or ``"head"`` (freeze every layer but the
        task head: a linear probe of the transferred features).

    Returns:
      ``{"copied": [...], "kept": [...]}``: names of the layers that took the saved weights and
      of those left at their initialisation because the saved model lacks them or their
      shapes differ.

    Raises:
      ValueError: ``trainable`` is not one of ``TRAINABLE``, the saved model is another
        architecture (another model name), or no layer could be copied.
      FileNotFoundError: ``path`` does not exist.
    """
    from lensml.evaluation.inputs import load_keras_model
    from lensml.models.heads import HEAD_OUTPUTS, is_head_layer

    if trainable not in TRAINABLE:
        raise ValueError(f"model.trainable={trainable!r}: expected one of {TRAINABLE}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"model.init_from={str(path)!r}: no such .keras file (a finished run's "
                                "model.keras; '{seed}' is filled in with each run's seed)")
    saved = load_keras_model(Path(path))
    if saved.name != model.name:  # registry models are named after their architecture
        raise ValueError(
            f"model.init_from={str(path)!r} is a {saved.name!r} model, but this run builds {model.name!r}: "
            "a warm start copies the weights of the same architecture; point init_from at a run of "
            f"{model.name!r} (or set model.name = {saved.name!r})")
    saved_layers = [layer for layer in saved.layers if layer.weights]
    layers = [layer for layer in model.layers if layer.weights]
    if [type(a) for a in saved_layers] == [type(b) for b in layers]:
        pairs = zip(layers, saved_layers)
    else:
        by_name = {layer.name: layer for layer in saved_layers}
        pairs = ((layer, by_name.get(layer.name)) for layer in layers)
    copied, kept = [], []
    for layer, saved in pairs:
        shapes = [tuple(w.shape) for w in layer.weights]
        if saved is not None and [tuple(w.shape) for w in saved.weights] == shapes:
            layer.set_weights(saved.get_weights())
            copied.append(layer.name)
        else:
            kept.append(layer.name)
    if not copied:
        raise ValueError(
            f"model.init_from={str(path)!r}: no layer of {model.name!r} matches a layer of the saved "
            "model (in order or by name) with the same weight shapes; expected the same architecture")
    if trainable == "head":
        heads = [layer for layer in model.layers if is_head_layer(layer)]
        if not heads:
            raise ValueError(f"model.trainable='head': {model.name!r} has no head layer "
                             f"(named {' or '.join(HEAD_OUTPUTS)})")
        for layer in model.layers:
            layer.trainable = is_head_layer(layer)
    return {"copied": copied, "kept": kept}
