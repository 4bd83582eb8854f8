"""Run the book's notebooks with papermill.

Notebooks are jupytext percent-format ``.py`` files in ``notebooks/`` (reviewable diffs). Running
one converts it to ``.ipynb`` in memory, injects papermill parameters (``profile`` plus any
``-p KEY VALUE``) after its ``parameters`` cell and executes it, writing the executed notebook
under ``book/_build/executed/`` (or a given path). Expensive results are cached by the library,
so a rerun after an interruption redoes only what was not finished.

Parameters are checked before anything runs (:func:`check_parameters`): a key the notebook's
``parameters`` cell does not define, a value of the wrong type or out of range is refused with
one line naming the parameter. While the notebook runs, the library's progress reports travel
through status files (:mod:`dlic_lib.progress`) and are drawn live in this process's terminal;
the executed notebook gets none of them.
"""

from __future__ import annotations

import ast
from contextlib import nullcontext
import tempfile
from pathlib import Path
from typing import Any

from .config import environment, project_root
from .errors import DlicError
from .profiles import CHAPTERS, PARAMETER_RULES, PROFILES, Rule, check_parameter, get_profile

__all__ = ["notebooks_dir", "list_notebooks", "find_notebook", "executed_dir", "run_notebook", "parse_parameter",
           "notebook_parameters", "check_parameters"]


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


def notebook_parameters(notebook: str | Path) -> dict[str, Any]:
    """The names and default values assigned in ``notebook``'s cell tagged ``parameters``."""
    import jupytext

    source = find_notebook(notebook)
    if source.suffix != ".py":
        raise DlicError(f"{source.name} is not a notebook of the book (jupytext .py file expected)")
    try:
        nb = jupytext.read(source)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise DlicError(f"{source.name} cannot be read as a notebook ({type(exc).__name__})") from None
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise DlicError(f"notebook {source.name} has no cell tagged 'parameters'")
    params: dict[str, Any] = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                params[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                params[node.targets[0].id] = None
    return params


def _rule(name: str, default: Any, chapter: str) -> Rule | None:
    """How a value of parameter ``name`` is checked: by name, by the chapter's setting, by its default."""
    if name in PARAMETER_RULES:
        return PARAMETER_RULES[name]
    like = CHAPTERS.get(chapter, {}).get("quick", {}).get(name, default)
    for kind in (bool, int, float, str):
        if isinstance(like, kind):
            return Rule(float if kind is int and isinstance(default, float) else kind)
    return None


def check_parameters(notebook: str | Path, profile: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` checked against ``notebook``'s parameters cell, :data:`PARAMETER_RULES` and the
    chapter's settings; the first bad one raises a one-line :class:`DlicError` naming it."""
    if profile not in PROFILES:
        get_profile(profile)  # raises the one-line error
    defaults = notebook_parameters(notebook)
    chapter = find_notebook(notebook).stem
    for name, value in parameters.items():
        if name == "profile":
            raise DlicError("parameter 'profile' is chosen with --profile, not -p")
        if name not in defaults:
            known = ", ".join(k for k in defaults if k != "profile") or "none"
            raise DlicError(f"unknown parameter {name!r} for {chapter}; it takes: {known}")
        if value is None:
            continue
        rule = _rule(name, defaults[name], chapter)
        if rule is not None:
            check_parameter(name, value, rule)
    return dict(parameters)


def run_notebook(
    notebook: str | Path,
    profile: str = "quick",
    parameters: dict[str, Any] | None = None,
    output: str | Path | None = None,
    *,
    progress: bool = True,
    timeout: int | None = None,
    label: str | None = None,
) -> Path:
    """Execute ``notebook`` at ``profile`` with ``parameters``; return the executed ``.ipynb`` path.

    With ``progress``, a live line on stderr shows ``label`` (default: the notebook's name), the
    elapsed time and what the notebook's library calls report (stage, step/total, ETA).
    """
    import jupytext
    import nbformat
    import papermill as pm

    from .progress import STATUS_DIR_ENV, Monitor

    get_profile(profile)  # validates the name before any work
    source = find_notebook(notebook)
    parameters = check_parameters(source, profile, dict(parameters or {}))
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
        status = Path(tmp) / "progress"
        status.mkdir()
        # the kernel inherits these: no debugger file-validation notice, progress to the status files
        env = {"PYDEVD_DISABLE_FILE_VALIDATION": "1", STATUS_DIR_ENV: str(status)}
        try:
            with environment(env), Monitor(status, label or source.stem) if progress else nullcontext():
                pm.execute_notebook(
                    str(staged),
                    str(partial),
                    parameters=params,
                    kernel_name="python3",
                    cwd=str(source.parent),
                    progress_bar=False,
                    execution_timeout=timeout,
                    log_output=False,
                    # the kernel's own log (a TCP-on-loopback notice, "parent exited") is not the reader's business
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                )
        except pm.PapermillExecutionError as exc:
            raise DlicError(
                f"notebook {source.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                f"(partial output kept in {partial})"
            ) from None
        _portable_metadata(partial, source.name, output.name)
        partial.replace(output)
    return output


def _portable_metadata(path: Path, input_name: str, output_name: str) -> None:
    """Keep the machine's folders out of the executed notebook: papermill records absolute paths."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("papermill", {})
    meta.update(input_path=input_name, output_path=output_name)
    nbformat.write(nb, path)
