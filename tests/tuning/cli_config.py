"""The tiny ``lensml tune`` config the CLI worker tests run (not a test module itself)."""

import os
import textwrap

TEMPLATE = """
name = "NAME"
[data]
dataset = "synthetic:EXAMPLES:8"
batch_size = 6
[model]
name = "vit"
[model.options]
patch_size = 4
embed_dim = 4
depth = 1
num_heads = 1
mlp_dim = 4
dropout = 0.0
[training]
epochs = EPOCHS
verbose = 0
run_eagerly = EAGER
[output]
dir = "OUT/runs/{name}"
save_model = false
[tune]
objectives = ["val_loss"]
sampler = "random"
pruner = "none"
seed_policy = "per_trial"
EXTRA
[tune.params."training.learning_rate"]
type = "float"
low = 1e-3
high = 1e-1
log = true
"""


def write_tune_config(folder, name: str, *, examples: int = 12, epochs: int = 1, extra: str = ""):
    """Write ``<folder>/<name>.toml`` (runs under ``folder``); ``extra``: more ``[tune]`` lines."""
    # Eager is fastest for a few tiny steps on TF; JAX's eager mode compiles every primitive apart.
    eager = "true" if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" else "false"
    text = TEMPLATE
    for key, value in {"NAME": name, "EXAMPLES": str(examples), "EPOCHS": str(epochs), "EAGER": eager,
                       "EXTRA": extra, "OUT": str(folder)}.items():
        text = text.replace(key, value)
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path
