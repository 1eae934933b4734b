"""The documentation site's sources: every public name documented and on an API page, every
page in the navigation, and nothing in the repository sends the reader to documents outside it.
The site itself is built (tutorials executed) by ``mkdocs build --strict`` in ``.ci/run``."""

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

import lensml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _hook():
    spec = importlib.util.spec_from_file_location("api_reference", DOCS / "_hooks" / "api_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("package", lensml.SUBPACKAGES)
def test_every_public_name_has_a_docstring_and_an_api_page(package):
    hook = _hook()
    name = f"lensml.{package}"
    page = (DOCS / "api" / f"{package}.md").read_text()
    assert f"<!-- api: {name} -->" in page
    module = importlib.import_module(name)
    assert module.__all__, f"{name} has no __all__"
    assert [n for n in module.__all__ if hook.undocumented(name, n)] == []
    for public in module.__all__:  # each resolves to a path mkdocstrings can render
        assert hook.defining_path(name, public).startswith("lensml.")


def test_the_undocumented_check_catches_a_missing_docstring(monkeypatch):
    hook = _hook()
    import lensml.physics as physics

    def bare(x):
        return x

    monkeypatch.setattr(physics, "pixel_grid", bare)
    assert hook.undocumented("lensml.physics", "pixel_grid")


def test_every_page_and_tutorial_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    pages |= {p.relative_to(DOCS).as_posix() for p in (DOCS / "tutorials").glob("*.py")}
    assert len([p for p in pages if p.startswith("tutorials/")]) >= 4
    assert sorted(p for p in pages if p not in nav) == []


def test_nothing_refers_to_documents_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(r"\b(DESIGN|REFERENCE)(\.md)?\b.{0,12}section|shared/seeds|\bseeds 00\d")
    hits = []
    for name in files:
        path = ROOT / name
        if name == "tests/test_docs.py" or not path.is_file() or path.suffix in {".png", ".h5", ".keras", ".npy"}:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        hits += [f"{name}: {m.group(0)}" for m in pattern.finditer(text)]
    assert hits == []
