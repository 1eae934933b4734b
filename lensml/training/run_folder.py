"""One run folder, one owner, one config: what a seed's run folder holds and who may write it.

``claim(folder, config)`` is entered by ``run_seed`` before it writes anything there:

- **Owner.** An exclusive ``fcntl`` lock on ``<folder>/.lock`` (opened without following a
  symbolic link), held until the run ends and released by the OS if the process dies: a second
  ``lensml train`` on the same folder fails at once, naming the folder and the other process.
- **Config.** A folder with a training backup (``backup/``: an interrupted run) is resumed only
  with the config it was started with; the changed keys are listed in the error. Keys in
  :data:`SAFE_TO_CHANGE` (how the run is shown or where its data lives, never what it computes)
  may differ with ``output.resume_with_changes = true`` (``--resume-with-changes``); anything
  else needs a fresh start. A folder holding a finished run (``metrics.json`` and no backup) is
  never overwritten silently.
- ``output.overwrite = true`` (``--overwrite``) empties the folder and starts afresh.

Temporary files a killed writer left behind (``.<name>.*.tmp.*``, see ``lensml._io``) are
removed when a folder is claimed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any, Iterator, Mapping

#: Keys never compared: where the run writes and how it was invoked.
IGNORED = ("output.", "tune.", "seeds", "training.verbose")
#: Keys a resume may change with ``output.resume_with_changes``: presentation, data location and
#: execution choices that leave the arithmetic of the training as it was.
SAFE_TO_CHANGE = ("name", "description", "data.data_dir", "training.tensorboard", "training.jit_compile",
                  "training.run_eagerly", "training.early_stopping_patience")


class RunFolderError(ValueError):
    """The run folder is in use, or holds a run that this config must not continue."""


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"training": {"epochs": 3}}`` -> ``{"training.epochs": 3}`` (tables only; lists kept whole)."""
    out = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and not path.endswith(("model.options", "tune.params")):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two configs (missing on one side counts)."""
    a, b = flatten(old), flatten(new)
    keys = sorted(set(a) | set(b))
    return [k for k in keys if not k.startswith(IGNORED) and a.get(k) != b.get(k)]


def _describe(key: str, old: Mapping, new: Mapping) -> str:
    a, b = flatten(old), flatten(new)
    return f"{key}: {a.get(key, '(unset)')!r} -> {b.get(key, '(unset)')!r}"


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    from lensml._io import locked_file

    with contextlib.ExitStack() as stack:
        try:  # only taking the lock is translated; errors of the run itself pass unchanged
            lock = stack.enter_context(locked_file(folder / ".lock", blocking=False))
        except BlockingIOError:
            holder = (folder / ".lock").read_text().strip() or "unknown"
            raise RunFolderError(f"run folder {str(folder)!r} is in use by another lensml process (pid {holder}); "
                                 "wait for it to finish or write to another folder (--out)") from None
        except PermissionError as e:
            raise RunFolderError(str(e)) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


#: What a run writes in its folder (``run_seed`` and the protocols built on it); a fresh start
#: removes these and nothing else, so a folder that also holds a user's own files keeps them.
RUN_ENTRIES = ("config.toml", "checkpoints", "backup", "history.csv", "history.json", "model.keras",
               "metrics.json", "evaluation", "logs", "encoder.keras", "token_encoder.keras", "preset")


def _clear(folder: Path) -> None:
    for name in RUN_ENTRIES:
        child = folder / name
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        elif child.exists() or child.is_symlink():
            child.unlink()


def _remove_partial_writes(folder: Path) -> None:
    for tmp in folder.rglob(".*.tmp*"):
        if tmp.is_file():
            tmp.unlink()


def state(folder: Path) -> str:
    """"empty" (nothing of a run), "interrupted" (a training backup to resume from),
    "finished" (metrics.json and no backup) or "started" (a config, no backup yet: nothing to
    resume, a fresh start)."""
    if (folder / "backup").exists():
        return "interrupted"
    if (folder / "metrics.json").exists():
        return "finished"
    return "started" if (folder / "config.toml").exists() else "empty"


@contextlib.contextmanager
def claim(folder, run_config: Mapping[str, Any], *, overwrite: bool = False,
          resume_with_changes: bool = False) -> Iterator[str]:
    """Own ``folder`` (created) for one run of ``run_config`` (``config_to_dict`` of the run).

    Yields "fresh" (start from epoch 0 on an emptied or new folder) or "resume" (continue the
    backup there). Raises :class:`RunFolderError` when another process holds the folder, when it
    holds a finished run, or when its interrupted run was started with another config (unless
    the options allow it, see the module docstring).
    """
    import tomllib

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder):
        _remove_partial_writes(folder)
        found = state(folder)
        if overwrite or found in ("empty", "started"):  # nothing to resume or keep
            _clear(folder)
            yield "fresh"
            return
        if found == "finished":
            raise RunFolderError(f"run folder {str(folder)!r} already holds a finished run; pass --overwrite "
                                 "(output.overwrite = true) to replace it, or write to another folder (--out)")
        try:
            saved = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise RunFolderError(f"run folder {str(folder)!r} holds an interrupted run whose config.toml cannot "
                                 f"be read ({e}); pass --overwrite to start afresh") from None
        changed = changed_keys(saved, run_config)
        unsafe = [k for k in changed if not (resume_with_changes and k in SAFE_TO_CHANGE)]
        if unsafe:
            hint = ("; of these only " + ", ".join(SAFE_TO_CHANGE) + " may change with --resume-with-changes"
                    if resume_with_changes else
                    f"; --overwrite starts afresh, --resume-with-changes allows {', '.join(SAFE_TO_CHANGE)}")
            raise RunFolderError(
                f"run folder {str(folder)!r} holds an interrupted run started with another config: "
                + "; ".join(_describe(k, saved, run_config) for k in unsafe) + hint)
        yield "resume"
