"""``dlic run`` (one notebook with papermill) and ``dlic book`` (all notebooks + HTML)."""

from __future__ import annotations

import argparse

from ..profiles import PROFILE_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="execute one notebook with papermill at a profile")
    run.add_argument("notebook", help="path, file name, stem or number of a notebook in notebooks/")
    run.add_argument("--profile", default="quick", choices=PROFILE_NAMES)
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                     help="a papermill parameter (VALUE parsed as YAML); repeatable")
    run.add_argument("-o", "--output", help="executed notebook path (default book/_build/executed/<name>.ipynb)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="code grids and train networks on the Dask scheduler at "
                     "ADDRESS, e.g. tcp://host:8786 (default: DLIC_SCHEDULER, else this machine)")
    run.set_defaults(func=_run)

    book = subparsers.add_parser("book", help="execute every notebook and build the HTML book")
    book.add_argument("--profile", default="quick", choices=PROFILE_NAMES)
    book.add_argument("--no-execute", action="store_true", help="reuse the executed notebooks already in book/_build/executed")
    book.add_argument("--build-dir", help="where to build (default book/, giving book/_build/html)")
    book.add_argument("--scheduler", metavar="ADDRESS", help="code grids and train networks on the Dask scheduler at "
                      "ADDRESS, e.g. tcp://host:8786 (default: DLIC_SCHEDULER, else this machine)")
    book.set_defaults(func=_book)


def _run(args: argparse.Namespace) -> int:
    from ..notebooks import parse_parameter, run_notebook

    _use_scheduler(args)

    params = {key: parse_parameter(value) for key, value in args.parameter}
    out = run_notebook(args.notebook, args.profile, params, args.output)
    print(f"executed notebook: {out}")
    return 0


def _book(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..book import build_book

    _use_scheduler(args)

    html = build_book(args.profile, build_dir=Path(args.build_dir) if args.build_dir else None, execute=not args.no_execute)
    print(f"book built: {html / 'index.html'}")
    return 0


def _use_scheduler(args: argparse.Namespace) -> None:
    if args.scheduler:
        from ..executors import use_scheduler

        use_scheduler(args.scheduler)  # the notebooks' kernels inherit it
