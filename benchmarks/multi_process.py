"""Multi-process training on one machine: 2 `lensml train` processes joined as one job over
127.0.0.1, against the one-process run with the same global batch.

    python benchmarks/multi_process.py --backend tensorflow --source stored --out /tmp/mp
    python benchmarks/multi_process.py --backend jax --source stream --processes 2

TensorFlow's processes are workers of a ``MultiWorkerMirroredStrategy`` (``TF_CONFIG``,
``--distribute multi_worker``); JAX's are joined by ``keras.distribution.initialize()``
(``KERAS_DISTRIBUTION_JOB_ADDRESSES`` / ``NUM_PROCESSES`` / ``PROCESS_ID``, CPU collectives over
gloo). It prints, per run, the steps/s and the largest difference of losses and final weights
from the one-process run. On one machine the processes share its cores, so 2 processes are
not faster than 1: the figure shows the cost of the collectives, not a speed-up (that needs
one process per machine or per accelerator). tests/training/test_multi_process.py runs
the same job on tiny inputs.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The job both runs train: a 4-wide ResNet18 on the tiny published Model II family, a
#: global batch of 6 (3 lenses per process), plain SGD (no state but the weights).
TINY = {
    "name": "mp",
    "seeds": [0],
    "data": {"dataset": "deeplense/model_ii_published_tiny", "batch_size": 6, "val_split": "validation",
             "test_split": "test"},
    "model": {"name": "resnet18", "options": {"width": 4, "stage_blocks": [1, 1, 1, 1]}},
    "training": {"epochs": 2, "optimizer": "sgd", "learning_rate": 0.05, "weight_decay": 0.0,
                 "schedule": "constant", "verbose": 0, "metrics": ["accuracy"]},
}

#: The same for BYOL (``lensml pretrain``): the EMA target network and the step counter that
#: drives its momentum schedule must stay equal on every process.
BYOL = {
    "name": "mp_byol",
    "seeds": [0],
    "data": {"dataset": "deeplense/model_ii_published_tiny", "batch_size": 6, "val_split": "", "test_split": ""},
    "model": {"name": "byol", "options": {"encoder": "resnet18", "projection_dim": 4, "hidden_dim": 8,
                                          "encoder_options": {"width": 4, "stage_blocks": [1, 1, 1, 1]}}},
    "training": {"epochs": 2, "optimizer": "sgd", "learning_rate": 0.05, "weight_decay": 0.0,
                 "schedule": "constant", "verbose": 0, "metrics": [], "monitor": "loss"},
}


def free_ports(count: int) -> list[int]:
    """``count`` TCP ports of 127.0.0.1 that are free now (bound to port 0, then released)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def process_env(backend: str, index: int, count: int, ports: list[int]) -> dict:
    """The environment of process ``index`` of a ``count``-process job on 127.0.0.1."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    for key in ("TF_CONFIG", "KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                "KERAS_DISTRIBUTION_PROCESS_ID", "XLA_FLAGS"):
        env.pop(key, None)
    if count > 1 and backend == "tensorflow":
        env["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                       "task": {"type": "worker", "index": index}})
    elif count > 1:
        env.update(KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{ports[0]}",
                   KERAS_DISTRIBUTION_NUM_PROCESSES=str(count), KERAS_DISTRIBUTION_PROCESS_ID=str(index))
    return env


def write_config(path: Path, config: dict) -> Path:
    """``config`` (TINY's layout) as a TOML file."""
    def value(v):
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines = [f"{k} = {value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    for section, body in config.items():
        if isinstance(body, dict):
            lines += ["", f"[{section}]"] + [f"{k} = {value(v)}" for k, v in body.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def job(backend: str, count: int, config: Path, out: Path, *, extra=(), logs: Path | None = None,
        command: str = "train", env: dict | None = None, log_suffix: str = ""):
    """Start ``count`` ``lensml COMMAND`` processes of one job (one plain process when 1); yields
    the ``Popen`` objects and kills whatever still runs on the way out (always reaped)."""
    ports = free_ports(max(count, 1))
    logs = logs or out.parent
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    try:
        for i in range(count):
            args = [sys.executable, "-m", "lensml", command, "--config", str(config), "--out", str(out), *extra]
            if count > 1:
                args += ["--distribute", "multi_worker"]
            log = open(logs / f"{out.name}{log_suffix}.{i}.log", "w")
            procs.append(subprocess.Popen(args, cwd=ROOT, env=process_env(backend, i, count, ports) | (env or {}),
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            log.close()
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
        for p in procs:
            p.wait()


def wait(procs, timeout: float) -> list[int]:
    """The exit codes of ``procs`` (TimeoutError naming the ones still running after ``timeout`` s)."""
    end = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(end - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"process {p.args} still running after {timeout:.0f} s") from None
    return [p.returncode for p in procs]


def run_job(backend: str, count: int, config: Path, out: Path, *, timeout: float = 900, extra=(),
            command: str = "train", env: dict | None = None, log_suffix: str = "") -> dict:
    """Run a whole job; its exit codes, wall seconds and the logs' tails."""
    start = time.perf_counter()
    with job(backend, count, config, out, extra=extra, command=command, env=env, log_suffix=log_suffix) as procs:
        codes = wait(procs, timeout)
    logs = [(out.parent / f"{out.name}{log_suffix}.{i}.log").read_text()[-3000:] for i in range(count)]
    return {"codes": codes, "seconds": time.perf_counter() - start, "logs": logs}


def killed_and_restarted(backend: str, count: int, config: Path, out: Path, *, timeout: float = 900,
                         command: str = "train", grace: float = 30.0) -> dict:
    """A ``count``-process job whose last worker is SIGKILLed during its second epoch (once the
    chief's history has the first epoch's row, i.e. the first backup is written), then the
    whole job restarted with the same commands (new ports). The surviving processes stop on
    their own (a collective with a dead peer fails) or are killed after ``grace`` seconds, as
    a cluster's launcher would. Returns the restarted job's ``run_job`` result plus
    ``survivor_codes`` (None: killed after the grace period) and the epochs seen at the kill."""
    end = time.monotonic() + timeout
    with job(backend, count, config, out, command=command, log_suffix=".killed") as procs:
        history_csv = out / "history.csv"
        while not (history_csv.exists() and len(history_csv.read_text().splitlines()) >= 2):
            if time.monotonic() > end or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"the job ended or timed out before its first epoch: {[p.poll() for p in procs]}")
            time.sleep(0.05)
        rows = len(history_csv.read_text().splitlines()) - 1
        os.killpg(procs[-1].pid, signal.SIGKILL)
        survivors = []
        for p in procs[:-1]:
            try:
                survivors.append(p.wait(grace))
            except subprocess.TimeoutExpired:
                survivors.append(None)  # killed on the way out of `job`
    result = run_job(backend, count, config, out, timeout=max(end - time.monotonic(), 60), command=command)
    return result | {"survivor_codes": survivors, "epochs_at_kill": rows}


def roundoff_floor(backend: str, config: Path, reference: Path, out: Path, *, timeout: float = 900,
                   command: str = "train") -> dict:
    """The one-process run again with another summation order (TensorFlow: one compute thread;
    JAX: data-parallel over 2 simulated CPU devices of the one process): its difference from
    ``reference`` is what float round-off alone does to this training, the floor below which
    no multi-process difference can be read."""
    env, extra = {"TF_NUM_INTRAOP_THREADS": "1"}, []
    if backend == "jax":
        env, extra = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}, ["--distribute", "data_parallel"]
    result = run_job(backend, 1, config, out, timeout=timeout, command=command, env=env,
                     extra=["--overwrite", *extra])
    if any(result["codes"]):
        raise RuntimeError("\n".join(result["logs"]))
    return difference(reference, out)


def history(run_dir: Path) -> list[dict]:
    with open(run_dir / "history.csv") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def final_weights(run_dir: Path) -> list:
    import keras

    import lensml.models  # noqa: F401  (registers lensml's layers for loading)
    import lensml.ssl  # noqa: F401  (and its trainers)

    return [keras.ops.convert_to_numpy(w) for w in keras.saving.load_model(run_dir / "model.keras").weights]


def difference(one: Path, many: Path) -> dict:
    """Largest relative difference of the per-epoch training losses and largest absolute
    difference of the final weights, ``many`` against ``one``."""
    import numpy as np

    a, b = history(one), history(many)
    if len(a) != len(b):
        raise AssertionError(f"{len(a)} epochs in {one} but {len(b)} in {many}")
    loss = max(abs(x["loss"] - y["loss"]) / abs(x["loss"]) for x, y in zip(a, b))
    wa, wb = final_weights(one), final_weights(many)
    weights = max(float(np.max(np.abs(x - y))) for x, y in zip(wa, wb))
    return {"loss_rel": loss, "weights_abs": weights, "losses": [[x["loss"] for x in a], [y["loss"] for y in b]]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["tensorflow", "jax"], default="tensorflow")
    parser.add_argument("--source", choices=["stored", "stream"], default="stored")
    parser.add_argument("--method", choices=["train", "byol"], default="train",
                        help="train: a ResNet18 classifier (lensml train); byol: BYOL pretraining (lensml pretrain)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40, help="training steps per epoch")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch")
    parser.add_argument("--fault", action="store_true",
                        help="also: the multi-process job with a worker SIGKILLed in epoch 2, restarted")
    parser.add_argument("--out", type=Path, default=Path("multi_process_bench"))
    args = parser.parse_args(argv)
    config = json.loads(json.dumps(BYOL if args.method == "byol" else TINY))
    command = "pretrain" if args.method == "byol" else "train"
    config["data"].update(source=args.source, steps_per_epoch=args.steps, batch_size=args.batch_size,
                          data_dir=str(args.out.resolve() / "data"))
    config["training"]["epochs"] = args.epochs
    args.out.mkdir(parents=True, exist_ok=True)
    path = write_config(args.out / "config.toml", config)
    rows = {}
    for count in (1, args.processes):
        run = args.out / f"{args.backend}_{args.method}_{args.source}_{count}"
        result = run_job(args.backend, count, path, run, extra=["--overwrite"], command=command)
        if any(result["codes"]):
            print("\n".join(result["logs"]), file=sys.stderr)
            return 1
        rows[count] = {"seconds": result["seconds"], "dir": run}
    diff = difference(rows[1]["dir"], rows[args.processes]["dir"])
    floor = roundoff_floor(args.backend, path, rows[1]["dir"], args.out / f"{args.backend}_{args.method}_floor",
                           command=command)
    steps = args.steps * args.epochs
    print(f"{args.backend} {args.method} {args.source}: global batch {args.batch_size}, {steps} steps")
    for count, row in rows.items():
        print(f"  {count} process(es): {row['seconds']:.1f} s wall (start-up and evaluation included), "
              f"{steps / row['seconds']:.2f} steps/s")
    print(f"  per-epoch losses: 1 process {diff['losses'][0]}, {args.processes} processes {diff['losses'][1]}")
    print(f"  {args.processes} processes vs 1: loss max rel diff {diff['loss_rel']:.2e}, "
          f"final weights max abs diff {diff['weights_abs']:.2e}")
    print(f"  round-off floor (1 process with another summation order, vs 1 process): loss {floor['loss_rel']:.2e}, "
          f"weights {floor['weights_abs']:.2e}")
    if args.fault:
        run = args.out / f"{args.backend}_{args.method}_{args.source}_{args.processes}_killed"
        shutil.rmtree(run, ignore_errors=True)
        start = time.perf_counter()
        result = killed_and_restarted(args.backend, args.processes, path, run, command=command)
        if any(result["codes"]):
            print("\n".join(result["logs"]), file=sys.stderr)
            return 1
        fault = difference(rows[args.processes]["dir"], run)
        print(f"  worker {args.processes - 1} SIGKILLed after {result['epochs_at_kill']} epoch(s), survivors' exit "
              f"codes {result['survivor_codes']} (None: killed by the launcher), job restarted: "
              f"{time.perf_counter() - start:.1f} s in all; vs the uninterrupted {args.processes}-process run: "
              f"loss {fault['loss_rel']:.2e}, weights {fault['weights_abs']:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
