"""What a training run exchanges with its task and its caller: the :class:`Sampler` a task supplies,
the :class:`Release` it hands over when done, the :class:`TrainResult` of a fit, and
:func:`file_identity`, the content-based name of a weights file a run starts from (hashed into run ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..data import sha256_file

__all__ = ["Sampler", "Release", "TrainResult", "file_identity"]

_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_identity(path: str | Path) -> str:
    """``"sha256:<hex>"`` of the file at ``path`` (remembered per path, size and mtime), or the path itself when
    there is no such file (a run cannot start from it; its settings check says so)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return str(path)
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = "sha256:" + sha256_file(path)
    return _DIGESTS[key]


class Sampler(Protocol):
    """A seeded stream of training batches that can be saved and restored between two batches."""

    def next_batch(self) -> Any: ...
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> None: ...


@dataclass
class Release:
    """What a finished task releases: the file's content and the zoo entry that describes it.

    ``entry`` holds :class:`dlic_lib.zoo.ZooEntry` fields (``architecture``, ``objective``,
    ``rate_key``, ``build``, ``config``; ``path``, ``sha256``, ``task`` and ``val`` are filled in).
    """

    blob: dict | None
    entry: dict = field(default_factory=dict)
    val: dict = field(default_factory=dict)


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` produced: run folder, steps done, the zoo entry once released, the log."""

    run_dir: Path
    step: int
    finished: bool
    entry: Any = None
    val: dict = field(default_factory=dict)
    log: Any = None  # pandas DataFrame
    config: Any = None  # the task's configuration object (``task.settings``)

    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.pt"
