"""One training engine for every network of the book: a :class:`Task` says *what* to learn, the
:class:`Trainer` says *how* to loop.

The Trainer owns what does not depend on the network: seeding, exact resumption (every network,
optimiser, scheduler, the sampler, torch/numpy/Python RNG states, the task's own state, the log and
the step), atomic state files (a run killed with SIGKILL at any moment continues from its last
state), SIGINT/SIGTERM stopping at a step boundary, the bfloat16-autocast and channels-last policy,
a tidy log (``log.csv``, ``log.parquet``) and the release (an atomically written file registered in
the checkpoint zoo). A Task supplies the rest; its ``train_step`` does its own ``backward`` and
``step`` calls, so several optimisers and alternating updates of two networks need nothing special.

A run lives in ``<checkpoint_dir>/runs/<task.run_id()>/``: ``state.pt``, ``log.csv`` and, once
finished, ``release.pt``.

Example::

    import torch
    from dlic_lib.train.task import Release, Task, Trainer

    class Denoiser(Task):
        name = "toy-denoise"
        log_every, val_every, ckpt_every = 10, 50, 20

        def __init__(self, steps=100, seed=0):
            self.steps, self.seed = steps, seed

        def config(self):                        # everything that determines the run (→ run id)
            return {"steps": self.steps, "seed": self.seed}

        def build(self, trainer):                # named networks (torch is seeded with self.seed)
            return {"net": torch.nn.Conv2d(3, 3, 3, padding=1)}

        def optimizers(self, nets):
            return {"adam": torch.optim.Adam(nets["net"].parameters(), lr=1e-3)}

        def sampler(self, trainer):              # next_batch(), state_dict(), load_state_dict()
            return MySeededSampler(self.seed)

        def train_step(self, batch, trainer):
            net, opt = trainer.nets["net"], trainer.optimizers["adam"]
            x = trainer.to_device(batch)
            opt.zero_grad()
            with trainer.autocast():
                loss = torch.mean((net(x + 0.1 * torch.randn_like(x)) - x) ** 2)
            loss.backward()
            opt.step()
            return {"loss": loss}                # summed between log rows, logged as means

        def release(self, trainer):
            return Release(blob={"state_dict": trainer.nets["net"].state_dict()},
                           entry=dict(architecture="my-cnn", objective="mse", rate_key={}))

    result = Trainer(Denoiser(steps=100)).fit()  # resumes by itself when run again
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

from ..errors import DlicError
from .log import TrainLog
from .records import Release, Sampler, TrainResult, file_identity
from .state import STATE_FORMAT, StopFlag, atomic_torch_save, read_state, restore_state, seed_everything, state_blob

__all__ = ["Task", "Trainer", "Release", "TrainResult", "Sampler", "STATE_FORMAT"]


class Task(abc.ABC):
    """What one kind of network learns; the :class:`Trainer` runs it (see the module docstring).

    Attributes read by the Trainer: ``name`` (the task family, e.g. ``"rd"``), ``seed``, the total
    number of ``steps``, and the intervals ``log_every``, ``val_every``, ``ckpt_every`` (steps) and
    ``ckpt_seconds`` (a state is also saved when that much time passed since the last one).
    """

    name: str = "task"
    seed: int = 0
    steps: int = 1
    log_every: int = 25
    val_every: int = 500
    ckpt_every: int = 500
    ckpt_seconds: float = 120.0

    # -- identity ------------------------------------------------------------------------------
    @abc.abstractmethod
    def config(self) -> dict:
        """JSON-serialisable settings that determine what is trained (hashed into the run id)."""

    #: ``config()`` keys that name a weights file the run starts from: the run id hashes the file's
    #: content, not where it lies, so a moved data folder finds its finished runs
    start_files: tuple[str, ...] = ()

    def identity(self) -> dict:
        """What the run id hashes: ``config()`` with every :attr:`start_files` path replaced by its file's sha256."""
        ident = dict(self.config())
        for key in self.start_files:
            if ident.get(key):
                ident[key] = file_identity(ident[key])
        return ident

    def run_id(self) -> str:
        """The run folder's name: ``<name>-<10 hex digits of the sha256 of identity()>``."""
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True, default=str).encode()).hexdigest()[:10]
        return f"{self.name}-{digest}"

    def log_params(self) -> dict:
        """Run parameters repeated in every log row (default: the scalar settings of ``config()``)."""
        return {k: v for k, v in self.config().items() if isinstance(v, (str, int, float, bool)) or v is None}

    log_columns: tuple[str, ...] | None = None  #: fixed measured log columns (default: as they come)

    @property
    def settings(self) -> Any:
        """The configuration object handed back in :attr:`TrainResult.config` (default: ``config()``)."""
        return self.config()

    def describe(self) -> str:
        """Label of the progress bar."""
        return self.run_id()

    # -- building ------------------------------------------------------------------------------
    def setup(self, trainer: "Trainer") -> None:
        """Load data or anything else needed before building (called once per :meth:`Trainer.fit`)."""

    @abc.abstractmethod
    def build(self, trainer: "Trainer") -> dict:
        """Freshly initialised named networks (``torch`` is seeded with ``seed`` just before).

        ``trainer.resuming`` tells whether their weights will be replaced by a saved state. The
        Trainer moves them to ``trainer.device`` (channels-last when ``trainer.channels_last``).
        """

    @abc.abstractmethod
    def optimizers(self, nets: dict) -> dict:
        """Named optimisers over the networks' parameters (several allowed)."""

    def schedulers(self, optimizers: dict) -> dict:
        """Named learning-rate schedulers (stepped by the task in ``train_step``); none by default."""
        return {}

    @abc.abstractmethod
    def sampler(self, trainer: "Trainer") -> Sampler:
        """The seeded, resumable stream of training batches (``close()`` is called at the end if present)."""

    # -- one step, validation, release -------------------------------------------------------
    @abc.abstractmethod
    def train_step(self, batch: Any, trainer: "Trainer") -> dict:
        """One optimisation step on ``batch`` (own ``zero_grad``/``backward``/``step`` calls).

        Returns values (tensors or numbers) that the Trainer sums until the next log row;
        ``trainer.step`` is the number of steps completed before this one.
        """

    def log_row(self, sums: dict, n: int, trainer: "Trainer") -> dict:
        """The train log row made of ``n`` steps' summed values (default: their means)."""
        return {k: float(v) / n for k, v in sums.items()}

    def validate(self, trainer: "Trainer") -> dict | None:
        """A validation log row (or ``None``), every ``val_every`` steps and after the last one."""
        return None

    @abc.abstractmethod
    def release(self, trainer: "Trainer") -> Release:
        """The released file's content and zoo entry, once every step is done."""

    def register(self, path: Path, sha256: str, release: Release) -> Any:
        """Record the released file in the checkpoint zoo; returns the zoo entry."""
        from .. import zoo

        return zoo.register(zoo.ZooEntry(**{"task": self.name, **release.entry, "path": path, "sha256": sha256, "val": release.val}))

    # -- private state ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The task's own mutable state (saved with every training state)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""

    def migrate_state(self, state: dict) -> dict:
        """Turn a state saved in an older format into the current one (default: refuse it)."""
        raise DlicError("the training state has an unknown format; start over with --restart")


