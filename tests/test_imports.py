"""The library's dependency rule, read from the source: every import (at module level or inside a
function; ``if TYPE_CHECKING:`` blocks excepted) of every module under ``dlic_lib``.

* no import cycles between modules;
* only ``dlic_lib.studies`` and ``dlic_lib.cli`` (and ``train`` itself) import ``dlic_lib.train``;
* ``codecs``, ``models``, ``zoo`` and ``metrics`` never import ``train``; ``models`` never imports
  ``zoo`` or ``codecs``; ``zoo`` never imports ``codecs``.

Modules added later are covered without editing this file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "dlic_lib"

#: package → the packages it must never import
FORBIDDEN = {
    "dlic_lib.models": ("dlic_lib.train", "dlic_lib.zoo", "dlic_lib.codecs", "dlic_lib.studies", "dlic_lib.cli"),
    "dlic_lib.zoo": ("dlic_lib.train", "dlic_lib.codecs", "dlic_lib.studies", "dlic_lib.cli"),
    "dlic_lib.codecs": ("dlic_lib.train", "dlic_lib.studies", "dlic_lib.cli"),
    "dlic_lib.metrics": ("dlic_lib.train", "dlic_lib.codecs", "dlic_lib.studies", "dlic_lib.cli"),
}
#: package → the only packages that may import it (besides itself)
IMPORTED_ONLY_BY = {"dlic_lib.train": ("dlic_lib.studies", "dlic_lib.cli")}
#: cycles still to be removed, each named with its modules (the list only ever shrinks)
KNOWN_CYCLES: list[list[str]] = []


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every Import/ImportFrom node, skipping ``if TYPE_CHECKING:`` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """Module → the library modules it imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    files = {_module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                bases = [a.name for a in node.names]
                names: list[str] = []
            else:
                if node.level:
                    anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                bases, names = [base], [a.name for a in node.names]
            for base in bases:
                if base != package and not base.startswith(package + "."):
                    continue
                subs = [f"{base}.{n}" for n in names if f"{base}.{n}" in files]
                if subs:
                    targets.update(subs)
                if not subs or len(subs) < len(names):
                    module = base
                    while module and module not in files:  # ``import a.b.c`` of a name below a module
                        module = module.rpartition(".")[0]
                    if module:
                        targets.add(module)
        targets.discard(name)
        graph[name] = targets
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    import sys

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(graph: dict[str, set[str]]) -> list[str]:
    """``importer -> imported`` pairs that break :data:`FORBIDDEN` or :data:`IMPORTED_ONLY_BY`."""
    out = []
    for importer, targets in sorted(graph.items()):
        for target in sorted(targets):
            for package, banned in FORBIDDEN.items():
                if _within(importer, package) and any(_within(target, b) for b in banned):
                    out.append(f"{importer} -> {target}")
            for package, allowed in IMPORTED_ONLY_BY.items():
                if _within(target, package) and not _within(importer, package) and not any(_within(importer, a) for a in allowed):
                    out.append(f"{importer} -> {target}")
    return sorted(set(out))


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_graph_sees_imports_inside_functions(graph):
    assert "dlic_lib.zoo" in graph["dlic_lib.codecs.learned"]  # imported inside methods only
    assert "dlic_lib.train.task" in graph["dlic_lib.train.engine"] and "dlic_lib.train.tasks.rd" in graph["dlic_lib.train.engine"]
    assert "dlic_lib.models.registry" in graph["dlic_lib.models.compressai_models"]
    assert len(graph) > 50


def test_no_import_cycles(graph):
    cycles = [c for c in find_cycles(graph) if c not in KNOWN_CYCLES]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_dependency_directions(graph):
    bad = violations(graph)
    assert not bad, "forbidden imports: " + ", ".join(bad)


def test_the_checks_catch_what_they_look_for(tmp_path):
    """A small package with a cycle through a function-level import and a codec importing train."""
    pkg = tmp_path / PACKAGE
    for folder in ("codecs", "train"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    (pkg / "codecs" / "c.py").write_text("def g():\n    from ..train import engine\n")
    (pkg / "train" / "engine.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..codecs import c\n")
    g = import_graph(tmp_path)
    assert find_cycles(g) == [["dlic_lib.a", "dlic_lib.b"]]
    assert violations(g) == ["dlic_lib.codecs.c -> dlic_lib.train.engine"]
