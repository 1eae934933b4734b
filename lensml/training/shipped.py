"""What lensml ships besides code: the experiment configs of ``train/`` (the paper tables'
rows) and the scripts of ``benchmarks/``, as package data (``lensml/_shipped``: links to the
repository's folders in a checkout, their copies in an installed wheel), so that
``lensml benchmark reproduce`` and ``lensml benchmark speed`` run from any working directory."""

from __future__ import annotations

from pathlib import Path


def shipped_root() -> Path:
    """The folder holding ``train/`` and ``benchmarks/`` (the repository root's layout)."""
    import importlib.resources

    return Path(str(importlib.resources.files("lensml") / "_shipped"))
