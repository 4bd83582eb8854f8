"""Training of seed 003's predictive codecs as engine :class:`Task` s: residual recursive networks and VAEs.

:class:`ResidualRnnTask` trains a ``toderici2017-rnn`` on the residual of a prediction made from the
*original* context of a 64×96 training crop (target at row 1, column 1; seed 003 notes E4/E5):
``none`` (the baseline: ``x − 0.5``), ``single`` (``x − AE1``) or ``multi`` (the least-energy residual
among AE1, AE2, the best HEVC mode and none). Predictions are rounded to 8 bits as in the codecs;
the autoencoders are frozen, taken from the zoo. Loss: the mean over iterations of the L1 residual;
Adam 5e-4 halved at 1/3 and 2/3 of training. ``warm_start`` names a release file (the baseline)
whose weights start the run.

:class:`VaeTask` trains ``jung2021-vae`` with ``λ·255²·MSE + bpp`` (plus CompressAI's auxiliary
quantile loss, Adam 1e-4 / 1e-3): ``vae`` on P×P crops, ``intra-ae`` on the residual of the frozen
AE1 (64×64 crops), ``embedded`` jointly with Table 4.4's predictor on 2P × 3P crops. The rate is per
pixel of the coded block. Releases go to the zoo under task ``predictive`` with the objective the
codecs look up (``residual-<kind>``, ``mse``, ``residual-ae1``, ``embedded-p<P>``) and ``{"lmbda": λ}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import DlicError
from ...intra.context import masked_contexts, split_crop
from ...models import build_model
from ..crops import CropSampler, ImagePool
from ..sources import training_data
from ..task import Release, Task, Trainer

__all__ = ["ResidualRnnSettings", "ResidualRnnTask", "VaeSettings", "VaeTask", "least_energy_predictions", "train"]

P = 32


def _settings(cls, base, overrides):
    known = {f.name for f in fields(cls)}
    unknown = set(overrides) - known
    if unknown:
        raise DlicError(f"unknown {cls.__name__} setting(s): {', '.join(sorted(unknown))}")
    return cls(**{**asdict(base or cls()), **overrides})


def _load_frozen(architecture: str, profile: str, device) -> Any:
    from ... import zoo

    entry = zoo.find(architecture, profile=profile)
    if entry is None:
        raise DlicError(f"{architecture}: no {profile} release in the checkpoint zoo; train the intra autoencoders first")
    net = zoo.load_model(entry, device=str(device))
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def least_energy_predictions(crops: np.ndarray, kind: str, ae1: Any = None, ae2: Any = None, device="cpu"
                             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets (B, 3, 32, 32) in [0, 1] and 8-bit predictions (same shape, /255) of 64×96 crops.

    ``kind``: ``none`` (0.5), ``single`` (AE1), ``multi`` (per crop, the least-energy residual among
    AE1, AE2, the best HEVC mode and none).
    """
    from ...predictive.predictors import HEVC_BEST, IntraPredictors

    crops = np.ascontiguousarray(crops[:, : 2 * P, : 3 * P])
    neighbours, target = split_crop(crops, P)
    t = torch.from_numpy(np.ascontiguousarray(target.transpose(0, 3, 1, 2))).float().div_(255)
    if kind == "none":
        return t, torch.full_like(t, 0.5)
    if kind == "single":
        with torch.no_grad():
            ctx = torch.from_numpy(masked_contexts(neighbours).transpose(0, 3, 1, 2).copy()).float().div_(255).to(device)
            pred = ae1(ctx).float().clamp(0, 1).mul(255).round().cpu() / 255
        return t, pred
    # multi: the raster block (1, 1) of each crop, predicted as the codec does, from the original
    predictors = IntraPredictors(ae1, ae2, str(device))
    preds = []
    for crop in crops:
        base, _ = predictors.candidates(crop, np.array([4]), (35, 36, HEVC_BEST, 37), original=crop)
        preds.append(base[0])
    base = torch.from_numpy(np.stack(preds)).float() / 510  # (B, 4, 3, 32, 32)
    energy = ((t[:, None] - base) ** 2).sum(dim=(2, 3, 4))
    return t, base[torch.arange(len(t)), energy.argmin(dim=1)]


