"""What the Trainer needs to stop and continue exactly: atomic state files, RNG states, stop signals."""

from __future__ import annotations

import random
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_torch_save", "rng_state", "set_rng_state", "seed_everything", "StopFlag"]


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file next to ``path``, flushed, then renamed over it.

    A reader (or a run killed with SIGKILL at any moment) sees the old file or the new one, never half of one.
    """
    import torch

    from ..outputs import atomic_path

    with atomic_path(path, what="training file") as tmp:
        torch.save(obj, tmp)
    return Path(path)


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's legacy and torch's (CPU and CUDA) generators with ``seed``."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state(device: str) -> dict:
    """Every global generator a training step may draw from (torch CPU/CUDA, numpy, Python)."""
    import torch

    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(torch.device(device)) if device.startswith("cuda") else None,
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def set_rng_state(state: dict, device: str) -> None:
    """Restore what :func:`rng_state` saved (missing entries are left alone)."""
    import torch

    if state.get("torch") is not None:
        torch.set_rng_state(state["torch"])
    if device.startswith("cuda") and state.get("cuda") is not None:
        torch.cuda.set_rng_state(state["cuda"], torch.device(device))
    if state.get("numpy") is not None:
        np.random.set_state(state["numpy"])
    if state.get("python") is not None:
        random.setstate(state["python"])


class StopFlag:
    """Turns SIGINT/SIGTERM into a request to stop at the next step boundary; a second signal stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict = {}

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> bool:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False
