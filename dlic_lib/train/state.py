"""What the Trainer needs to stop and continue exactly: atomic state files, RNG states, stop signals."""

from __future__ import annotations

import random
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DlicError

__all__ = ["STATE_FORMAT", "atomic_torch_save", "read_state", "state_blob", "restore_state", "rng_state", "set_rng_state",
           "seed_everything", "StopFlag"]

STATE_FORMAT = "dlic-train-state/2"


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file next to ``path``, flushed, then renamed over it.

    A reader (or a run killed with SIGKILL at any moment) sees the old file or the new one, never half of one.
    The bytes depend on ``obj`` alone: the archive is built in memory (``torch.save`` to a file names
    the archive's root folder after that file, here a random temporary name), so equal content gives
    an equal sha256.
    """
    import io

    import torch

    from ..outputs import write_bytes

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return write_bytes(path, buffer.getvalue(), what="training file")


def read_state(path: Path, migrate: Callable[[dict], dict]) -> dict | None:
    """The training state saved at ``path`` (``None`` if there is none); other formats go through ``migrate``."""
    import torch

    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)  # our own file
    except Exception as exc:  # noqa: BLE001 - any unreadable state is reported the same way
        raise DlicError(f"training state {path} is unreadable ({type(exc).__name__}); start over with --restart") from None
    if not isinstance(state, dict):
        raise DlicError(f"training state {path} is unreadable; start over with --restart")
    return state if state.get("format") == STATE_FORMAT else migrate(state)


def state_blob(trainer, sampler, window: dict, finished: bool, extra: dict | None) -> dict:
    """Everything a :class:`~dlic_lib.train.task.Trainer` needs to continue bit for bit."""
    return {
        "format": STATE_FORMAT, "task": trainer.task.name, "config": trainer.task.config(), "step": trainer.step,
        "finished": finished, "elapsed_s": trainer.elapsed_s,
        "nets": {k: v.state_dict() for k, v in trainer.nets.items()},
        "optimizers": {k: v.state_dict() for k, v in trainer.optimizers.items()},
        "schedulers": {k: v.state_dict() for k, v in trainer.schedulers.items()},
        "sampler": sampler.state_dict(), "rng": rng_state(trainer.device), "task_state": trainer.task.state_dict(),
        "window": {"n": window["n"], "sums": {k: float(v) for k, v in window["sums"].items()}},
        "log_rows": trainer.log.rows, **(extra or {}),
    }


def restore_state(trainer, state: dict, sampler) -> dict:
    """Load ``state`` into the trainer's objects, the sampler, the RNGs and the task; return the log window."""
    for group in ("nets", "optimizers", "schedulers"):
        objects, saved = getattr(trainer, group), state.get(group, {})
        if set(saved) != set(objects):
            raise DlicError(f"training state {trainer.state_path} holds {group} {sorted(saved)}, the task builds {sorted(objects)}; "
                            "start over with --restart")
        for name, obj in objects.items():
            obj.load_state_dict(saved[name])
    sampler.load_state_dict(state["sampler"])
    set_rng_state(state.get("rng", {}), trainer.device)
    trainer.task.load_state_dict(state.get("task_state") or {})
    trainer.step, trainer._elapsed = int(state["step"]), float(state.get("elapsed_s", 0.0))
    trainer.log.rows = list(state.get("log_rows", []))
    window = state.get("window") or {"n": 0, "sums": {}}
    return {"n": int(window["n"]), "sums": dict(window["sums"])}


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