# --- recursive networks on residuals ----------------------------------------------------------
@dataclass(frozen=True)
class ResidualRnnSettings:
    kind: str = "single"  #: none | single | multi
    width: float = 0.25
    iterations: int = 8
    steps: int = 250
    batch: int = 16
    lr: float = 5e-4
    warm_start: str | None = None  #: release file of the network to start from
    intra_profile: str = "quick"  #: profile of the intra autoencoders in the zoo
    data: str = "wikimedia-photos"
    max_side: int | None = None  #: down-scale training photos to this longest side (None: native)
    seed: int = 0
    profile: str = "quick"

    def __post_init__(self) -> None:
        if self.kind not in ("none", "single", "multi"):
            raise DlicError(f"residual kind must be none, single or multi, got {self.kind!r}")
        if self.steps < 1 or self.batch < 1 or self.iterations < 1:
            raise DlicError("steps, batch and iterations must be positive")


@lru_cache(maxsize=2)
def _pool(data: str, max_side: int | None) -> ImagePool:
    """The training photos (decoded once per process: every network of the chapter draws from them)."""
    return ImagePool.load(training_data(data).train, max_side=max_side)


def _warm(net: torch.nn.Module, path: str | None) -> None:
    if path:
        from ...zoo import load_release

        net.load_state_dict(load_release(path)["state_dict"])


