"""A tuning worker process for the storage tests (not a test module itself).

    python tests/tuning/worker.py STORAGE_URL STUDY N_TRIALS SLEEP_S [BARRIER_DIR N_WORKERS]

Runs a pure-Python objective (no Keras, so the process starts fast) through
``lensml.tuning``; every trial records the worker's pid. With a barrier, the worker waits
until N_WORKERS workers are ready before its first trial (so all of them take part).
"""

import os
import sys
import time

sys.path.insert(0, os.getcwd())

from lensml.tuning import SearchSpace, create_study, make_storage, optimize, trial_seed  # noqa: E402


def main() -> int:
    url, study_name, n_trials, sleep_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    storage = make_storage(url, heartbeat_interval=1, grace_period=2, max_retry=2)
    study = create_study(study_name, storage, ["minimize"], sampler="random", pruner="none", seed=0)
    space = SearchSpace.from_dict({"x": {"type": "float", "low": -1.0, "high": 1.0}})

    def objective(trial):
        params = space.suggest(trial)
        trial_seed(trial, 0, "per_trial")
        trial.set_user_attr("pid", os.getpid())
        time.sleep(sleep_s)
        return params["x"] ** 2

    if len(sys.argv) > 6:
        barrier, count = sys.argv[5], int(sys.argv[6])
        open(os.path.join(barrier, f"ready_{os.getpid()}"), "w").close()
        deadline = time.time() + 60
        while len(os.listdir(barrier)) < count and time.time() < deadline:
            time.sleep(0.05)
    optimize(study, objective, n_trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
