"""``lensml benchmark speed``: run the scripts in ``benchmarks/`` and collect their tables.

Each ``benchmarks/bench_*.py`` prints a Markdown table and starts one subprocess per
backend itself (TF graph / TF XLA / JAX; reference vs batched). This module runs each script
that exists in a subprocess (with short settings unless ``full``), and writes one Markdown
file: the machine's description, then each script's table (or why it failed).
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from lensml._io import write_text_atomic

#: script -> arguments for a short run (the scripts' defaults are the full run).
QUICK_ARGS = {
    "bench_physics.py": ["--batch", "64", "--repeats", "3"],
    "bench_simulation.py": ["--families", "model_ii", "--supersampling", "1", "--seconds", "1"],
    "bench_models.py": ["--models", "resnet18,lenspinn_small", "--steps", "3", "--warmup", "1", "--batch", "32"],
    "bench_ssl.py": ["speed", "--steps", "3", "--trainers", "simclr", "byol", "mae", "ijepa"],
}
#: script -> arguments of the full run, where the script's defaults are not it.
#: The simulation table includes the scaling over every usable core.
FULL_ARGS = {"bench_ssl.py": ["speed"], "bench_simulation.py": ["--cores", "all"]}


#: The order of the sections (other bench_*.py scripts follow, sorted).
ORDER = ("bench_physics.py", "bench_simulation.py", "bench_models.py", "bench_ssl.py")
VERSIONED = ("keras", "tensorflow", "jax", "jaxlib", "tensorflow-datasets", "lenstronomy", "numpy", "optuna")


def machine_description() -> dict:
    """CPU model, cores, memory, accelerators and package versions of this machine."""
    from importlib import metadata

    info = {"platform": platform.platform(), "python": platform.python_version(), "cpu": platform.processor() or "?"}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["logical_cores"] = os.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    try:
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        info["memory_gib"] = round(mem_kb / 2**20, 1)
    except (OSError, StopIteration):
        pass
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    gpus = []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=20)
        gpus = [g.strip() for g in out.stdout.splitlines() if g.strip()]
    except (OSError, subprocess.SubprocessError):
        pass
    info["gpus"] = gpus or "none"
    versions = {}
    for pkg in VERSIONED:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    info["versions"] = versions
    return info


def find_scripts(bench_dir) -> list[Path]:
    """The ``bench_*.py`` scripts of ``bench_dir``, in ``ORDER`` then by name."""
    found = sorted(Path(bench_dir).glob("bench_*.py"))
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(found, key=lambda p: (rank.get(p.name, len(ORDER)), p.name))


def run_script(script: Path, *, full: bool = False, timeout: float = 3600, root=None) -> dict:
    """Run one benchmark script; returns {"script", "args", "returncode", "seconds", "stdout", "stderr"}."""
    args = FULL_ARGS.get(script.name, []) if full else QUICK_ARGS.get(script.name, [])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    root = Path(root) if root is not None else script.resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    start = time.time()
    try:
        proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                              timeout=timeout, cwd=root, env=env)
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as e:
        code, stdout, stderr = "timeout", (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), \
            f"timed out after {timeout:.0f} s"
    return {"script": script.name, "args": args, "returncode": code, "seconds": time.time() - start,
            "stdout": stdout, "stderr": stderr}


def render(machine: dict, runs: list[dict], missing: list[str]) -> str:
    """One Markdown document: machine description, then each script's output."""
    v = machine["versions"]
    lines = ["# lensml speed benchmarks", "",
             f"Run {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}.", "",
             "| machine | |", "|---|---|",
             f"| CPU | {machine['cpu']} |",
             f"| cores | {machine.get('usable_cores', '?')} usable of {machine['logical_cores']} |",
             f"| memory | {machine.get('memory_gib', '?')} GiB |",
             f"| accelerators | {machine['gpus'] if isinstance(machine['gpus'], str) else ', '.join(machine['gpus'])} |",
             f"| load average at start | {machine.get('load_average', '?')} |",
             f"| platform | {machine['platform']}, Python {machine['python']} |",
             "| versions | " + ", ".join(f"{k} {x}" for k, x in v.items()) + " |", ""]
    if missing:
        lines += ["Not present in benchmarks/ (not run): " + ", ".join(missing) + ".", ""]
    for r in runs:
        lines += [f"## {r['script']}", "",
                  f"`python benchmarks/{r['script']} {' '.join(r['args'])}` ({r['seconds']:.0f} s)", ""]
        if r["returncode"] == 0:
            lines += [r["stdout"].strip(), ""]
        else:
            tail = (r["stderr"] or "").strip().splitlines()[-15:]
            lines += [f"FAILED (exit {r['returncode']}):", "", "```", *tail, "```", ""]
            if r["stdout"].strip():
                lines += [r["stdout"].strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def speed(out="benchmarks-speed.md", *, bench_dir=None, only=None, full: bool = False,
          timeout: float = 3600, log=None) -> dict:
    """Run the present ``benchmarks/bench_*.py`` (``only``: names like "physics", "bench_models.py")
    and write their tables with the machine description to ``out``. ``bench_dir``: default the
    scripts lensml ships (``lensml.training.shipped``)."""
    if bench_dir is None:
        from lensml.training.shipped import shipped_root

        bench_dir = shipped_root() / "benchmarks"
    log = log or (lambda msg: print(f"[benchmark] {msg}", flush=True))
    scripts = find_scripts(bench_dir)
    if only:
        keep = {n if n.endswith(".py") else f"bench_{n}.py" for n in only}
        scripts = [s for s in scripts if s.name in keep]
    present = {s.name for s in find_scripts(bench_dir)}
    missing = [n for n in ORDER if n not in present]
    machine = machine_description()
    runs = []
    for script in scripts:
        log(f"running {script.name} ...")
        r = run_script(script, full=full, timeout=timeout)
        log(f"{script.name}: exit {r['returncode']} in {r['seconds']:.0f} s")
        runs.append(r)
        write_text_atomic(out, render(machine, runs, missing))  # what ran so far, if a later script hangs
    write_text_atomic(out, render(machine, runs, missing))
    log(f"written {Path(out).resolve()}")
    return {"path": str(out), "machine": machine, "runs": runs, "missing": missing}
