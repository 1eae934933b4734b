# %% [markdown]
# # Tune hyperparameters with an Optuna study
#
# `lensml tune --config X.toml` (or `lensml.protocols.tune(config)`) runs an Optuna study over
# the `[tune]` table of a training config: each trial is a full training run with the sampled
# values, scored on the validation split; failed and pruned trials are recorded, a killed study
# resumes, and several workers can share one study through a database or a journal file. This
# tutorial writes a config, runs a four-trial study on fresh lenses, and reads the result.

# %%
import json
import tempfile
from pathlib import Path

import optuna

from lensml.training import load_config
from lensml.protocols import tune

work = Path(tempfile.mkdtemp())

# %% [markdown]
# ## The config
#
# The run trains a narrow ResNet18 on the stream of fresh Model II lenses (`source = "stream"`)
# and validates on the stored validation split. The study samples the learning rate (log
# scale) and the network's width, and maximises the validation macro ROC AUC.

# %%
config_text = f"""
name = "tune_tutorial"
seeds = [0]

[data]
dataset = "deeplense/model_ii_published_n30"
data_dir = "{work / 'data'}"
source = "stream"
steps_per_epoch = 8
batch_size = 24

[model]
name = "resnet18"

[training]
epochs = 2
learning_rate = 1e-3
verbose = 0

[output]
dir = "{work / 'runs'}/{{name}}"

[tune]
objectives = ["val_macro_auc"]
n_trials = 4
sampler = "tpe"
pruner = "none"
startup_trials = 2

[tune.params."training.learning_rate"]
type = "float"
low = 1e-4
high = 1e-2
log = true

[tune.params."model.options.width"]
type = "categorical"
choices = [4, 8]
"""
path = work / "tune_tutorial.toml"
path.write_text(config_text)
config = load_config(path)

# %% [markdown]
# ## The study
#
# `tune` returns where it stored the study (SQLite beside the runs by default) and its report
# files: the best configuration as a re-runnable TOML, a summary and every trial's history.
# Running it again resumes: trials already finished are not run twice.

# %%
result = tune(config)
print("trials run:", result["trials_run"])
print("best:", result["best"][0]["params"], "val_macro_auc", round(result["best"][0]["values"][0], 3))

study = optuna.load_study(study_name="tune_tutorial", storage=result["storage"])
print(study.trials_dataframe(attrs=("number", "value", "params", "state")).to_string(index=False))
assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) == 4

# %% [markdown]
# The best configuration is a config like any other: `lensml train --config <best_config>`
# trains it with all its seeds.

# %%
print(Path(result["paths"]["best_config"]).read_text())
print(json.dumps(json.loads(Path(result["paths"]["summary_json"]).read_text())["objectives"]))
