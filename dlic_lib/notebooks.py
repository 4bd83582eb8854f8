"""Run the book's notebooks with papermill.

Notebooks are jupytext percent-format ``.py`` files in ``notebooks/`` (reviewable diffs). Running
one converts it to ``.ipynb`` in memory, injects papermill parameters (``profile`` plus any
``-p KEY VALUE``) after its ``parameters`` cell and executes it, writing the executed notebook
under ``book/_build/executed/`` (or a given path). Expensive results are cached by the library,
so a rerun after an interruption redoes only what was not finished.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from .config import project_root
from .errors import DlicError
from .profiles import get_profile

__all__ = ["notebooks_dir", "list_notebooks", "find_notebook", "executed_dir", "run_notebook", "parse_parameter"]


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def executed_dir() -> Path:
    return project_root() / "book" / "_build" / "executed"


def list_notebooks() -> list[Path]:
    """The book's notebooks in chapter order (file names start with their number)."""
    return sorted(p for p in notebooks_dir().glob("[0-9]*.py"))


def find_notebook(name: str | Path) -> Path:
    """A notebook by path, file name, stem, or number prefix (``00``, ``00_datasets``)."""
    path = Path(name)
    if path.is_file():
        return path
    for candidate in list_notebooks():
        if str(name) in (candidate.name, candidate.stem) or candidate.stem.split("_", 1)[0] == str(name):
            return candidate
    known = ", ".join(p.stem for p in list_notebooks()) or "none"
    raise DlicError(f"notebook {str(name)!r} not found; known notebooks: {known}")


def parse_parameter(value: str) -> Any:
    """Interpret a ``-p KEY VALUE`` value as YAML (numbers, booleans, lists), else a string."""
    import yaml

    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return value if parsed is None and value.strip().lower() not in {"null", "none", "~"} else parsed


def run_notebook(
    notebook: str | Path,
    profile: str = "quick",
    parameters: dict[str, Any] | None = None,
    output: str | Path | None = None,
    *,
    progress: bool = True,
    timeout: int | None = None,
) -> Path:
    """Execute ``notebook`` at ``profile`` with ``parameters``; return the executed ``.ipynb`` path."""
    import jupytext
    import nbformat
    import papermill as pm

    get_profile(profile)  # validates the name before any work
    source = find_notebook(notebook)
    output = Path(output) if output else executed_dir() / f"{source.stem}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        raise DlicError(f"notebook {source} has no cell tagged 'parameters'")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = {"profile": profile, **(parameters or {})}
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / f"{source.stem}.ipynb"
        nbformat.write(nb, staged)
        partial = output.with_name(output.stem + ".part.ipynb")
        env_before = os.environ.get("PYDEVD_DISABLE_FILE_VALIDATION")
        os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        try:
            pm.execute_notebook(
                str(staged),
                str(partial),
                parameters=params,
                kernel_name="python3",
                cwd=str(source.parent),
                progress_bar=progress,
                execution_timeout=timeout,
                log_output=False,
            )
        except pm.PapermillExecutionError as exc:
            raise DlicError(
                f"notebook {source.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                f"(partial output kept in {partial})"
            ) from None
        finally:
            if env_before is None:
                os.environ.pop("PYDEVD_DISABLE_FILE_VALIDATION", None)
        partial.replace(output)
    return output
