"""Load on a shared study: many worker processes, a cheap objective, exactly N trials.

    python benchmarks/tuning_load.py                       # 8 workers x 200 trials, PostgreSQL and journal
    python benchmarks/tuning_load.py --kill 1              # ... and a run of each with one worker SIGKILLed
    python benchmarks/tuning_load.py --postgres-url postgresql://user:pass@host/db --storages postgres

Each worker is a process running ``lensml.tuning.optimize`` (heartbeats every second, grace 3 s)
on one study with lensml's default sampler (TPE) and a cheap objective (a 2-parameter quadratic
and a ``--sleep`` of a few ms, so the figures are the storage's and the sampler's). With
``--kill K``, trials number trials/4, 2 trials/4, ... sleep 3 s and the worker running each is
SIGKILLed in its middle (a second row per storage). Without
``--postgres-url`` a throwaway server is started with ``.ci/postgres`` (Debian's packages).
Checks that the study holds exactly ``--trials`` COMPLETE trials numbered without gaps (plus the
failed trial of each kill, retried once with its parameters), and prints the wall time (process
start to last exit), the trials' own span (first start to last finish) and trials/s. Writes
benchmarks/results/tuning_load.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


SLOW_S = 3.0  # the trials whose workers are killed last this long


def slow_trials(n_trials: int, kill: int) -> list[int]:
    return [n_trials // 4 * (i + 1) for i in range(kill)]


def worker(url: str, study_name: str, n_trials: int, sleep_s: float, barrier: str, count: int, kill: int) -> int:
    from lensml.tuning import create_study, make_storage, optimize, trial_seed

    storage = make_storage(url, heartbeat_interval=1, grace_period=3, max_retry=1)
    slow = slow_trials(n_trials, kill)
    study = create_study(study_name, storage, ["minimize"], sampler="tpe", pruner="none", seed=0)

    def objective(trial):
        x, y = trial.suggest_float("x", -1, 1), trial.suggest_float("y", -1, 1)
        trial_seed(trial, 0, "per_trial")
        trial.set_user_attr("pid", os.getpid())
        time.sleep(SLOW_S if trial.number in slow else sleep_s)
        return x * x + 2 * y * y

    Path(barrier, f"ready_{os.getpid()}").touch()  # all workers start their trials together
    while len(os.listdir(barrier)) < count:
        time.sleep(0.01)
    optimize(study, objective, n_trials)
    return 0


def run(url: str, kind: str, workers: int, trials: int, sleep_s: float, kill: int) -> dict:
    import optuna

    from lensml.tuning import make_storage

    name = f"load_{uuid.uuid4().hex[:8]}"
    barrier = tempfile.mkdtemp(prefix="lensml-load-")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", url, name, str(trials), str(sleep_s), barrier,
                               str(workers), str(kill)], env=env, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
    storage = make_storage(url, heartbeat_interval=None)
    killed = []
    for number in slow_trials(trials, kill):  # SIGKILL the worker of each slow trial in its middle
        while True:
            time.sleep(0.02)
            try:
                all_trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
            except KeyError:
                continue
            pids = {p.pid: p for p in procs if p.poll() is None}
            running = [t for t in all_trials if t.number == number and t.state.name == "RUNNING"
                       and t.user_attrs.get("pid") in pids]
            if not running:
                continue
            victim = pids[running[0].user_attrs["pid"]]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed.append((running[0].number, victim.pid))
            break
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - start
    bad = [(p.pid, c, p.stderr.read()[-2000:]) for p, c in zip(procs, codes) if c != 0 and p.pid not in
           {pid for _, pid in killed}]
    if bad:
        raise SystemExit(f"workers failed: {bad}")
    all_trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    complete = [t for t in all_trials if t.state.name == "COMPLETE"]
    failed = [t for t in all_trials if t.state.name == "FAIL"]
    retried = {t.system_attrs.get("failed_trial"): t for t in complete if "failed_trial" in t.system_attrs}
    numbers_ok = [t.number for t in all_trials] == list(range(len(all_trials)))
    retries_ok = all(f.number in retried and retried[f.number].params == f.params
                     and retried[f.number].user_attrs.get("seed") == f.user_attrs.get("seed") for f in failed)
    span = (max(t.datetime_complete for t in complete) - min(t.datetime_start for t in complete)).total_seconds()
    per_worker = sorted({pid: sum(t.user_attrs.get("pid") == pid for t in complete)
                         for pid in {t.user_attrs.get("pid") for t in complete}}.values())
    return dict(storage=kind, workers=workers, trials=trials, killed=len(killed), complete=len(complete),
                failed=len(failed), left_running=sum(t.state.name == "RUNNING" for t in all_trials),
                left_waiting=sum(t.state.name == "WAITING" for t in all_trials), numbers_without_gaps=numbers_ok,
                killed_trials_retried_with_params=retries_ok, exact=len(complete) == trials and numbers_ok and
                retries_ok, wall_s=round(wall, 2), trial_span_s=round(span, 2),
                trials_per_s=round(trials / span, 1), trials_per_worker=per_worker)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        a = sys.argv[2:]
        return worker(a[0], a[1], int(a[2]), float(a[3]), a[4], int(a[5]), int(a[6]))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--sleep", type=float, default=0.005, help="seconds each trial sleeps (the objective's cost)")
    p.add_argument("--kill", type=int, default=0, help="workers to SIGKILL mid-trial (in a second run per storage)")
    p.add_argument("--storages", default="postgres,journal")
    p.add_argument("--postgres-url", default=None)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "tuning_load"))
    args = p.parse_args()
    rows, pg_dir = [], None
    try:
        for kind in args.storages.split(","):
            if kind == "postgres":
                url = args.postgres_url
                if not url:
                    pg_dir = tempfile.mkdtemp(prefix="lensml-load-pg-")
                    url = subprocess.run(["bash", str(ROOT / ".ci" / "postgres"), "start", pg_dir], check=True,
                                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
            elif kind == "journal":
                url = f"journal:{tempfile.mkdtemp(prefix='lensml-load-j-')}/study.log"
            else:
                raise SystemExit(f"--storages: got {kind!r}, expected postgres and/or journal")
            for kill in [0, args.kill] if args.kill else [0]:
                row = run(url, kind, args.workers, args.trials, args.sleep, kill)
                print(json.dumps(row), flush=True)
                rows.append(row)
    finally:
        if pg_dir:
            subprocess.run(["bash", str(ROOT / ".ci" / "postgres"), "stop", pg_dir], capture_output=True)
    command = "python benchmarks/tuning_load.py " + " ".join(sys.argv[1:])
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [f"# Tuning load: {args.workers} workers, {args.trials} trials on one study", "",
             f"`{command.strip()}` ({machine}; {time.strftime('%Y-%m-%d')}). Cheap objective (sleep "
             f"{args.sleep * 1000:g} ms; the trials whose workers are killed: {SLOW_S:g} s), TPE sampler, heartbeats "
             "every 1 s (grace 3 s). wall: first process start to last exit; trial span: first trial start to "
             "last trial finish; trials/s over the span.", "",
             "| storage | workers | killed mid-trial | COMPLETE | FAIL (killed; retried once, same params and seed) | exact | wall s | trial span s | "
             "trials/s | trials per worker (min-max) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['storage']} | {r['workers']} | {r['killed']} | {r['complete']} / {r['trials']} | "
                     f"{r['failed']} | {'yes' if r['exact'] else 'NO'} | {r['wall_s']} | {r['trial_span_s']} | "
                     f"{r['trials_per_s']} | {r['trials_per_worker'][0]}-{r['trials_per_worker'][-1]} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.md").write_text("\n".join(lines) + "\n")
    Path(f"{out}.json").write_text(json.dumps(dict(command=command, machine=machine, rows=rows), indent=1) + "\n")
    print("\n".join(lines))
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
