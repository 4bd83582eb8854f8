"""The ``dlic`` command: a thin layer over the library.

Every module in this package that defines ``register(subparsers)`` adds its sub-commands; each
sub-command stores its handler as ``func`` (taking the parsed ``argparse.Namespace`` and returning
an exit code). Handlers import heavy libraries (torch, ...) lazily so that ``dlic --help`` is fast.
A :class:`~dlic_lib.errors.DlicError`, a usage error, a missing or unreadable file, a full disk
or exhausted memory becomes one line on stderr (``dlic: error: …``) and exit 2; any other
exception is reported the same way as an internal error, with exit 1 (``DLIC_DEBUG=1`` shows
its traceback). Warnings (e.g. an embedded default standing in for a dataset) are printed as
``dlic: warning: …``.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import pkgutil
import sys
import warnings
from collections.abc import Sequence

from .. import __version__
from ..errors import DlicError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error of the command."""

    def error(self, message: str):
        command = self.prog.removeprefix("dlic").strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"dlic: error: {where}{message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dlic", description="dlic: deep-learning image compression study book")
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
        # a group without a sub-command (e.g. ``dlic data``): name the sub-commands
        group = getattr(args, "_group_parser", None) or parser
        actions = [a for a in group._actions if isinstance(a, argparse._SubParsersAction)]
        choices = ", ".join(actions[0].choices) if actions else ""
        print(f"dlic: error: {group.prog}: choose a sub-command: {choices} (see '{group.prog} --help')", file=sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except DlicError as exc:
        print(f"dlic: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"dlic: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dlic: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("dlic: error: out of memory (try a smaller image or fewer images at once)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dlic: interrupted (completed work is kept and reused on the next run)", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user; DLIC_DEBUG=1 shows it
        if os.environ.get("DLIC_DEBUG"):
            raise
        text = str(exc).strip().splitlines()
        print(f"dlic: error: internal error ({type(exc).__name__}: {text[0] if text else 'no message'}); "
              "rerun with DLIC_DEBUG=1 for details", file=sys.stderr)
        return 1


def _os_error(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device{where}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied{where}"
    if exc.errno == errno.EISDIR:
        return f"expected a file, got a folder{where}"
    if exc.errno == errno.ENOTDIR:
        return f"a file is in the way of a folder{where}"
    return f"{what}{where}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
