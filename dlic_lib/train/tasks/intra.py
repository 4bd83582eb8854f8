"""Training of the intra-prediction autoencoders of seed 003 (Table 4.1) as an engine :class:`Task`.

A training sample is a random crop of a training photo (the Commons training split by default;
Kodak is refused): 64×64 for AE1 (context = the crop, target = its bottom-right 32×32 quarter, which
the network masks), 64×96 for AE2 (top row: top-left, top, top-right blocks; bottom row: left block
and the target). The thesis states no training settings; the loss is the MSE of the prediction in
[0, 1] samples, with Adam at 1e-4 (seed 003 notes, E1). Validation: PSNR of the predictions of
central crops of the validation photos.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

from ...errors import DlicError
from ...intra.context import split_crop
from ...models import build_model
from ..crops import CropSampler, ImagePool, center_crops
from ..sources import training_data
from ..task import Release, Task, Trainer

__all__ = ["IntraAESettings", "IntraAETask", "ARCHITECTURES", "batch_tensors", "train_intra_ae"]

#: architecture → crop (height, width) a training sample needs
ARCHITECTURES = {"intra-ae1": (64, 64), "intra-ae2": (64, 96)}
BLOCK = 32


@dataclass(frozen=True)
class IntraAESettings:
    """Everything that determines a training run of an intra autoencoder."""

    architecture: str = "intra-ae1"
    width: float = 0.5
    steps: int = 1500
    batch: int = 16
    lr: float = 1e-4
    data: str = "wikimedia-photos"
    max_side: int | None = None  # down-scale training photos to this longest side (None: native)
    seed: int = 0
    val_every: int = 250
    val_patches: int = 16
    profile: str = "quick"

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise DlicError(f"intra autoencoder must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        for name in ("steps", "batch", "val_every", "val_patches"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DlicError(f"intra training setting {name} must be a positive integer, got {value!r}")
        if not self.width > 0 or not self.lr > 0:
            raise DlicError("intra training width and learning rate must be positive")


def batch_tensors(crops: np.ndarray, architecture: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Network input and target (float in [0, 1]) from uint8 crops (B, H, W, 3) of the architecture's size."""
    height, width = ARCHITECTURES[architecture]
    crops = crops[:, :height, :width]
    x = torch.from_numpy(np.ascontiguousarray(crops)).float().div_(255)
    target = x[:, BLOCK : 2 * BLOCK, BLOCK : 2 * BLOCK].permute(0, 3, 1, 2)
    if architecture == "intra-ae1":
        return x.permute(0, 3, 1, 2), target
    neighbours, _ = split_crop(x.numpy(), BLOCK)
    return torch.from_numpy(neighbours).permute(0, 1, 4, 2, 3), target


class IntraAETask(Task):
    """Trains one intra autoencoder (``settings.architecture``) with MSE; releases it into the zoo."""

    name = "intra"
    log_every = 25
    ckpt_every = 250

    def __init__(self, settings: IntraAESettings | None = None, **overrides: Any):
        base = settings or IntraAESettings()
        known = {f.name for f in fields(IntraAESettings)}
        unknown = set(overrides) - known
        if unknown:
            raise DlicError(f"unknown intra training setting(s): {', '.join(sorted(unknown))}")
        self.s = IntraAESettings(**{**asdict(base), **overrides})
        self.seed, self.steps, self.val_every = self.s.seed, self.s.steps, self.s.val_every

    def config(self) -> dict:
        return asdict(self.s)

    @property
    def settings(self) -> IntraAESettings:
        return self.s

    def describe(self) -> str:
        return f"{self.s.architecture} ×{self.s.width:g}"

    def setup(self, trainer: Trainer) -> None:
        data = training_data(self.s.data)
        self._provenance = data.provenance
        self._pool = ImagePool.load(data.train, max_side=self.s.max_side)
        height, width = ARCHITECTURES[self.s.architecture]
        val_pool = ImagePool.load(data.val, max_side=self.s.max_side)
        side = max(height, width)
        crops = [c for c in center_crops(val_pool, side) if c.shape[:2] == (side, side)]
        if not crops:
            raise DlicError(f"no validation photo is at least {side} pixels on each side")
        reps = -(-self.s.val_patches // len(crops))
        self._val = batch_tensors(np.stack((crops * reps)[: self.s.val_patches]), self.s.architecture)

    def build(self, trainer: Trainer) -> dict:
        return {"net": build_model(self.s.architecture, width=self.s.width)}

    def optimizers(self, nets: dict) -> dict:
        return {"adam": torch.optim.Adam(nets["net"].parameters(), lr=self.s.lr)}

    def sampler(self, trainer: Trainer) -> CropSampler:
        side = max(ARCHITECTURES[self.s.architecture])
        return CropSampler(self._pool, side, self.s.batch, seed=self.s.seed)

    def _inputs(self, x: torch.Tensor, trainer: Trainer) -> torch.Tensor:
        return trainer.to_device(x) if x.dim() == 4 else x.to(trainer.device)

    def train_step(self, batch: Any, trainer: Trainer) -> dict:
        net, opt = trainer.nets["net"], trainer.optimizers["adam"]
        x, target = batch_tensors(batch, self.s.architecture)
        x, target = self._inputs(x, trainer), target.to(trainer.device)
        opt.zero_grad(set_to_none=True)
        with trainer.autocast():
            pred = net(x)
        loss = torch.mean((pred.float() - target) ** 2)
        loss.backward()
        opt.step()
        return {"loss": loss}

    def validate(self, trainer: Trainer) -> dict:
        x, target = self._val
        with trainer.evaluating():
            pred = trainer.nets["net"](self._inputs(x, trainer)).float().clamp(0, 1).cpu()
        mse = float(torch.mean((pred - target) ** 2))
        return {"val_mse": mse, "val_psnr": float(10 * np.log10(1 / max(mse, 1e-12)))}

    def release(self, trainer: Trainer) -> Release:
        from ...zoo import RELEASE_FORMAT

        net = trainer.nets["net"].to("cpu", memory_format=torch.contiguous_format)
        blob = {"format": RELEASE_FORMAT, "settings": self.config(), "state_dict": net.state_dict()}
        val = self.validate(trainer)
        entry = dict(
            architecture=self.s.architecture, objective="mse", rate_key={}, build={"width": self.s.width},
            config={**self.config(), "data_provenance": getattr(self, "_provenance", {})},
        )
        return Release(blob=blob, entry=entry, val=val)


def train_intra_ae(settings: IntraAESettings, *, progress: bool = False, **trainer_options: Any):
    """Train (or resume, or find finished) one intra autoencoder; returns the :class:`TrainResult`."""
    return Trainer(IntraAETask(settings), progress=progress, **trainer_options).fit()
