"""Training of the recursive ConvLSTM codec (seed 003 Table 4.2; Toderici et al. 2017) as an engine :class:`Task`.

A training sample is a random 32×32 crop of a training photo (the Commons training split by
default; Kodak is refused), taken after a random down-scaling by 1–3× so that patches hold
structure rather than sensor noise. Each step codes the batch for ``iterations`` steps with
stochastic binarisation and a straight-through gradient; the reconstruction is additive and the
LSTM states persist across iterations. The loss is the mean over iterations of the mean absolute
residual (L1, as Toderici et al. 2017); Adam at 5e-4, halved at 1/3 and 2/3 of the run (the thesis
states none of these; see the seed 003 notes, E3). Validation: PSNR after 1, …, ``iterations``
iterations of patches of central crops of the validation photos, with sign binarisation.

Presets (:data:`PRESETS`): ``smoke`` (seconds), ``quick`` (width 0.25, 8 iterations, batch 16, 500
steps: 1.2 CPU-seconds per step in float32, about 5 minutes on two idle cores) and ``full`` (Table 4.2
size, 16 iterations, the thesis' batch 64 and 300k steps, for a GPU). ``precision="fp32"`` (the
default) trains in float32: on a CPU with native bfloat16, autocast made a step of these small
ConvLSTM layers 14× slower; ``"auto"`` (``full``) uses the Trainer's bfloat16 policy.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

from ...errors import DlicError
from ...models import build_model
from ..crops import CropSampler, ImagePool, center_crops
from ..sources import training_data
from ..task import Release, Task, Trainer

__all__ = ["RecurrentSettings", "RecurrentTask", "PRESETS", "ARCHITECTURE", "OBJECTIVE", "train_recurrent",
           "patch_psnr"]

ARCHITECTURE = "toderici2017-rnn"
OBJECTIVE = "l1"
PATCH = 32


@dataclass(frozen=True)
class RecurrentSettings:
    """Everything that determines a training run of the recursive codec."""

    width: float = 0.25
    iterations: int = 8
    steps: int = 500
    batch: int = 16
    lr: float = 5e-4
    scale_low: float = 1.0
    scale_high: float = 3.0
    data: str = "wikimedia-photos"
    max_side: int | None = None
    seed: int = 0
    val_every: int = 200
    val_patches: int = 64
    profile: str = "quick"
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if self.precision not in ("fp32", "auto"):
            raise DlicError(f"recurrent training precision must be 'fp32' or 'auto', got {self.precision!r}")
        for name in ("iterations", "steps", "batch", "val_every", "val_patches"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DlicError(f"recurrent training setting {name} must be a positive integer, got {value!r}")
        if not self.width > 0 or not self.lr > 0:
            raise DlicError("recurrent training width and learning rate must be positive")
        if not 1.0 <= self.scale_low <= self.scale_high:
            raise DlicError(f"recurrent training scales must satisfy 1 <= low <= high, got {self.scale_low}, {self.scale_high}")


#: profile → settings (``full`` is seed 003 §5.3.1: batch 64, about 300k steps; 16 iterations for seed 002)
PRESETS: dict[str, RecurrentSettings] = {
    "smoke": RecurrentSettings(width=0.125, iterations=2, steps=4, batch=4, val_every=4, val_patches=8, profile="smoke"),
    "quick": RecurrentSettings(),
    "full": RecurrentSettings(width=1.0, iterations=16, steps=300_000, batch=64, val_every=5000, val_patches=384,
                              profile="full", precision="auto"),
}


def patch_psnr(reference: torch.Tensor, reconstruction: torch.Tensor) -> float:
    """PSNR (dB) over a batch of patches in [0, 1] (reconstruction clipped, one MSE for the batch)."""
    mse = float(torch.mean((reconstruction.float().clamp(0, 1) - reference.float()) ** 2))
    return float(10 * np.log10(1 / max(mse, 1e-12)))


def _tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div_(255)


class RecurrentTask(Task):
    """Trains the recursive codec with stochastic binarisation and the iteration-averaged L1 loss."""

    name = "recurrent"
    log_every = 25
    ckpt_every = 100

    def __init__(self, settings: RecurrentSettings | str | None = None, **overrides: Any):
        if isinstance(settings, str):
            if settings not in PRESETS:
                raise DlicError(f"unknown recurrent training profile {settings!r}; known: {', '.join(PRESETS)}")
            settings = PRESETS[settings]
        base = settings or PRESETS["quick"]
        known = {f.name for f in fields(RecurrentSettings)}
        unknown = set(overrides) - known
        if unknown:
            raise DlicError(f"unknown recurrent training setting(s): {', '.join(sorted(unknown))}")
        self.s = RecurrentSettings(**{**asdict(base), **overrides})
        self.seed, self.steps, self.val_every = self.s.seed, self.s.steps, self.s.val_every

    def config(self) -> dict:
        return asdict(self.s)

    @property
    def settings(self) -> RecurrentSettings:
        return self.s

    def describe(self) -> str:
        return f"{ARCHITECTURE} ×{self.s.width:g}, {self.s.iterations} iterations"

    def setup(self, trainer: Trainer) -> None:
        data = training_data(self.s.data)
        self._provenance = data.provenance
        self._pool = ImagePool.load(data.train, max_side=self.s.max_side)
        val_pool = ImagePool.load(data.val, max_side=self.s.max_side)
        crops = center_crops(val_pool, 2 * PATCH)
        crops = [c for c in crops if c.shape[:2] == (2 * PATCH, 2 * PATCH)]
        if not crops:
            raise DlicError(f"no validation photo is at least {2 * PATCH} pixels on each side")
        # each 64×64 central crop gives four 32×32 patches
        tiles = [c[y:y + PATCH, x:x + PATCH] for c in crops for y in (0, PATCH) for x in (0, PATCH)]
        reps = -(-self.s.val_patches // len(tiles))
        self._val = _tensor(np.stack((tiles * reps)[: self.s.val_patches]))

    def build(self, trainer: Trainer) -> dict:
        return {"net": build_model(ARCHITECTURE, width=self.s.width, iterations=self.s.iterations)}

    def optimizers(self, nets: dict) -> dict:
        return {"adam": torch.optim.Adam(nets["net"].parameters(), lr=self.s.lr)}

    def schedulers(self, optimizers: dict) -> dict:
        milestones = sorted({max(1, self.s.steps // 3), max(1, 2 * self.s.steps // 3)})
        return {"lr": torch.optim.lr_scheduler.MultiStepLR(optimizers["adam"], milestones=milestones, gamma=0.5)}

    def sampler(self, trainer: Trainer) -> CropSampler:
        return CropSampler(self._pool, PATCH, self.s.batch, scale_range=(self.s.scale_low, self.s.scale_high),
                           seed=self.s.seed)

    def train_step(self, batch: Any, trainer: Trainer) -> dict:
        net, opt = trainer.nets["net"], trainer.optimizers["adam"]
        x = trainer.to_device(_tensor(batch))
        opt.zero_grad(set_to_none=True)
        with trainer.autocast() if self.s.precision == "auto" else contextlib.nullcontext():
            residuals, _, _ = net(x, self.s.iterations, stochastic=True)
        loss = residuals.float().abs().mean()  # mean over iterations of each iteration's mean |r_k|
        loss.backward()
        opt.step()
        trainer.schedulers["lr"].step()
        return {"loss": loss, "l1_last": residuals[-1].float().abs().mean().detach()}

    def validate(self, trainer: Trainer) -> dict:
        net = trainer.nets["net"]
        with trainer.evaluating():
            x = self._val.to(trainer.device)
            residuals, _, _ = net(x, self.s.iterations, stochastic=False)
        residuals = residuals.float().cpu()
        row = {f"val_psnr_k{k + 1}": patch_psnr(self._val, self._val - residuals[k]) for k in range(len(residuals))}
        row["val_l1"] = float(residuals.abs().mean())
        return row

    def release(self, trainer: Trainer) -> Release:
        from ...zoo import RELEASE_FORMAT

        val = self.validate(trainer)
        net = trainer.nets["net"].to("cpu", memory_format=torch.contiguous_format)
        build = net.config()
        blob = {"format": RELEASE_FORMAT, "architecture": ARCHITECTURE, "build": build, "settings": self.config(),
                "state_dict": net.state_dict()}
        entry = dict(architecture=ARCHITECTURE, objective=OBJECTIVE, rate_key={"iterations": self.s.iterations},
                     build=build, config={**self.config(), "data_provenance": getattr(self, "_provenance", {})})
        return Release(blob=blob, entry=entry, val=val)


def train_recurrent(settings: RecurrentSettings | str = "quick", *, progress: bool = False, **trainer_options: Any):
    """Train (or resume, or find finished) the recursive codec; returns the :class:`TrainResult`."""
    return Trainer(RecurrentTask(settings), progress=progress, **trainer_options).fit()
