"""The package as a user meets it: a light ``import lensml`` and ``lensml --help``, lazy
sub-packages, saved models that load after a plain ``import lensml``, the declared Python."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("keras", "tensorflow", "jax", "lenstronomy")


def _python(*codes: str, **env) -> str | list[str]:
    """The last line each program prints, each run by a fresh interpreter; several programs run
    at once (each is mostly a framework import)."""
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **env})
             for code in codes]
    lines = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        lines.append(out.strip().splitlines()[-1])
    return lines[0] if len(codes) == 1 else lines


def test_import_lensml_and_the_cli_parser_import_no_framework():
    loaded = _python("import sys, json, lensml, lensml.cli as cli, lensml.physics, lensml.simulation, "
                     "lensml.training, lensml.protocols\n"
                     "cli.build_parser(); lensml.simulation.get_family('model_ii_published').theta_E\n"
                     f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert json.loads(loaded) == []


@pytest.mark.slow
def test_subpackages_load_on_first_use_and_saved_models_load_after_import_lensml(tmp_path):
    path = tmp_path / "lenspinn.keras"
    # build and save through lazy attribute access only
    _python("import lensml\n"
            "m = lensml.models.build('lenspinn_small', (32, 32, 1), 3, embed_dim=16, num_heads=2, key_dim=8,"
            " mlp_dim=16, decoder_features=8, decoder_options={'alpha': 0.25, 'minimalistic': True})\n"
            f"m.save({str(path)!r}); print('saved')")
    orders = ("import lensml, keras", "import keras, lensml", "import lensml, lensml.data, keras")
    loaded = _python(*(f"{order}\nm = keras.saving.load_model({str(path)!r})\n"
                       "print(type(m.get_layer('tokens')).__name__)" for order in orders))
    assert loaded == ["ShiftedPatchTokenization"] * len(orders), dict(zip(orders, loaded))
    with pytest.raises(AttributeError, match="no attribute 'modles'"):
        import lensml

        lensml.modles  # noqa: B018


def test_declared_python_supports_what_the_code_imports():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # tomllib (lensml.training.config) is in the standard library from Python 3.11 on
    assert meta["requires-python"] == ">=3.11"
    assert "Python >= 3.11" in (ROOT / "README.md").read_text()


def test_backend_flag_with_equals(monkeypatch):
    from lensml import cli

    assert cli._backend_option(["--backend=jax", "train"]) == "jax"
    assert cli._backend_option(["--backend", "tensorflow", "train"]) == "tensorflow"
    assert cli._backend_option(["train", "--backend", "jax"]) is None  # not a global option there
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert cli.main(["--backend=jax"]) == 2  # no command: prints help
    assert os.environ["KERAS_BACKEND"] == "jax"
