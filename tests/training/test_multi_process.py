"""Multi-process training: 2 ``lensml train`` processes on 127.0.0.1 as one job (TensorFlow:
``TF_CONFIG`` + ``--distribute multi_worker``; JAX: ``KERAS_DISTRIBUTION_*`` with gloo CPU
collectives) against the one-process run with the same global batch, on a stored split and
on the stream (each process simulating its own part of every batch). The launcher is
benchmarks/multi_process.py (free ports; every process reaped)."""

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("multi_process", ROOT / "benchmarks" / "multi_process.py")
mp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mp)


def _one_and_two(tmp_path, source, steps, epochs):
    """TINY on ``source`` run as one process (run folder "one") and as a 2-process job ("two"):
    the two trained alike (same global batches), only the chief wrote results and the worker's
    scratch is gone. Returns the backend, the config's path and the /tmp listing before "two"."""
    backend = keras.backend.backend()
    config = json.loads(json.dumps(mp.TINY))
    config["data"].update(source=source, steps_per_epoch=steps, data_dir=str(tmp_path / "data"))
    config["training"]["epochs"] = epochs
    path = mp.write_config(tmp_path / "config.toml", config)
    one = mp.run_job(backend, 1, path, tmp_path / "one", timeout=600)
    assert one["codes"] == [0], one["logs"]
    before = set(os.listdir("/tmp"))
    two = mp.run_job(backend, 2, path, tmp_path / "two", timeout=600)
    assert two["codes"] == [0, 0], two["logs"]
    assert "worker done; the chief wrote the results" in two["logs"][1]
    diff = mp.difference(tmp_path / "one", tmp_path / "two")
    # same global batches; the sums over the processes differ from one process's only in rounding
    assert diff["loss_rel"] < 1e-4, diff
    assert diff["weights_abs"] < 1e-3, diff
    files = {p.name for p in (tmp_path / "two").iterdir()}
    assert {"model.keras", "history.csv", "metrics.json", "config.toml"} <= files
    assert not _scratch_left(tmp_path, "two", before)
    return backend, path, before


def _scratch_left(tmp_path, name, before):
    """Worker scratch folders of the job in ``tmp_path / name`` created since ``before`` and
    still in /tmp (named by the job's run folder: another test's job may run beside it)."""
    key = hashlib.sha1(str((tmp_path / name).resolve()).encode()).hexdigest()[:12]
    return [n for n in set(os.listdir("/tmp")) - before if n.startswith(f"lensml-worker-{key}")]


@pytest.mark.slow
def test_two_processes_train_like_one_and_a_killed_worker_s_job_resumes_to_the_same_result(tmp_path):
    """On a stored split: the 2-process job trains like one process and only its chief writes.
    Then the same job with worker 1 SIGKILLed in epoch 2: the survivor stops (TensorFlow: its
    collective fails, exit 1; JAX: it waits on the dead peer and the launcher kills it); the
    same commands restarted resume from the chief's last backup to the uninterrupted job's
    losses and weights. (One test, so the uninterrupted 2-process job is run once.)"""
    backend, path, before = _one_and_two(tmp_path, "stored", steps=3, epochs=3)

    # JAX's survivor never exits by itself (it waits on the dead peer), so a short grace suffices
    grace = 20 if backend == "tensorflow" else 5
    restarted = mp.killed_and_restarted(backend, 2, path, tmp_path / "killed", timeout=600, grace=grace)
    assert restarted["codes"] == [0, 0], restarted["logs"]
    assert restarted["epochs_at_kill"] < 3  # killed before the end
    # the survivor never reports success: TensorFlow's usually exits 1 by itself ("tasks are
    # unhealthy"), but on a loaded machine its failure detection can outlast the grace period
    # (then, as JAX's always, the launcher stops it: None)
    assert restarted["survivor_codes"] in ([1], [None]), restarted["survivor_codes"]
    diff = mp.difference(tmp_path / "two", tmp_path / "killed")
    assert diff["loss_rel"] < 1e-6 and diff["weights_abs"] < 1e-6, diff
    # the killed worker's scratch folder was reused by its restart and removed at the end
    assert not _scratch_left(tmp_path, "killed", before)


@pytest.mark.slow
def test_two_processes_on_the_stream_train_like_one(tmp_path):
    """Each process simulates its own part of every batch; 2 epochs of one step, so the second
    epoch's fresh lenses are checked too."""
    _one_and_two(tmp_path, "stream", steps=1, epochs=2)


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "jax", reason="TensorFlow draws BYOL's random views per replica "
                    "(the same distribution, other numbers than one process): compared on JAX, one global program")
def test_byol_across_two_processes_keeps_one_ema_target_and_step_counter(tmp_path):
    config = json.loads(json.dumps(mp.BYOL))
    config["data"].update(steps_per_epoch=3, data_dir=str(tmp_path / "data"))
    config["training"]["epochs"] = 1
    path = mp.write_config(tmp_path / "config.toml", config)
    one = mp.run_job("jax", 1, path, tmp_path / "one", timeout=600, command="pretrain")
    two = mp.run_job("jax", 2, path, tmp_path / "two", timeout=600, command="pretrain")
    assert one["codes"] == [0] and two["codes"] == [0, 0], two["logs"]
    diff = mp.difference(tmp_path / "one", tmp_path / "two")  # every weight: online, EMA target, step
    assert diff["loss_rel"] < 1e-4 and diff["weights_abs"] < 1e-3, diff
    import lensml.ssl  # noqa: F401

    trainer = keras.saving.load_model(tmp_path / "two" / "model.keras")
    assert float(keras.ops.convert_to_numpy(trainer.step)) == 3.0  # global steps, counted once
    assert (tmp_path / "two" / "encoder.keras").exists()


def test_free_ports_are_distinct_and_bindable():
    import socket

    ports = mp.free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
