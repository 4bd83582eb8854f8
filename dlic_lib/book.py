"""Build the Jupyter Book (1.x, Sphinx; builds offline) from executed notebooks.

The source pages in ``book/`` are staged with the executed notebooks (``chapters/``) and a local
copy of plotly.js (``_static/plotly.min.js``, loaded on every page), so the interactive figures
work in the built HTML without internet access.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .config import project_root
from .errors import DlicError
from .notebooks import executed_dir, list_notebooks, run_notebook
from .progress import format_eta

__all__ = ["book_dir", "plotly_js_path", "stage_book", "build_book"]


def book_dir() -> Path:
    return project_root() / "book"


def plotly_js_path() -> Path:
    """The plotly.min.js bundled with the installed ``plotly`` package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise DlicError(f"plotly.min.js not found in the installed plotly package ({path})")
    return path


def stage_book(executed: Path, stage: Path) -> Path:
    """Copy the book sources, executed notebooks and plotly.js into ``stage``."""
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(book_dir(), stage, ignore=shutil.ignore_patterns("_build", "chapters"))
    chapters = stage / "chapters"
    chapters.mkdir()
    for nb in list_notebooks():
        done = executed / f"{nb.stem}.ipynb"
        if not done.is_file():
            raise DlicError(f"executed notebook {done} is missing; run `dlic run {nb.stem}` first")
        shutil.copy2(done, chapters / done.name)
    (stage / "_static").mkdir(exist_ok=True)
    shutil.copy2(plotly_js_path(), stage / "_static" / "plotly.min.js")
    return stage


def _write_times(path: Path, chapters: list[dict]) -> None:
    """Record how long each chapter ran, and on what machine (read by ``benchmarks/book_time.py``)."""
    machine = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
               "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            machine["cpu_model"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    from .outputs import write_text

    write_text(path, json.dumps({"chapters": chapters, "machine": machine}, indent=1), what="timings file")


def build_book(profile: str = "quick", *, build_dir: Path | None = None, execute: bool = True, progress: bool = True) -> Path:
    """Execute every notebook at ``profile`` (unless ``execute=False``) and build the HTML book.

    Returns the folder holding ``index.html`` (``<build_dir>/_build/html``; ``build_dir`` defaults
    to ``book/``).
    """
    build_dir = Path(build_dir) if build_dir else book_dir()
    executed = executed_dir() if build_dir == book_dir() else build_dir / "_build" / "executed"
    if execute:
        notebooks = list_notebooks()
        times = []
        for i, nb in enumerate(notebooks, 1):
            start = time.perf_counter()
            run_notebook(nb, profile, output=executed / f"{nb.stem}.ipynb", progress=progress,
                         label=f"[{i}/{len(notebooks)}] {nb.stem} ({profile})")
            times.append({"chapter": nb.stem, "profile": profile, "seconds": round(time.perf_counter() - start, 1)})
            if progress:
                print(f"[{i}/{len(notebooks)}] {nb.stem} done in {format_eta(times[-1]['seconds'])}", file=sys.stderr,
                      flush=True)
        _write_times(executed / "book_time.json", times)
    stage = stage_book(executed, build_dir / "_build" / "source")
    if progress:
        print("building the HTML book (jupyter-book)", file=sys.stderr, flush=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(stage), "--path-output", str(build_dir), "--builder", "html"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise DlicError(f"jupyter-book build failed (exit {result.returncode}):\n{tail}")
    html = build_dir / "_build" / "html"
    if not (html / "index.html").is_file():
        raise DlicError(f"jupyter-book finished but {html / 'index.html'} is missing")
    return html
