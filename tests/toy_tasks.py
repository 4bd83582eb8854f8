"""Two small non-CompressAI tasks for the Trainer tests: a CNN denoiser and an alternating pair of networks.

Each draws from every global generator (torch, numpy, Python) in its training step, keeps a private
counter, and uses a scheduler, so an inexact resumption shows up in the released weights or the log.
``DLIC_TOY_KILL_AT=<step>`` makes the process SIGKILL itself in the middle of that step.
"""

from __future__ import annotations

import os
import random
import signal

import numpy as np
import torch
from torch import nn

from dlic_lib.train.task import Release, Task


class NoiseImages:
    """A seeded stream of smooth random 3×16×16 images."""

    def __init__(self, seed: int, batch: int = 4):
        self.rng, self.batch = np.random.default_rng(seed), batch

    def next_batch(self) -> torch.Tensor:
        low = self.rng.random((self.batch, 3, 4, 4), dtype=np.float32)
        return torch.from_numpy(np.kron(low, np.ones((1, 1, 4, 4), dtype=np.float32)))

    def state_dict(self) -> dict:
        return self.rng.bit_generator.state

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state


def _maybe_die(step: int) -> None:
    if os.environ.get("DLIC_TOY_KILL_AT") == str(step + 1):
        os.kill(os.getpid(), signal.SIGKILL)


def small_cnn(width: int = 8) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 3, 3, padding=1))


class _Toy(Task):
    log_every, val_every, ckpt_every, ckpt_seconds = 2, 4, 3, 1e9

    def __init__(self, steps: int = 10, seed: int = 0):
        self.steps, self.seed, self.flips = steps, seed, 0

    def config(self) -> dict:
        return {"steps": self.steps, "seed": self.seed}

    def sampler(self, trainer):
        return NoiseImages(self.seed)

    def state_dict(self) -> dict:
        return {"flips": self.flips}

    def load_state_dict(self, state: dict) -> None:
        self.flips = state["flips"]

    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        sigma = float(np.random.uniform(0.05, 0.2))  # numpy's global generator
        if random.random() < 0.5:  # Python's generator
            x, self.flips = x.flip(-1), self.flips + 1
        return x, x + sigma * torch.randn_like(x)  # torch's generator

    def validate(self, trainer):
        x = NoiseImages(123).next_batch().to(trainer.device)
        with trainer.evaluating():
            net = trainer.nets.get("cnn") or trainer.nets["restorer"]
            loss = float(torch.mean((net(x) - x) ** 2))
        return {"loss": loss, "flips": self.flips}


class ToyDenoise(_Toy):
    """A CNN denoiser: one network, one optimiser, one scheduler."""

    name = "toy-denoise"

    def build(self, trainer):
        return {"cnn": small_cnn()}

    def optimizers(self, nets):
        return {"adam": torch.optim.Adam(nets["cnn"].parameters(), lr=1e-2)}

    def schedulers(self, optimizers):
        return {"decay": torch.optim.lr_scheduler.StepLR(optimizers["adam"], step_size=3, gamma=0.5)}

    def train_step(self, batch, trainer):
        _maybe_die(trainer.step)
        x, noisy = self._noisy(trainer.to_device(batch))
        opt = trainer.optimizers["adam"]
        opt.zero_grad()
        with trainer.autocast():
            out = trainer.nets["cnn"](noisy)
        loss = torch.mean((out.float() - x) ** 2)
        loss.backward()
        opt.step()
        trainer.schedulers["decay"].step()
        return {"loss": loss, "lr": opt.param_groups[0]["lr"]}

    def release(self, trainer):
        return Release({"state_dict": trainer.nets["cnn"].state_dict()},
                       dict(architecture="toy-cnn", objective="mse", rate_key={}, config=self.config()), {"steps": self.steps})


class ToyAlternating(_Toy):
    """Two networks updated in turn: a restorer on even steps, a critic (scoring restorations) on odd steps."""

    name = "toy-alternating"

    def build(self, trainer):
        return {"restorer": small_cnn(), "critic": nn.Sequential(small_cnn(4), nn.AdaptiveAvgPool2d(1), nn.Flatten())}

    def optimizers(self, nets):
        return {"restorer": torch.optim.Adam(nets["restorer"].parameters(), lr=1e-2),
                "critic": torch.optim.SGD(nets["critic"].parameters(), lr=1e-2, momentum=0.9)}

    def schedulers(self, optimizers):
        return {name: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9) for name, opt in optimizers.items()}

    def train_step(self, batch, trainer):
        _maybe_die(trainer.step)
        restorer, critic = trainer.nets["restorer"], trainer.nets["critic"]
        x, noisy = self._noisy(trainer.to_device(batch))
        which = "critic" if trainer.step % 2 else "restorer"
        opt = trainer.optimizers[which]
        opt.zero_grad()
        if which == "restorer":
            out = restorer(noisy)
            loss = torch.mean((out - x) ** 2) + 0.01 * critic(out).mean()
        else:
            with torch.no_grad():
                out = restorer(noisy)
            loss = torch.mean((critic(out).mean(1) - torch.mean((out - x) ** 2, dim=(1, 2, 3))) ** 2)
        loss.backward()
        opt.step()
        trainer.schedulers[which].step()
        return {f"{which}_loss": loss}

    def log_row(self, sums, n, trainer):
        return {k: float(v) for k, v in sums.items()}  # each network is updated every other step

    def release(self, trainer):
        return Release({"restorer": trainer.nets["restorer"].state_dict(), "critic": trainer.nets["critic"].state_dict()},
                       dict(architecture="toy-pair", objective="mse", rate_key={"steps": self.steps}), {})