class ResidualRnnTask(Task):
    """The recursive network on residuals of a prediction (see the module docstring)."""

    start_files = ("warm_start",)
    name = "predictive"
    log_every = 10
    ckpt_every = 50

    def __init__(self, settings: ResidualRnnSettings | None = None, **overrides: Any):
        self.s = _settings(ResidualRnnSettings, settings, overrides)
        self.seed, self.steps, self.val_every = self.s.seed, self.s.steps, max(self.s.steps, 1)

    def config(self) -> dict:
        return asdict(self.s)

    @property
    def settings(self) -> ResidualRnnSettings:
        return self.s

    def describe(self) -> str:
        return f"toderici2017-rnn on {self.s.kind} residuals ×{self.s.width:g}"

    def setup(self, trainer: Trainer) -> None:
        self._pool = _pool(self.s.data, self.s.max_side)
        needs = {"none": (), "single": ("intra-ae1",), "multi": ("intra-ae1", "intra-ae2")}[self.s.kind]
        self._frozen = {a: _load_frozen(a, self.s.intra_profile, trainer.device) for a in needs}

    def build(self, trainer: Trainer) -> dict:
        net = build_model("toderici2017-rnn", width=self.s.width, iterations=self.s.iterations)
        _warm(net, self.s.warm_start)
        return {"net": net}

    def optimizers(self, nets: dict) -> dict:
        return {"adam": torch.optim.Adam(nets["net"].parameters(), lr=self.s.lr)}

    def schedulers(self, optimizers: dict) -> dict:
        marks = [max(1, self.s.steps // 3), max(2, 2 * self.s.steps // 3)]
        return {"halve": torch.optim.lr_scheduler.MultiStepLR(optimizers["adam"], marks, gamma=0.5)}

    def sampler(self, trainer: Trainer) -> CropSampler:
        return CropSampler(self._pool, 3 * P, self.s.batch, seed=self.s.seed)

    def train_step(self, batch: Any, trainer: Trainer) -> dict:
        net, opt = trainer.nets["net"], trainer.optimizers["adam"]
        target, pred = least_energy_predictions(batch, self.s.kind, self._frozen.get("intra-ae1"),
                                                self._frozen.get("intra-ae2"), trainer.device)
        x = (target - pred + 0.5).to(trainer.device)  # the network codes x − 0.5 = target − prediction
        opt.zero_grad(set_to_none=True)
        with trainer.autocast():
            residuals, _, _ = net(x, self.s.iterations, stochastic=True)
        loss = residuals.float().abs().mean()
        loss.backward()
        opt.step()
        trainer.schedulers["halve"].step()
        with torch.no_grad():
            mse_last = float((residuals[-1].float() ** 2).mean())
        return {"loss": loss, "psnr_last": torch.tensor(10 * np.log10(1 / max(mse_last, 1e-12)))}

    def release(self, trainer: Trainer) -> Release:
        from ...zoo import RELEASE_FORMAT

        net = trainer.nets["net"].to("cpu", memory_format=torch.contiguous_format)
        blob = {"format": RELEASE_FORMAT, "settings": self.config(), "state_dict": net.state_dict()}
        entry = dict(architecture="toderici2017-rnn", objective=f"residual-{self.s.kind}",
                     rate_key={"iterations": self.s.iterations},
                     build={"width": self.s.width, "iterations": self.s.iterations}, config=self.config())
        return Release(blob=blob, entry=entry)


# --- VAEs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VaeSettings:
    kind: str = "vae"  #: vae | intra-ae | embedded
    lmbda: float = 0.01
    N: int = 64
    patch: int = 64  #: crop side (vae) or block side P (embedded; intra-ae uses 32)
    steps: int = 1000
    batch: int = 8
    lr: float = 1e-4
    aux_lr: float = 1e-3
    lr_decay_at: tuple[float, ...] = ()  #: fractions of ``steps`` where the main learning rate is multiplied by 0.1
    warm_start: str | None = None  #: release of a VAE to start from (the baseline at the same λ)
    intra_profile: str = "quick"
    data: str = "wikimedia-photos"
    max_side: int | None = None
    seed: int = 0
    profile: str = "quick"

    def __post_init__(self) -> None:
        if self.kind not in ("vae", "intra-ae", "embedded"):
            raise DlicError(f"VAE kind must be vae, intra-ae or embedded, got {self.kind!r}")
        if not self.lmbda > 0 or self.steps < 1 or self.batch < 1 or self.patch % 8:
            raise DlicError("λ, steps and batch must be positive and the patch a multiple of 8")
        object.__setattr__(self, "lr_decay_at", tuple(self.lr_decay_at))
        if not all(0 < f < 1 for f in self.lr_decay_at):
            raise DlicError(f"lr_decay_at must hold fractions of the steps in (0, 1), got {self.lr_decay_at}")

    @property
    def objective(self) -> str:
        return {"vae": "mse", "intra-ae": "residual-ae1", "embedded": f"embedded-p{self.patch}"}[self.kind]


class VaeTask(Task):
    """Table 4.3's VAE, alone or on intra residuals (see the module docstring)."""

    start_files = ("warm_start",)
    name = "predictive"
    log_every = 25
    ckpt_every = 100

    def __init__(self, settings: VaeSettings | None = None, **overrides: Any):
        self.s = _settings(VaeSettings, settings, overrides)
        self.seed, self.steps, self.val_every = self.s.seed, self.s.steps, max(self.s.steps, 1)

    def config(self) -> dict:
        out = asdict(self.s)
        if not out["lr_decay_at"]:  # runs made before the schedule existed keep their ids
            del out["lr_decay_at"]
        else:
            out["lr_decay_at"] = list(out["lr_decay_at"])
        return out

    @property
    def settings(self) -> VaeSettings:
        return self.s

    def describe(self) -> str:
        return f"jung2021-vae {self.s.kind} N={self.s.N} λ={self.s.lmbda:g}"

    def _crop(self) -> tuple[int, int]:
        p = 32 if self.s.kind == "intra-ae" else self.s.patch
        return {"vae": (p, p), "intra-ae": (64, 64), "embedded": (2 * p, 3 * p)}[self.s.kind]

    def setup(self, trainer: Trainer) -> None:
        self._pool = _pool(self.s.data, self.s.max_side)
        self._ae1 = _load_frozen("intra-ae1", self.s.intra_profile, trainer.device) if self.s.kind == "intra-ae" else None

    def build(self, trainer: Trainer) -> dict:
        vae = build_model("jung2021-vae", N=self.s.N)
        _warm(vae, self.s.warm_start)
        nets = {"vae": vae}
        if self.s.kind == "embedded":
            nets["predictor"] = build_model("jung2021-embedded-intra", N=self.s.N)
        return nets

    def optimizers(self, nets: dict) -> dict:
        main = [p for n, p in nets["vae"].named_parameters() if not n.endswith(".quantiles")]
        if "predictor" in nets:
            main += list(nets["predictor"].parameters())
        aux = [p for n, p in nets["vae"].named_parameters() if n.endswith(".quantiles")]
        return {"adam": torch.optim.Adam(main, lr=self.s.lr), "aux": torch.optim.Adam(aux, lr=self.s.aux_lr)}

    def schedulers(self, optimizers: dict) -> dict:
        if not self.s.lr_decay_at:  # none: the states of runs made before the schedule existed still load
            return {}
        marks = sorted({max(1, round(f * self.s.steps)) for f in self.s.lr_decay_at})
        return {"decay": torch.optim.lr_scheduler.MultiStepLR(optimizers["adam"], marks, gamma=0.1)}

    def sampler(self, trainer: Trainer) -> CropSampler:
        return CropSampler(self._pool, max(self._crop()), self.s.batch, seed=self.s.seed)

    def _inputs(self, batch: np.ndarray, trainer: Trainer) -> tuple[torch.Tensor, torch.Tensor]:
        """Target block and prediction, both (B, 3, P, P) in [0, 1] on the device."""
        h, w = self._crop()
        crops = np.ascontiguousarray(batch[:, :h, :w])
        x = torch.from_numpy(crops).float().div_(255).permute(0, 3, 1, 2).to(trainer.device)
        if self.s.kind == "vae":
            return x, torch.zeros_like(x)
        if self.s.kind == "intra-ae":
            with torch.no_grad():
                pred = self._ae1(x).float().clamp(0, 1)
            return x[..., 32:, 32:], pred
        p = self.s.patch
        nb = torch.stack([x[..., :p, :p], x[..., :p, p:2 * p], x[..., :p, 2 * p:], x[..., p:, :p]], 1)
        pred = trainer.nets["predictor"](nb.reshape(len(x), 12, p, p))
        return x[..., p:, p:2 * p], pred

    def train_step(self, batch: Any, trainer: Trainer) -> dict:
        vae, opt, aux_opt = trainer.nets["vae"], trainer.optimizers["adam"], trainer.optimizers["aux"]
        opt.zero_grad(set_to_none=True)
        aux_opt.zero_grad(set_to_none=True)
        with trainer.autocast():
            target, pred = self._inputs(batch, trainer)
            out = vae(target - pred)
        n, _, h, w = target.shape
        bpp = sum(torch.log(v.float()).sum() for v in out["likelihoods"].values()) / (-np.log(2) * n * h * w)
        mse = torch.mean((pred.float() + out["x_hat"].float() - target.float()) ** 2)
        loss = self.s.lmbda * 255.0**2 * mse + bpp
        loss.backward()
        opt.step()
        if trainer.schedulers:
            trainer.schedulers["decay"].step()
        aux = vae.aux_loss()
        aux.backward()
        aux_opt.step()
        return {"loss": loss, "bpp": bpp, "psnr": 10 * torch.log10(1 / mse.detach().clamp_min(1e-12)), "aux": aux}

    def release(self, trainer: Trainer) -> Release:
        from ...zoo import RELEASE_FORMAT

        vae = trainer.nets["vae"].to("cpu", memory_format=torch.contiguous_format)
        vae.update(force=True)
        blob = {"format": RELEASE_FORMAT, "settings": self.config(), "state_dict": vae.state_dict()}
        if "predictor" in trainer.nets:
            blob["predictor"] = trainer.nets["predictor"].to("cpu", memory_format=torch.contiguous_format).state_dict()
        entry = dict(architecture="jung2021-vae", objective=self.s.objective, rate_key={"lmbda": self.s.lmbda},
                     build={"N": self.s.N}, config=self.config())
        return Release(blob=blob, entry=entry)

    def register(self, path: Path, sha256: str, release: Release) -> Any:
        entry = super().register(path, sha256, release)
        if release.blob and "predictor" in release.blob:  # the predictor gets a release file of its own
            from ... import zoo
            from ...zoo import RELEASE_FORMAT

            target = Path(path).with_name(Path(path).stem + "-predictor.pt")
            tmp = target.with_suffix(".tmp")
            torch.save({"format": RELEASE_FORMAT, "settings": self.config(), "state_dict": release.blob["predictor"]}, tmp)
            tmp.replace(target)
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            zoo.register(zoo.ZooEntry(architecture="jung2021-embedded-intra", objective=self.s.objective, task=self.name,
                                      rate_key={"lmbda": self.s.lmbda}, build={"N": self.s.N}, path=target,
                                      sha256=digest, config=self.config()))
        return entry


def train(task: Task, *, progress: bool = False, restart: bool = False, max_steps_this_run: int | None = None,
          **trainer_options: Any):
    """Train (or resume, or find finished) ``task``; returns the :class:`~dlic_lib.train.task.TrainResult`."""
    return Trainer(task, progress=progress, **trainer_options).fit(restart=restart, max_steps_this_run=max_steps_this_run)