class Trainer:
    """Runs a :class:`Task`: seeded, resumable exactly, stoppable, with a log and a release.

    ``amp`` (bfloat16 autocast, for the task's ``with trainer.autocast():`` blocks) defaults to on where
    the device computes bfloat16 natively, ``channels_last`` to on. ``register=False`` releases without
    recording the file in the zoo. ``runs_dir`` defaults to ``<checkpoint_dir>/runs``.
    """

    def __init__(self, task: Task, *, device: str | None = None, amp: bool | None = None, channels_last: bool | None = None,
                 progress: bool = True, progress_position: int | None = None, register: bool = True,
                 runs_dir: str | Path | None = None):
        from ..config import checkpoint_dir
        from ..device import native_bf16, resolve_device

        self.task = task
        self.device = resolve_device(device)
        self.amp = native_bf16(self.device) if amp is None else bool(amp)
        self.channels_last = True if channels_last is None else bool(channels_last)
        self.progress, self.progress_position, self.register = progress, progress_position, register
        self.run_dir = Path(runs_dir or checkpoint_dir() / "runs") / task.run_id()
        self.nets: dict = {}
        self.optimizers: dict = {}
        self.schedulers: dict = {}
        self.step = 0
        self.resuming = False
        self.log = TrainLog(task.log_params(), columns=task.log_columns)
        self._elapsed, self._t0 = 0.0, time.perf_counter()

    # -- what tasks use ----------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.pt"

    @property
    def elapsed_s(self) -> float:
        """Training seconds so far, over every call that worked on this run."""
        return self._elapsed + (time.perf_counter() - self._t0)

    def autocast(self):
        """bfloat16 autocast on the device when ``amp`` is on, else a context that does nothing."""
        import torch

        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda" if self.device.startswith("cuda") else "cpu", dtype=torch.bfloat16)

    def to_device(self, x):
        """``x`` on the device (4-D tensors channels-last when that policy is on)."""
        import torch

        x = x.to(self.device, non_blocking=True)
        if x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        return x

    @contextlib.contextmanager
    def evaluating(self):
        """Every network in ``eval()`` mode under ``torch.no_grad()``; modes restored afterwards."""
        import torch

        modes = {name: net.training for name, net in self.nets.items()}
        for net in self.nets.values():
            net.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            for name, net in self.nets.items():
                net.train(modes[name])

    # -- state -------------------------------------------------------------------------------------
    def _save_state(self, sampler, window: dict, finished: bool = False, extra: dict | None = None) -> None:
        atomic_torch_save(state_blob(self, sampler, window, finished, extra), self.state_path)
        self.log.write(self.run_dir / "log.csv")

    def _result(self, finished: bool, entry=None, val=None) -> TrainResult:
        return TrainResult(self.run_dir, self.step, finished, entry, dict(val or {}), self.log.frame(), self.task.settings)

    # -- the loop ----------------------------------------------------------------------------------
    def fit(self, *, resume: bool = True, restart: bool = False, max_steps_this_run: int | None = None) -> TrainResult:
        """Train the task to its last step (continuing a saved state), release and register it.

        ``resume=False`` refuses to continue an unfinished run; ``restart=True`` deletes the run
        first; ``max_steps_this_run`` stops (after saving a state) once that many steps were done.
        SIGINT/SIGTERM stop at the next step boundary after saving a state (then ``KeyboardInterrupt``).
        A finished run is not retrained: its release is registered again and returned.
        """
        import torch

        task = self.task
        if restart and self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        state = read_state(self.state_path, task.migrate_state)
        if state is not None and not state.get("finished") and not resume:
            raise DlicError(f"an unfinished run exists in {self.run_dir} (step {state['step']}); "
                            "continue it with --resume or start over with --restart")
        if state is not None and state.get("finished") and (self.run_dir / "release.pt").exists():
            self.step, self.log.rows = int(state["step"]), list(state["log_rows"])
            info = state["release_info"]
            release = self.run_dir / "release.pt"  # where it lies now, not where it was written (a moved data folder)
            entry = task.register(release, info["sha256"], Release(None, info["entry"], info["val"])) if self.register else None
            return self._result(True, entry, state.get("val", info["val"]))

        self.resuming = state is not None
        task.setup(self)
        sampler = task.sampler(self)
        seed_everything(task.seed)
        self.nets = dict(task.build(self))
        for name, net in self.nets.items():
            net.to(self.device)
            if self.channels_last:
                net.to(memory_format=torch.channels_last)
        self.optimizers = dict(task.optimizers(self.nets))
        self.schedulers = dict(task.schedulers(self.optimizers))
        window = restore_state(self, state, sampler) if state is not None else {"n": 0, "sums": {}}
        self._t0 = time.perf_counter()
        try:
            finished = self._loop(sampler, window, max_steps_this_run)
        finally:
            close = getattr(sampler, "close", None)
            if close is not None:
                close()
        if not finished:
            return self._result(False)
        return self._release(sampler, window)

    def _loop(self, sampler, window: dict, max_steps_this_run: int | None) -> bool:
        from ..progress import task as progress_task

        task = self.task
        for net in self.nets.values():
            net.train()
        last_ckpt, done_here = time.perf_counter(), 0
        bar = progress_task(task.describe(), total=task.steps, initial=self.step, unit="step", enabled=self.progress,
                            position=self.progress_position)  # terminal, or the book run's status files
        try:
            with StopFlag() as stop:
                while self.step < task.steps:
                    if stop.requested or (max_steps_this_run is not None and done_here >= max_steps_this_run):
                        break
                    values = task.train_step(sampler.next_batch(), self)
                    self.step += 1
                    done_here += 1
                    bar.update(1)
                    window["n"] += 1
                    for key, value in values.items():
                        value = value.detach() if hasattr(value, "detach") else value
                        window["sums"][key] = window["sums"].get(key, 0.0) + value  # tensors stay on the device
                    last = self.step == task.steps
                    if self.step % task.log_every == 0 or last:
                        row = self.log.add(step=self.step, split="train", **task.log_row(window["sums"], window["n"], self),
                                           elapsed_s=self.elapsed_s)
                        window["n"], window["sums"] = 0, {}
                        bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k in ("loss", "bpp", "psnr")
                                         and isinstance(v, float) and math.isfinite(v)})
                    if self.step % task.val_every == 0 or last:
                        row = task.validate(self)
                        if row:
                            self.log.add(step=self.step, split="val", **row, elapsed_s=self.elapsed_s)
                    if self.step % task.ckpt_every == 0 or time.perf_counter() - last_ckpt > task.ckpt_seconds:
                        self._save_state(sampler, window)
                        last_ckpt = time.perf_counter()
                if self.step < task.steps:
                    self._save_state(sampler, window)
                    if stop.requested:
                        raise KeyboardInterrupt
                    return False
        finally:
            bar.close()
        return True

    def _release(self, sampler, window: dict) -> TrainResult:
        from ..data import sha256_file

        release = self.task.release(self)
        path = self.run_dir / "release.pt"
        atomic_torch_save(release.blob, path)
        digest = sha256_file(path)
        info = {"path": str(path), "sha256": digest, "entry": release.entry, "val": release.val}
        self._save_state(sampler, window, finished=True, extra={"release_info": info, "val": release.val})
        self.log.write(self.run_dir / "log.parquet")
        entry = self.task.register(path, digest, release) if self.register else None
        return self._result(True, entry, release.val)
