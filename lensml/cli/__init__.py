"""The ``lensml`` command line.

Each sub-command lives in its own module under :mod:`lensml.cli`
and exposes two functions::

    add_arguments(parser: argparse.ArgumentParser) -> None
    main(args: argparse.Namespace) -> int

The modules are imported lazily, so ``lensml --help`` does not pay for importing
TensorFlow or JAX. Nothing in lensml imports this module.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Order is the order shown by ``lensml --help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("lensml.cli.demo", "ray-trace one lens and write a PNG (physics demo)"),
    "quickstart": ("lensml.cli.quickstart", "build a small dataset, train two models, write a report"),
    "simulate": ("lensml.cli.simulate", "simulate a DeepLense-style dataset"),
    "train": ("lensml.cli.train", "train a model from an experiment config"),
    "pretrain": ("lensml.cli.pretrain", "self-supervised pretraining from a config"),
    "finetune": ("lensml.cli.finetune", "fine-tune or linear-probe a pretrained encoder"),
    "evaluate": ("lensml.cli.evaluate", "evaluate a saved model under the protocol"),
    "predict": ("lensml.cli.predict", "apply a saved model to your own images (FITS, .npy, PNG)"),
    "compare": ("lensml.cli.compare", "put several evaluation runs side by side"),
    "tune": ("lensml.cli.tune", "run or resume an Optuna study"),
    "benchmark": ("lensml.cli.benchmark", "speed benchmarks and paper reproduction"),
}


def _available() -> dict[str, tuple[str, str]]:
    """Commands whose module exists in this installation."""
    found = {}
    for name, (module, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module) is not None:
            found[name] = (module, help_text)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lensml",
        description="Physics-informed deep learning for strong gravitational lensing (Keras 3).",
    )
    parser.add_argument(
        "--backend",
        choices=["tensorflow", "jax"],
        default=None,
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow). Must come before the sub-command.",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's, XLA's and absl's start-up logs (hidden by default: lensml._quiet). "
        "Must come before the sub-command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in _available().items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def _verbose_option(argv: list[str]) -> bool:
    """Whether ``--verbose`` comes before the sub-command."""
    for arg in argv:
        if arg == "--verbose":
            return True
        if not arg.startswith("-") and arg not in ("tensorflow", "jax"):  # the sub-command
            return False
    return False


def _backend_option(argv: list[str]) -> str | None:
    """The value of ``--backend X`` or ``--backend=X`` before the sub-command (None if absent)."""
    for i, arg in enumerate(argv):
        if arg == "--backend":
            return argv[i + 1] if i + 1 < len(argv) else None
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
        if not arg.startswith("-"):  # the sub-command: its own options follow
            return None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The backend must be fixed before keras is first imported, which happens when the
    # sub-command modules are imported to build the parser.
    backend = _backend_option(argv)
    if backend is not None:
        import os

        os.environ["KERAS_BACKEND"] = backend
    from lensml._backend import check_backend

    try:
        check_backend()
    except ImportError as e:
        print(f"lensml: error: {e}", file=sys.stderr)
        return 2
    from lensml._quiet import quiet_startup

    quiet_startup(_verbose_option(argv))  # before the sub-commands import Keras
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    return int(importlib.import_module(args._module).main(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
