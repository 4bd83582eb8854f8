"""One policy for every file the library writes.

Every writer in the library and every ``dlic`` command goes through this module, so an output
path behaves the same everywhere:

- **parents are created**; a parent that is a file, a target that is a folder, or a folder that
  cannot be written gives one readable :class:`OutputPathError`;
- **an input is never overwritten**: the target is compared with the inputs by resolved path
  and, when both exist, by device and inode (hard links, bind mounts);
- **writes are atomic**: the bytes go to a temporary file in the target's folder, are flushed
  to disk (``fsync``), then renamed over the target (``os.replace``), so a reader sees the old
  file or the new one, never half of one;
- **nothing is left behind on failure**: the temporary file is removed when the writer raises
  (or is interrupted), and the target keeps its previous content.

:func:`atomic_path` yields a temporary path for writers that want a path of their own
(``torch.save``, Pillow, pandas, FFmpeg). The temporary name ends in ``.part``, never in the
target's suffix (so a folder scan for ``*.png`` or ``*.json`` never picks up half a file): writers
that choose a format by extension must be told the format (Pillow ``format="PNG"``, FFmpeg
``-f``). :func:`atomic_paths` does the same for several outputs of one command, which appear
together or not at all.

Example
-------
>>> with atomic_path("out/model.pt") as tmp:        # doctest: +SKIP
...     torch.save(state, tmp)
>>> write_bytes("out/image.jxl", data, inputs=[source])   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import DlicError

__all__ = [
    "OutputPathError",
    "check_output",
    "prepare_output",
    "atomic_path",
    "atomic_paths",
    "write_bytes",
    "write_text",
    "write_table",
]

PathLike = str | os.PathLike


class OutputPathError(DlicError):
    """An output path cannot be used (it is a folder, its parent is a file, it is an input, ...)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def check_output(path: PathLike, *, inputs: Iterable[PathLike | None] = (), what: str = "output") -> Path:
    """Validate an output path without touching the disk; return it as a :class:`Path`.

    Raises :class:`OutputPathError` when the target is an existing folder, when a parent on the
    way is a file, or when the target is one of ``inputs`` (``None`` entries are skipped).
    """
    if path is None or str(path) == "":
        raise OutputPathError(f"{what} path is empty")
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{what} {path} is a folder; give a file name")
    if path.name in ("", ".", ".."):
        raise OutputPathError(f"{what} {path} does not name a file")
    if path.exists() and not path.is_file():  # a device, a pipe, a socket: renaming over it would replace it
        raise OutputPathError(f"{what} {path} is not a regular file; give a file name")
    for parent in path.parents:  # the nearest existing ancestor must be a folder
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise OutputPathError(f"cannot write {what} {path}: {parent} is a file, not a folder")
            break
    resolved = path.resolve()
    for item in inputs:
        if item is None:
            continue
        source = Path(item)
        if _same_file(resolved, source.resolve()):
            raise OutputPathError(f"{what} {path} is also an input ({source}); choose another file name")
    return path


def prepare_output(path: PathLike, *, inputs: Iterable[PathLike | None] = (), what: str = "output") -> Path:
    """:func:`check_output`, then create the missing parent folders."""
    path = check_output(path, inputs=inputs, what=what)
    _make_parents(path, what)
    return path


def _make_parents(path: Path, what: str) -> list[Path]:
    """Create the missing folders above ``path``; return them, deepest first."""
    missing = []
    for parent in path.parents:
        if parent.is_dir():
            break
        missing.append(parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputPathError(f"cannot create the folder of {what} {path}: a file is in the way") from None
    except OSError as exc:
        raise OutputPathError(f"cannot create the folder of {what} {path}: {exc.strerror or exc}") from None
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()


def _temp_in(path: Path, what: str) -> Path:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputPathError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    os.close(fd)
    return Path(tmp)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _commit(tmp: Path, path: Path, what: str) -> None:
    if not tmp.exists():
        raise OutputPathError(f"{what} {path} was not written (the writer produced no file)")
    _fsync_file(tmp)
    os.chmod(tmp, _FILE_MODE)
    try:
        os.replace(tmp, path)
    except IsADirectoryError:
        raise OutputPathError(f"{what} {path} is a folder; give a file name") from None
    except OSError as exc:
        raise OutputPathError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    _fsync_dir(path.parent)


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()


@contextlib.contextmanager
def atomic_paths(
    paths: Iterable[PathLike], *, inputs: Iterable[PathLike | None] = (), what: str = "output"
) -> Iterator[list[Path]]:
    """Yield one temporary path per target; on success rename them all over their targets.

    The targets are checked first (none may be an input, a folder or another target); if the
    body raises — or is interrupted — every temporary file and every folder created for the
    targets is removed, and no target changes.
    The temporary files exist (empty) when the body starts: writers such as FFmpeg must be
    allowed to overwrite (``-y``).
    """
    # a symbolic link stays a link: the file it points to is the one replaced
    targets = [Path(os.path.realpath(p)) if Path(p).is_symlink() else Path(p) for p in paths]
    inputs = [Path(p) for p in inputs if p is not None]
    for i, target in enumerate(targets):
        for other in targets[:i]:
            if _same_file(target.resolve(), other.resolve()):
                raise OutputPathError(f"{what} {target} is given twice; every output needs its own file")
        check_output(target, inputs=inputs, what=what)
    created: list[Path] = []
    temps: list[Path] = []
    done = False
    try:
        for target in targets:
            created = _make_parents(target, what) + created
        for target in targets:
            temps.append(_temp_in(target, what))
        yield list(temps)
        for tmp, target in zip(temps, targets):
            _commit(tmp, target, what)
        done = True
    finally:
        for tmp in temps:
            if tmp.exists():
                _discard(tmp)
        if not done:
            _remove_empty(sorted(set(created), key=lambda p: len(p.parts), reverse=True))


@contextlib.contextmanager
def atomic_path(path: PathLike, *, inputs: Iterable[PathLike | None] = (), what: str = "output") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` when the body succeeds.

    See :func:`atomic_paths` (this is the one-target case).
    """
    with atomic_paths([path], inputs=inputs, what=what) as (tmp,):
        yield tmp


def write_bytes(path: PathLike, data: bytes, *, inputs: Iterable[PathLike | None] = (), what: str = "output") -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); return ``Path(path)``."""
    with atomic_path(path, inputs=inputs, what=what) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(path)


def write_text(
    path: PathLike, text: str, *, inputs: Iterable[PathLike | None] = (), what: str = "output", encoding: str = "utf-8"
) -> Path:
    """Write ``text`` to ``path`` atomically; return ``Path(path)``."""
    return write_bytes(path, text.encode(encoding), inputs=inputs, what=what)


def write_table(
    table: Any, path: PathLike, *, inputs: Iterable[PathLike | None] = (), what: str = "table"
) -> Path:
    """Write a DataFrame as Parquet (``.parquet``/``.pq``) or CSV (any other suffix), atomically."""
    path = Path(path)
    with atomic_path(path, inputs=inputs, what=what) as tmp:
        if path.suffix.lower() in (".parquet", ".pq"):
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)
    return path
