"""The ``dlic`` command: a thin layer over the library.

Every module in this package that defines ``register(subparsers)`` adds its sub-commands; each
sub-command stores its handler as ``func`` (taking the parsed ``argparse.Namespace`` and returning
an exit code). Handlers import heavy libraries (torch, ...) lazily so that ``dlic --help`` is fast.
A :class:`~dlic_lib.errors.DlicError` (or a missing file) becomes one line on stderr and exit 2;
warnings (e.g. an embedded default standing in for a dataset) are printed as ``dlic: warning: …``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Sequence

from .. import __version__
from ..errors import DlicError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlic", description="dlic: deep-learning image compression study book")
    parser.add_argument("--version", action="version", version=f"dlic {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"dlic: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        # a group without a sub-command (e.g. ``dlic data``): show that group's help
        (getattr(args, "_group_parser", None) or parser).print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except DlicError as exc:
        print(f"dlic: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"dlic: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dlic: interrupted (completed work is kept and reused on the next run)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
