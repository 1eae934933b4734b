"""lensml.tuning: Optuna studies for any objective.

The package runs an objective callable and never imports the experiment layer
(``lensml.protocols.tune``, in ``lensml.protocols.tuning``, plugs ``run(config)`` in). Pieces:

- :class:`SearchSpace` - float (log), int, categorical and conditional parameters from a table.
- :func:`make_storage` - SQLite file (default, resumable), PostgreSQL/MySQL (many workers) or a
  journal file, each with heartbeats + ``RetryHeartbeatStaleTrialCallback`` (``heartbeat``).
- :func:`create_study`, :func:`optimize` - create or resume a study and run it to exactly
  ``n_trials`` finished trials across all its workers (``budget``: the trials are queued);
  :func:`pruning_callback` (optuna-integration's Keras 3 callback), :func:`trial_seed`.
- :func:`write_study_report` - summary, parameter importances, optimisation-history PNGs.

Importing it does not import Keras or TensorFlow.
"""

from lensml.tuning.report import best_trials, write_study_report
from lensml.tuning.space import Condition, Param, SearchSpace
from lensml.tuning.storage import make_storage, redact, resolve_storage_url
from lensml.tuning.study import (
    PRUNERS,
    SAMPLERS,
    check_directions,
    count_finished,
    create_study,
    make_pruner,
    make_sampler,
    optimize,
    pruning_callback,
    trial_seed,
)

__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "Condition",
    "Param",
    "SearchSpace",
    "best_trials",
    "check_directions",
    "count_finished",
    "create_study",
    "make_pruner",
    "make_sampler",
    "make_storage",
    "optimize",
    "pruning_callback",
    "redact",
    "resolve_storage_url",
    "trial_seed",
    "write_study_report",
]

from lensml import _keras_objects  # noqa: E402

_keras_objects.register_if_keras_loaded(finishing=__name__)  # see lensml._keras_objects
