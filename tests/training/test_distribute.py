"""Data-parallel training (``training.distribute`` / ``lensml train --distribute``).

The equivalence check runs in a subprocess (tests/training/distributed_worker.py) because
the two simulated CPU devices must be configured before JAX / TensorFlow start: after N
steps on the same global batch, losses and weights of the 2-device run equal the one-device
run's, for a BatchNorm CNN through ``run_seed`` and for BYOL (EMA target, step counter).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lensml.training import config_from_dict
from lensml.training.distribute import check_batch_size, check_strategy

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("distributed_worker.py")


def _max_diff(a, b):
    assert len(a) == len(b)
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def two_device_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("dp")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(WORKER), str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-5000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.slow
def test_two_simulated_devices(two_device_runs):
    assert len(two_device_runs["devices"]) == 2
    assert two_device_runs["byol"]["data_parallel"]["replicas"] == 2


def test_runner_data_parallel_matches_one_device(two_device_runs):
    one, two = two_device_runs["runner"]["none"], two_device_runs["runner"]["data_parallel"]
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
    assert _max_diff(one["weights"], two["weights"]) < 1e-4


def test_stream_training_data_parallel_matches_one_device(two_device_runs):
    one, two = two_device_runs["stream"]["none"], two_device_runs["stream"]["data_parallel"]
    assert len(one["loss"]) == 2
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
    assert _max_diff(one["weights"], two["weights"]) < 1e-4


def test_byol_with_ema_target_matches_one_device(two_device_runs):
    byol = two_device_runs["byol"]
    one, two = byol["none"], byol["data_parallel"]
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
    assert one["step"] == two["step"] == 2.0  # the step counter counts global steps
    # target (EMA) weights included; training moved them, identically on both runs
    assert _max_diff(one["weights"], two["weights"]) < 1e-4
    assert _max_diff(one["weights"], byol["initial"]["weights"]) > 1e-3


def test_config_key_and_cli_flag(tmp_path):
    from lensml.cli import train

    config = config_from_dict({"training": {"distribute": "data_parallel"}})
    assert config.training.distribute == "data_parallel"
    with pytest.raises(ValueError, match="training.distribute"):
        config_from_dict({"training": {"distribute": "model_parallel"}})
    path = tmp_path / "exp.toml"
    path.write_text('[data]\ndataset = "synthetic:8:8"\n')
    import argparse

    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    args = parser.parse_args(["--config", str(path), "--distribute", "data_parallel"])
    assert train.load_from_args(args).training.distribute == "data_parallel"
    assert train.load_from_args(parser.parse_args(["--config", str(path)])).training.distribute == "none"


def test_strategy_names_and_batch_check():
    assert check_strategy(None) == "none" and check_strategy("Data-Parallel") == "data_parallel"
    assert check_strategy("multi_worker_mirrored") == "multi_worker"
    with pytest.raises(ValueError, match="distribute"):
        check_strategy("ddp")
    with pytest.raises(TypeError, match="distribute"):
        check_strategy(2)
    check_batch_size(8, 2)
    with pytest.raises(ValueError, match="data.batch_size"):
        check_batch_size(9, 2)


def test_one_device_scope_is_a_no_op():
    import keras

    from lensml.training.distribute import distribution_scope, replicas_of

    before = keras.distribution.distribution() if keras.backend.backend() == "jax" else None
    with distribution_scope("none") as engine:
        assert engine is None and replicas_of(engine) == 1
    if keras.backend.backend() == "jax":
        assert keras.distribution.distribution() is before
