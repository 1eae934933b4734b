"""Every public layer, physics profile and model has an Example section (keras-hub style), and
every example runs as written (on the backend of the run)."""

import importlib
import inspect
import re

import pytest

_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _public():
    """(qualified name, object) of each public class of lensml.layers / physics / models, every
    registered model's builder, and the modules whose docstring teaches by example."""
    import lensml.models as M
    from lensml.models.registry import _entry

    out = []
    for package in ("lensml.layers", "lensml.physics", "lensml.models"):
        module = importlib.import_module(package)
        out += [(f"{package}.{n}", getattr(module, n)) for n in module.__all__ if inspect.isclass(getattr(module, n))]
    out += [(f"lensml.models.build({n!r})", _entry(n).features) for n in M.available()]
    out += [(m, importlib.import_module(m)) for m in ("lensml.ssl.heads", "lensml.simulation.cosmology")]
    return out


PUBLIC = _public()


def test_every_public_layer_profile_and_model_has_an_example():
    missing = [name for name, obj in PUBLIC if not _BLOCK.search(inspect.getdoc(obj) or "")]
    assert not missing, f"no ```python Example in the docstring of: {missing}"
    assert len(PUBLIC) > 60


@pytest.mark.parametrize("name,obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_the_example_runs(name, obj):
    for code in _BLOCK.findall(inspect.getdoc(obj) or ""):
        exec(compile(code, f"<example of {name}>", "exec"), {})
