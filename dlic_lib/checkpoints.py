"""The rate–distortion names of the checkpoint zoo (``model``, ``metric``, ``quality``).

Thin wrappers of :mod:`dlic_lib.zoo` for CompressAI rate–distortion entries (``task="rd"``); new
code uses the zoo directly. Entries are :class:`dlic_lib.zoo.ZooEntry` (``.model``, ``.metric``,
``.quality``, ``.lmbda``, ``.N``, ``.M`` read its fields under these names).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import zoo
from .zoo import RELEASE_FORMAT as CHECKPOINT_FORMAT
from .zoo import ZooEntry as CheckpointEntry
from .zoo import load_release, registry_path

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["CheckpointEntry", "CHECKPOINT_FORMAT", "registry_path", "list_checkpoints", "find_checkpoint", "load_codec_model",
           "load_release", "register_checkpoint", "missing_checkpoint_message"]


def list_checkpoints(model: str | None = None, metric: str | None = None) -> list[CheckpointEntry]:
    """Every rate–distortion entry (this machine's registry first, then the manifest), optionally filtered."""
    return zoo.entries(model, task="rd", objective=metric)


def find_checkpoint(model: str, metric: str, quality: int, profile: str | None = None) -> CheckpointEntry | None:
    """The best entry for ``(model, metric, quality)``: the longest-trained one, local before released."""
    return zoo.find(model, task="rd", objective=metric, rate_key={"quality": int(quality)}, profile=profile)


def missing_checkpoint_message(model: str, metric: str, quality: int) -> str:
    """One sentence naming the ``dlic train`` command that makes the missing checkpoint."""
    return zoo.missing_message(model, objective=metric, rate_key={"quality": int(quality)})


def load_codec_model(entry: CheckpointEntry, device: str = "cpu") -> "torch.nn.Module":
    """The trained model of ``entry`` in ``eval()`` mode with its entropy-coder tables (sha256 checked first)."""
    return zoo.load_model(entry, device=device)


def register_checkpoint(*, model: str, metric: str, quality: int, lmbda: float, N: int, M: int, path: str | Path,
                        sha256: str | None = None, config: dict | None = None, val: dict | None = None) -> CheckpointEntry:
    """Add (or replace: same model, metric, quality and profile) a trained checkpoint in this machine's registry."""
    entry = CheckpointEntry(model, metric, {"quality": int(quality), "lmbda": float(lmbda)}, Path(path), sha256 or "", "rd",
                            {"N": int(N), "M": int(M)}, dict(config or {}), dict(val or {}))
    return zoo.register(entry)
