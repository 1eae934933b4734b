"""Training recipes: per model, the config keys (dotted, as ``lensml train --set``) it trains
well with. ``recipe(name)`` reads them; ``training.recipe = true`` in a config fills in those
the file leaves out, and the CPU and controlled scales of ``lensml benchmark`` train each row
with its model's recipe. A model not named in ``RECIPES`` trains with ``CNN``.

Warm-up then cosine decay everywhere: AdamW's first steps on a fresh network are the unstable
ones (the transformers' first-epoch loss of 2.4-3.9 at a flat 1e-3).
"""

from __future__ import annotations

#: Convolutional networks: AdamW 1e-3, weight decay 1e-4, one warm-up epoch, batch 64.
CNN = {
    "training.optimizer": "adamw", "training.learning_rate": 1e-3, "training.weight_decay": 1e-4,
    "training.schedule": "warmup_cosine", "training.warmup_epochs": 1.0, "data.batch_size": 64,
}
#: Transformers: a lower peak rate, stronger decoupled weight decay and clipped gradients
#: (the usual ViT/DeiT training on small data).
TRANSFORMER = {**CNN, "training.learning_rate": 3e-4, "training.weight_decay": 0.05, "training.clipnorm": 1.0}
#: LensPINN: the CNN recipe (its decoders hold most parameters) with clipped gradients, which
#: keep the transformer encoder's Einstein-radius head from jumping in the first steps.
LENSPINN = {**CNN, "training.clipnorm": 1.0}
#: D4LensPINN's paper: AdamW 4.46e-4, weight decay 1.46e-3, warm-up then cosine, gradients
#: clipped at 1.0.
D4LENSPINN = {**CNN, "training.learning_rate": 4.46e-4, "training.weight_decay": 1.46e-3, "training.clipnorm": 1.0}

#: model name -> its recipe (others: ``CNN``)
RECIPES = {
    "vit": TRANSFORMER, "vitsd": TRANSFORMER, "cait": TRANSFORMER, "cvt": TRANSFORMER, "lensformer": TRANSFORMER,
    "ssl_vit": TRANSFORMER,
    "lenspinn_small": LENSPINN, "lenspinn_large": LENSPINN,
    "d4lenspinn": D4LENSPINN, "vanilla_lenspinn": D4LENSPINN,
}


def recipe(name: str) -> dict:
    """The training recipe of registered model ``name``: ``{"training.learning_rate": ..., ...}``,
    dotted config keys, to pass as overrides to ``lensml.training.load_config`` or to fill in
    with ``training.recipe = true``. An unknown name raises ValueError listing the known ones."""
    from lensml.models.registry import describe

    describe(name)  # the registry's error for a name it does not know
    return dict(RECIPES.get(name, CNN))
