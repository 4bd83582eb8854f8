"""Training of the CNNs around JPEG (seed 001) as engine tasks.

:class:`FakeCodecTask` teaches a CNN-FakeCodec to imitate real JPEG (standard Huffman tables do not
matter here: the target is the decoded image) at one quality factor: loss ``MSE(Fake(x), JPEG(x))``
on 8×8-aligned luma crops (§3.2.3). Validation: PSNR and SSIM of ``Fake(x)`` against ``JPEG(x)``.

:class:`PipelineTask` trains the down/up pair, one ``stage`` per run (Tables 3.1–3.2, §4.4):

* ``s1`` — CNN-SR alone on the bicubic-down-sampled input: ``‖g(F(x)) − x‖²``;
* ``s2`` — CNN-CR with the S1 SR frozen: ``‖g(f(x)) − x‖²``;
* ``s3`` — both jointly: ``‖g(f(x)) − x‖² + γ·‖f(x) − F(x)‖² + λ'·R(f(x))`` (CNN-YL: γ = 0.7, λ = 0;
  CNN-RD: γ = 0, λ per QF; CNN-MSE: γ = λ = 0);
* ``s4`` — the SR retrained on the real JPEG of the frozen CR's rounded output at one QF;
* ``fc`` — Table 3.2 step 5: the CR retrained through a frozen FakeCodec and the QF's frozen SR:
  ``‖g(Fake(f(x))) − x‖² + 0.7·‖f(x) − F(x)‖²``.

``F`` is PIL's bicubic ↓2 (float), ``R`` the soft count of non-zero quantised coefficients (eq. 3.8)
summed over the batch, computed in float32. ``λ`` is given in the thesis' normalisation (batch 16,
48×48 LR patches) and rescaled to the run's batch ``B`` and patch ``P``: ``λ' = λ·16·48²/(B·(P/2)²)``.
Optimiser: Adam, β = (0.9, 0.9); the learning rate halves at each of ``milestones`` (steps).
``identity_init`` starts every new network at its skip path (last convolution zero), for short schedules.
Networks a stage starts from or holds frozen come from earlier releases (``init``, paths), whose
sha256 enters the run's configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...data import sha256_file
from ...errors import DlicError
from ...jpeg import decode_luma, encode_luma, soft_nonzero_count
from ...jpeg.resample import downscale2
from ...models import build_model
from ...models.jpeg_cnn import zero_last_conv
from ..task import Release, Task, Trainer
from .jpeg_cnn_data import LumaPool, PatchSampler, luma_files

__all__ = ["FakeCodecTask", "PipelineTask", "STAGES", "RELEASE_FORMAT", "load_nets", "jpeg_roundtrip", "rate_weight"]

RELEASE_FORMAT = "dlic-checkpoint/1"
STAGES = ("s1", "s2", "s3", "s4", "fc")
GUIDANCE = 0.7
TASK = "jpeg-cnn"


def rate_weight(lmbda: float, batch: int, patch: int) -> float:
    """``λ'`` for batch ``batch`` and HR patch ``patch``, from ``λ`` at the thesis' batch 16 and 48×48 LR patches."""
    return float(lmbda) * 16 * 48 * 48 / (batch * (patch / 2) ** 2)


def jpeg_roundtrip(lr: torch.Tensor, quality: int) -> torch.Tensor:
    """Each image of ``lr`` (on [0, 1]) rounded to ``uint8``, coded with libjpeg at ``quality`` and decoded."""
    planes = np.clip(np.floor(lr.detach().float().cpu().numpy()[:, 0] * 255.0 + 0.5), 0, 255).astype(np.uint8)
    out = np.stack([decode_luma(encode_luma(p, quality)) for p in planes]).astype(np.float32) / 255.0
    return torch.from_numpy(out)[:, None].to(lr.device)


def load_nets(path: str | Path) -> dict:
    """The named state dicts of a release written by these tasks."""
    from ...zoo import load_release

    blob = load_release(path)
    return blob["nets"]


def _adam(params, lr: float) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.9), eps=1e-8)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def _uint8(x: torch.Tensor) -> np.ndarray:
    return np.clip(np.floor(x.detach().float().cpu().numpy() * 255.0 + 0.5), 0, 255).astype(np.uint8)


class _JpegCnnTask(Task):
    """Shared parts: settings dict, data files, Adam + step schedule, val crops."""

    log_every, val_every, ckpt_every, ckpt_seconds = 25, 200, 100, 60.0

    def __init__(self, **settings: Any):
        self.s = settings
        self.seed, self.steps = int(settings["seed"]), int(settings["steps"])
        self.val_every = max(1, int(settings.get("val_every") or self.steps))
        self.ckpt_every = max(1, int(settings.get("ckpt_every") or 100))

    def config(self) -> dict:
        return {k: v for k, v in self.s.items() if k not in ("val_every", "ckpt_every")}

    def _files(self, split: str) -> list[Path]:
        given = self.s.get(f"{split}_files")
        return [Path(p) for p in given] if given else luma_files(split)

    def setup(self, trainer: Trainer) -> None:
        self.pool = LumaPool.load(self._files("train"), self.s.get("max_side"))
        crop = int(self.s.get("val_crop") or 0)
        self.val_planes = []
        for plane in LumaPool.load(self._files("val"), self.s.get("max_side")).planes:
            h, w = plane.shape
            if crop:
                r, c = max(0, (h - crop) // 16 * 8), max(0, (w - crop) // 16 * 8)
                plane = plane[r:r + crop, c:c + crop]
            h, w = plane.shape
            self.val_planes.append(np.ascontiguousarray(plane[: h - h % 16, : w - w % 16]))

    def schedulers(self, optimizers: dict) -> dict:
        milestones = [int(m) for m in self.s.get("milestones") or ()]
        return {k: torch.optim.lr_scheduler.MultiStepLR(o, milestones, gamma=0.5) for k, o in optimizers.items()}

    def _step(self, loss: torch.Tensor, trainer: Trainer) -> None:
        for opt in trainer.optimizers.values():
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in trainer.optimizers.values():
            opt.step()
        for sched in trainer.schedulers.values():
            sched.step()

    def _final_val(self, trainer: Trainer) -> dict:
        """The validation row of the last step (computed once: the loop already validated it)."""
        cached = getattr(self, "_val_cache", None)
        if cached is None or cached[0] != trainer.step:
            self._val_cache = (trainer.step, self.validate(trainer))
        return self._val_cache[1]

    def _val_input(self, plane: np.ndarray, trainer: Trainer) -> torch.Tensor:
        return trainer.to_device(torch.from_numpy(plane.astype(np.float32) / 255.0)[None, None])


class FakeCodecTask(_JpegCnnTask):
    """A CNN-FakeCodec learning real JPEG at ``quality`` (``variant``, ``width``, ``depth``, ``kernels``, ``padding``)."""

    name = "jpeg-cnn-fakecodec"

    def __init__(self, *, variant: str = "block-dct", quality: int = 10, width: float = 1.0, depth: int = 8,
                 kernels: str | None = None, padding: str = "zeros", patch: int = 48, batch: int = 16, steps: int = 1000,
                 lr: float = 1e-4, milestones: tuple[int, ...] = (), seed: int = 0, profile: str = "full",
                 train_files=None, val_files=None, val_crop: int | None = None, max_side: int | None = None,
                 val_every: int | None = None, ckpt_every: int | None = None, identity_init: bool = False):
        if patch % 8:
            raise DlicError(f"FakeCodec patches must be multiples of 8, got {patch}")
        super().__init__(variant=variant, quality=int(quality), width=float(width), depth=int(depth), kernels=kernels,
                         padding=padding, patch=int(patch), batch=int(batch), steps=int(steps), lr=float(lr),
                         milestones=list(milestones), seed=int(seed), profile=profile,
                         train_files=[str(p) for p in train_files] if train_files else None,
                         val_files=[str(p) for p in val_files] if val_files else None, val_crop=val_crop,
                         max_side=max_side, val_every=val_every, ckpt_every=ckpt_every, identity_init=bool(identity_init))

    def build_args(self) -> dict:
        s = self.s
        args = {"width": s["width"], "depth": s["depth"], "padding": s["padding"]}
        if s["kernels"]:
            args["kernels"] = s["kernels"]
        return args

    def build(self, trainer: Trainer) -> dict:
        fake = build_model(f"fakecodec-{self.s['variant']}", **self.build_args())
        if self.s.get("identity_init"):
            zero_last_conv(fake.body)
        return {"fake": fake}

    def optimizers(self, nets: dict) -> dict:
        return {"fake": _adam(nets["fake"].parameters(), self.s["lr"])}

    def sampler(self, trainer: Trainer) -> PatchSampler:
        return PatchSampler(self.pool, self.s["patch"], self.s["batch"], self.seed, aligned=8,
                            target_quality=self.s["quality"])

    def train_step(self, batch, trainer: Trainer) -> dict:
        x, target = (trainer.to_device(t) for t in batch)
        with trainer.autocast():
            out = trainer.nets["fake"](x)
        loss = F.mse_loss(out.float(), target)
        self._step(loss, trainer)
        return {"loss": loss}

    def validate(self, trainer: Trainer) -> dict:
        from ...jpeg import luma_to_rgb
        from ...metrics.ssim import ssim

        psnrs, ssims = [], []
        with trainer.evaluating():
            for plane in self.val_planes:
                target = decode_luma(encode_luma(plane, self.s["quality"]))
                fake = _uint8(trainer.nets["fake"](self._val_input(plane, trainer))[0, 0])
                psnrs.append(_psnr(target, fake))
                ssims.append(float(ssim(luma_to_rgb(target), luma_to_rgb(fake))))
        row = {"psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims))}
        self._val_cache = (trainer.step, row)
        return row

    def release(self, trainer: Trainer) -> Release:
        sd = {k: v.detach().cpu() for k, v in trainer.nets["fake"].state_dict().items()}
        architecture = f"fakecodec-{self.s['variant']}"
        blob = {"format": RELEASE_FORMAT, "state_dict": sd, "nets": {"fake": sd}, "architecture": architecture,
                "build": self.build_args()}
        val = self._final_val(trainer)
        entry = {"architecture": architecture, "objective": "fakecodec", "rate_key": {"qf": self.s["quality"]},
                 "build": self.build_args(), "config": {**self.config(), "steps": self.steps}}
        return Release(blob, entry, val)


class PipelineTask(_JpegCnnTask):
    """One stage of the CNN-CR / CNN-SR training (see the module docstring)."""

    name = TASK

    def __init__(self, *, stage: str, pipeline: str = "cnn-yl", quality: int | None = None, lmbda: float = 0.0,
                 guidance: float | None = None, width: float = 1.0, patch: int = 96, batch: int = 16, steps: int = 1000,
                 lr: float = 1e-4, milestones: tuple[int, ...] = (), seed: int = 0, profile: str = "full",
                 init: dict | None = None, train_files=None, val_files=None, val_crop: int | None = None,
                 max_side: int | None = None, val_every: int | None = None, ckpt_every: int | None = None,
                 identity_init: bool = False):
        if stage not in STAGES:
            raise DlicError(f"stage must be one of {STAGES}, got {stage!r}")
        if stage in ("s4", "fc") and quality is None:
            raise DlicError(f"stage {stage} needs a quality factor")
        if patch % 16:
            raise DlicError(f"pipeline patches must be multiples of 16, got {patch}")
        init = {k: str(v) for k, v in (init or {}).items()}
        needed = {"s1": set(), "s2": {"sr"}, "s3": {"cr", "sr"}, "s4": {"cr", "sr"}, "fc": {"cr", "sr", "fake"}}[stage]
        if not needed <= set(init):
            raise DlicError(f"stage {stage} starts from released {sorted(needed)} networks; got {sorted(init)}")
        if guidance is None:
            guidance = GUIDANCE if stage == "fc" or (stage == "s3" and pipeline == "cnn-yl") else 0.0
        super().__init__(stage=stage, pipeline=pipeline, quality=quality, lmbda=float(lmbda), guidance=float(guidance),
                         width=float(width), patch=int(patch), batch=int(batch), steps=int(steps), lr=float(lr),
                         milestones=list(milestones), seed=int(seed), profile=profile,
                         init={k: {"path": v, "sha256": sha256_file(v)} for k, v in init.items()},
                         train_files=[str(p) for p in train_files] if train_files else None,
                         val_files=[str(p) for p in val_files] if val_files else None, val_crop=val_crop,
                         max_side=max_side, val_every=val_every, ckpt_every=ckpt_every, identity_init=bool(identity_init))

    def identity(self) -> dict:
        """The settings with the starting networks named by their sha256 alone (not where their files lie)."""
        ident = dict(self.config())
        ident["init"] = {k: v["sha256"] for k, v in ident["init"].items()}
        return ident

    @property
    def trains(self) -> tuple[str, ...]:
        return {"s1": ("sr",), "s2": ("cr",), "s3": ("cr", "sr"), "s4": ("sr",), "fc": ("cr",)}[self.s["stage"]]

    def build(self, trainer: Trainer) -> dict:
        stage, width = self.s["stage"], self.s["width"]
        nets = {"sr": build_model("cnn-sr", width=width)}
        if stage != "s1":
            nets["cr"] = build_model("cnn-cr", width=width)
        if self.s.get("identity_init"):
            for net in nets.values():
                zero_last_conv(net.body)
        sources = {k: load_nets(v["path"]) for k, v in self.s["init"].items() if k != "fake"}
        for name, net in nets.items():
            if name in sources:
                net.load_state_dict(sources[name][name])
        if stage == "fc":
            from ...zoo import load_release

            blob = load_release(self.s["init"]["fake"]["path"])
            nets["fake"] = build_model(blob["architecture"], **blob["build"])
            nets["fake"].load_state_dict(blob["nets"]["fake"])
        for name, net in nets.items():
            net.requires_grad_(name in self.trains)
        return nets

    def optimizers(self, nets: dict) -> dict:
        return {name: _adam(nets[name].parameters(), self.s["lr"]) for name in self.trains}

    def sampler(self, trainer: Trainer) -> PatchSampler:
        return PatchSampler(self.pool, self.s["patch"], self.s["batch"], self.seed, aligned=2, flips=True)

    def train_step(self, batch, trainer: Trainer) -> dict:
        s, nets = self.s, trainer.nets
        x = trainer.to_device(batch)
        for name, net in nets.items():
            net.train(name in self.trains)
        out: dict[str, torch.Tensor] = {}
        with trainer.autocast():
            if s["stage"] == "s1":
                rec = nets["sr"](downscale2(x))
            elif s["stage"] == "s4":
                with torch.no_grad():
                    lr = jpeg_roundtrip(nets["cr"](x), s["quality"])
                rec = nets["sr"](trainer.to_device(lr))
            else:
                lr = nets["cr"](x)
                rec = nets["sr"](nets["fake"](lr) if s["stage"] == "fc" else lr)
        loss = F.mse_loss(rec.float(), x)
        out["rec"] = loss.detach()
        if s["stage"] in ("s3", "fc") and s["guidance"]:
            guide = F.mse_loss(lr.float(), downscale2(x))
            loss = loss + s["guidance"] * guide
            out["guidance_mse"] = guide.detach()
        if s["stage"] == "s3" and s["lmbda"]:
            rate = soft_nonzero_count(lr.float(), s["quality"] or 55)
            loss = loss + rate_weight(s["lmbda"], s["batch"], s["patch"]) * rate
            out["rate_count"] = rate.detach() / x.shape[0]
        self._step(loss, trainer)
        out["loss"] = loss.detach()
        return out

    def validate(self, trainer: Trainer) -> dict:
        """PSNR-Y and bpp of the whole pipeline with the real JPEG at the stage's QF (55 where it has none)."""
        quality = int(self.s["quality"] or 55)
        psnrs, bits, pixels = [], 0, 0
        with trainer.evaluating():
            for plane in self.val_planes:
                x = self._val_input(plane, trainer)
                lr = nets_cr(trainer)(x)
                lr8 = _uint8(lr[0, 0])
                data = encode_luma(lr8, quality)
                dec = torch.from_numpy(decode_luma(data).astype(np.float32) / 255.0)[None, None]
                rec = _uint8(trainer.nets["sr"](trainer.to_device(dec))[0, 0])
                psnrs.append(_psnr(plane, rec))
                bits, pixels = bits + 8 * len(data), pixels + plane.size
        row = {"psnr": float(np.mean(psnrs)), "bpp": bits / pixels, "val_quality": quality}
        self._val_cache = (trainer.step, row)
        return row

    def release(self, trainer: Trainer) -> Release:
        s = self.s
        nets = {k: {n: t.detach().cpu() for n, t in v.state_dict().items()} for k, v in trainer.nets.items()}
        main = "sr" if s["stage"] in ("s1", "s4") else "cr"
        objective = {"s1": "cnn-yl-s1", "s2": "cnn-yl-s2"}.get(s["stage"], s["pipeline"])
        rate_key: dict = {}
        if s["stage"] in ("s4", "fc") or (s["stage"] == "s3" and s["lmbda"]):
            rate_key["qf"] = int(s["quality"])
        if s["stage"] == "s3" and s["lmbda"]:
            rate_key["lmbda"] = s["lmbda"]
        entry = {"architecture": f"cnn-{main}", "objective": objective, "rate_key": rate_key, "build": {"width": s["width"]},
                 "config": {**self.config(), "steps": self.steps}}
        blob = {"format": RELEASE_FORMAT, "state_dict": nets[main], "nets": nets}
        return Release(blob, entry, self._final_val(trainer))


def nets_cr(trainer: Trainer):
    """The run's CR, or PIL's bicubic ↓2 when the stage has none (S1)."""
    return trainer.nets.get("cr", downscale2)
