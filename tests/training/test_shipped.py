"""The configs and benchmark scripts lensml ships as package data (lensml/_shipped)."""

import tomllib
from pathlib import Path

from lensml.protocols.reproduce import TABLES, unavailable_reason
from lensml.training.shipped import shipped_root
from lensml.protocols.speed import find_scripts

ROOT = Path(__file__).resolve().parents[2]


def test_every_table_row_resolves_in_the_shipped_configs():
    root = shipped_root()
    assert (root / "train" / "resnet18_model_ii_3k.toml").is_file()
    for table in TABLES.values():
        for row in table.rows:
            assert unavailable_reason(row, root) is None or row.config is None, row.label


def test_the_shipped_benchmarks_are_the_repository_s():
    scripts = [p.name for p in find_scripts(shipped_root() / "benchmarks")]
    assert scripts == [p.name for p in find_scripts(ROOT / "benchmarks")] and "bench_models.py" in scripts


def test_package_data_globs_cover_the_shipped_files():
    # pyproject's package-data decides what a wheel copies: every config and script must match.
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lensml"]
    lensml = ROOT / "lensml"
    matched = {p for g in globs for p in lensml.glob(g)}
    wanted = set((lensml / "_shipped" / "train").glob("**/*.toml")) | set(find_scripts(lensml / "_shipped" / "benchmarks"))
    assert wanted and wanted <= matched
