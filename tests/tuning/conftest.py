"""A PostgreSQL server for the tuning tests that need one.

``LENSML_TEST_POSTGRES_URL`` names a running server (``.ci/run`` starts one with
``.ci/postgres``); otherwise the fixture starts its own with ``.ci/postgres`` when the server
binaries are installed. With neither, the PostgreSQL tests are skipped with a message saying
so, or fail when ``LENSML_REQUIRE_POSTGRES=1`` (CI sets it: there they must run).
"""

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _unavailable(why: str):
    msg = f"POSTGRESQL TESTS NOT RUN: {why}. Install Debian's postgresql package and `pip install -e '.[dev]'`, " \
          "or set LENSML_TEST_POSTGRES_URL"
    if os.environ.get("LENSML_REQUIRE_POSTGRES") == "1":
        pytest.fail(msg + " (LENSML_REQUIRE_POSTGRES=1)")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """``postgresql://...`` of a server on loopback, for the whole session."""
    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is None:
        _unavailable("no PostgreSQL driver (psycopg) is installed")
    url = os.environ.get("LENSML_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    folder = tmp_path_factory.mktemp("postgres")
    started = subprocess.run(["bash", str(ROOT / ".ci" / "postgres"), "start", str(folder)],
                             capture_output=True, text=True, timeout=180)
    if started.returncode != 0:
        _unavailable(f"no PostgreSQL server could be started ({started.stderr.strip()[-400:]})")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(ROOT / ".ci" / "postgres"), "stop", str(folder)], capture_output=True, timeout=120)
