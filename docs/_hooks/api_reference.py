"""MkDocs hooks: the API reference pages list every public name of a lensml package, and the
committed benchmark figures are served beside the result pages that show them.

An API page holds one line ``<!-- api: lensml.physics -->``; this hook replaces it with a
mkdocstrings directive (``::: lensml.physics.poisson.PoissonSolver``) for each name in the
package's ``__all__``, pointing at the module that defines it. lensml's packages load their
names on first use (PEP 562), which static analysis cannot follow, so the names are resolved by
importing the package. A public function or class without a docstring is a warning, which
``mkdocs build --strict`` turns into a failed build.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
import sys

log = logging.getLogger("mkdocs.plugins.lensml_api")
MARKER = re.compile(r"^<!-- api: ([\w.]+) -->$", re.MULTILINE)


def defining_path(package: str, name: str) -> str:
    """The dotted path mkdocstrings should render for ``package.name``."""
    module = importlib.import_module(package)
    obj = getattr(module, name)
    if inspect.ismodule(obj):
        return obj.__name__
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return f"{obj.__module__}.{obj.__qualname__}"
    # A constant: the deepest lensml module that holds the same object (where it is defined).
    holders = [m for m, mod in list(sys.modules.items())
               if m.startswith(package) and mod is not None and vars(mod).get(name) is obj]
    return f"{max(holders, key=lambda m: m.count('.'))}.{name}"


def undocumented(package: str, name: str) -> bool:
    obj = getattr(importlib.import_module(package), name)
    if inspect.isclass(obj):
        return not (obj.__dict__.get("__doc__") or "").strip()
    if inspect.isfunction(obj) or inspect.ismodule(obj):
        return not (obj.__doc__ or "").strip()
    return False  # constants are documented by their module


def expand(package: str) -> str:
    names = list(importlib.import_module(package).__all__)
    missing = [n for n in names if undocumented(package, n)]
    if missing:
        log.warning("%s: public names without a docstring: %s", package, ", ".join(missing))
    blocks = []
    for name in names:
        blocks.append(f"::: {defining_path(package, name)}\n    options:\n      heading_level: 2\n"
                      f"      show_root_full_path: false\n")
    return "\n".join(blocks)


def on_files(files, config):
    """``benchmarks/results/**/*.png`` as ``results/**/*.png``: the result pages include the
    committed Markdown files by snippet and show their figures without copying them into docs/."""
    from pathlib import Path

    from mkdocs.structure.files import File

    results = Path(config["config_file_path"]).parent / "benchmarks" / "results"
    for png in sorted(results.rglob("*.png")):
        files.append(File.generated(config, f"results/{png.relative_to(results).as_posix()}", abs_src_path=str(png)))
    return files


def on_page_markdown(markdown, page, config, files):
    return MARKER.sub(lambda m: expand(m.group(1)), markdown)
