"""Converters from a dataset's upstream download format to the tidy file the manifest names.

``sureal-py-to-csv``: Netflix sureal's dataset files are Python modules (``ref_videos``,
``dis_videos`` with one opinion score per subject in ``os``). They are parsed with :mod:`ast`
(never executed) into a tidy CSV ``subject, stimulus, content, score`` with subjects ``s01..sNN``
in the order of the ``os`` lists and ``stimulus`` the file name of the distorted video.
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Callable

from ..errors import DlicError

__all__ = ["CONVERTERS", "sureal_py_to_csv"]


def _evaluate(node: ast.AST, names: dict[str, object]) -> object:
    """Evaluate the literal subset sureal's data files use: literals, lists, dicts, names, string +."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [_evaluate(e, names) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_evaluate(e, names) for e in node.elts)
    if isinstance(node, ast.Dict):
        return {_evaluate(k, names): _evaluate(v, names) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _evaluate(node.left, names) + _evaluate(node.right, names)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, names)
    raise DlicError(f"unexpected expression in a sureal dataset file: {ast.dump(node)[:80]}")


def sureal_py_to_csv(source: bytes) -> bytes:
    """Convert a sureal raw dataset file (Python source) to the tidy CSV bytes."""
    try:
        tree = ast.parse(source.decode("utf-8"))
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise DlicError(f"not a sureal dataset file: {exc}") from None
    names: dict[str, object] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            names[stmt.targets[0].id] = _evaluate(stmt.value, names)
    if "ref_videos" not in names or "dis_videos" not in names:
        raise DlicError("not a sureal dataset file: ref_videos / dis_videos are missing")
    contents = {v["content_id"]: v["content_name"] for v in names["ref_videos"]}  # type: ignore[index]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["subject", "stimulus", "content", "score"])
    for video in names["dis_videos"]:  # type: ignore[union-attr]
        stimulus = str(video["path"]).rsplit("/", 1)[-1]
        for i, score in enumerate(video["os"]):
            writer.writerow([f"s{i + 1:02d}", stimulus, contents[video["content_id"]], float(score)])
    return out.getvalue().encode("utf-8")


CONVERTERS: dict[str, Callable[[bytes], bytes]] = {"sureal-py-to-csv": sureal_py_to_csv}
