"""ProxIQA training (Chen et al. 2020): a BLS codec whose loss is a learned proxy of a quality metric.

One :class:`ProxiqaTask` covers every run of the chapter, chosen by ``proxy``:

* ``"none"`` — plain rate–distortion training, ``λ·255²·MSE + bpp`` (``alpha`` is ignored);
* ``"alternating"`` — eq. 10–11: each step (1) updates the codec with the proxy frozen, loss
  ``λ·[α·|100 − M̂(x, x̂)| + (1 − α)·255²·MSE] + bpp``; (2) labels that step's reconstructions with
  the true metric (libvmaf VMAF v0.6.1 in one FFmpeg call, or SSIM/MS-SSIM ×100 from
  :mod:`dlic_lib.metrics`); the last ``anchors`` pairs of the batch are replaced by the pristine pair
  ``(x, x)`` with label ``anchor_label`` (97 in the authors' script); (3) one proxy step on
  ``(M̂ − M)²``. ``proxy_warmup`` proxy-only steps on the starting codec come first;
* ``"frozen"`` — the codec step alone, against a pre-trained proxy that never changes (Fig. 6);
* ``"pretrain"`` — the proxy alone, on patches distorted by JPEG, blur and noise (the frozen proxy);
* ``"direct"`` — the metric itself as the loss: ``λ·[α·100·(1 − SSIM) + (1 − α)·255²·MSE] + bpp``
  (Table IV: ``alpha=1`` is eq. 14, ``alpha=0.5`` eq. 13).

The codec is BLS (``architecture="bls2017"``), BMSHJ (``"bmshj2018-hyperprior"``, CompressAI's scale
hyperprior with ``N = M``; §IV-C) or, fine-tuned from a chapter-2 release, the mean-scale hyperprior
(``"mbt2018-mean"``, ``M`` channels in the latent). ``profile`` names the book profile that made the run (in the zoo).

The absolute value in the proxy loss and the pristine anchors follow the authors' script. Codec,
proxy and their three optimisers (codec, entropy-model quantiles, proxy) live in one training state,
so a killed run resumes bit for bit. Transforms run under bfloat16 autocast where the trainer enables
it; the entropy model and the losses stay in float32.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import DlicError
from ...models.bls2017 import BLS2017
from ...models.proxiqa import ProxIQA
from ..crops import CropSampler, ImagePool, center_crops
from ..sources import training_data
from ..task import Release, Task, Trainer
from .proxiqa_labels import distort_batch, true_scores

__all__ = ["ProxiqaSettings", "ProxiqaTask", "PROXY_MODES", "TARGETS", "ARCHITECTURES", "SHORT_NAMES", "true_scores", "distort_batch",
           "build_codec", "load_release"]

PROXY_MODES = ("none", "alternating", "frozen", "pretrain", "direct")
TARGETS = ("vmaf", "ssim", "ms_ssim")
ARCHITECTURES = ("bls2017", "bmshj2018-hyperprior", "mbt2018-mean")
#: the codecs' short names in run descriptions and curve labels
SHORT_NAMES = {"bls2017": "BLS", "bmshj2018-hyperprior": "BMSHJ", "mbt2018-mean": "MSH"}


@dataclass(frozen=True)
class ProxiqaSettings:
    """Everything that determines a run (hashed into its id)."""

    proxy: str = "alternating"
    target: str = "vmaf"
    architecture: str = "bls2017"
    N: int = 64
    M: int | None = None  # latent channels of the hyperprior codecs (None: N)
    lmbda: float = 0.0134
    alpha: float = 0.5
    steps: int = 300
    batch: int = 8
    patch: int = 128
    lr: float = 1e-4
    proxy_lr: float = 1e-3
    aux_lr: float = 1e-3
    anchors: int = 1
    anchor_label: float = 97.0
    proxy_warmup: int = 0
    data: str = "wikimedia-photos"
    scale_range: tuple[float, float] = (1.0, 2.0)
    init_codec: str | None = None
    init_proxy: str | None = None
    val_patches: int = 4
    seed: int = 0
    profile: str | None = None

    def check(self) -> "ProxiqaSettings":
        if self.proxy not in PROXY_MODES:
            raise DlicError(f"proxy must be one of {', '.join(PROXY_MODES)}, got {self.proxy!r}")
        if self.architecture not in ARCHITECTURES:
            raise DlicError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.target not in TARGETS:
            raise DlicError(f"target must be one of {', '.join(TARGETS)}, got {self.target!r}")
        if self.proxy == "direct" and self.target == "vmaf":
            raise DlicError("direct training needs a differentiable target: ssim or ms_ssim")
        if not 0.0 <= self.alpha <= 1.0:
            raise DlicError(f"alpha must lie in [0, 1], got {self.alpha!r}")
        if not 0 <= self.anchors < self.batch:
            raise DlicError(f"anchors must be in 0..batch-1, got {self.anchors} for a batch of {self.batch}")
        if self.proxy == "frozen" and not self.init_proxy:
            raise DlicError("a frozen proxy needs init_proxy (a pre-trained proxy release)")
        if self.target == "ms_ssim" and self.patch < 161:
            raise DlicError(f"MS-SSIM needs patches of at least 161 pixels (5 scales, 11×11 window), got {self.patch}")
        if self.M is not None and (self.architecture == "bls2017" or self.M < 1):
            raise DlicError(f"M applies to the hyperprior codecs and must be positive, got M={self.M!r} for {self.architecture}")
        if self.patch % 16:
            raise DlicError(f"patch must be a multiple of 16, got {self.patch}")
        return self


def _load_blob(path: str) -> dict:
    from ...zoo import load_release

    return load_release(path)


class ProxiqaTask(Task):
    """One ProxIQA run (see the module docstring); ``Trainer(ProxiqaTask(settings)).fit()`` runs it."""

    start_files = ("init_codec", "init_proxy")
    name = "proxiqa"
    log_every, val_every, ckpt_every = 25, 100, 50

    def __init__(self, settings: ProxiqaSettings | None = None, **overrides: Any):
        unknown = set(overrides) - {f.name for f in fields(ProxiqaSettings)}
        if unknown:
            raise DlicError(f"unknown ProxIQA setting(s): {', '.join(sorted(unknown))}")
        s = replace(settings or ProxiqaSettings(), **overrides).check()
        self.s, self.seed = s, s.seed
        self.steps = s.steps + (s.proxy_warmup if s.proxy == "alternating" else 0)
        self.labeler = true_scores  # (target, reference, distorted) -> labels; replaceable in tests
        self._val: torch.Tensor | None = None
        self._distort_rng = np.random.default_rng(s.seed + 1)

    # -- identity --------------------------------------------------------------------------------
    def config(self) -> dict:
        config = asdict(self.s)
        if config["M"] is None:  # runs made before M existed keep their ids
            del config["M"]
        return config

    @property
    def settings(self) -> ProxiqaSettings:
        return self.s

    def describe(self) -> str:
        return f"{SHORT_NAMES[self.s.architecture]} {self.objective()} λ={self.s.lmbda:g}"

    def log_params(self) -> dict:
        return {k: self.config()[k] for k in ("proxy", "target", "N", "lmbda", "alpha", "patch", "batch")}

    # -- building --------------------------------------------------------------------------------
    def setup(self, trainer: Trainer) -> None:
        data = training_data(self.s.data)
        self._pool = ImagePool.load(data.train)
        val_pool = ImagePool.load(data.val)
        crops = center_crops(val_pool, self.s.patch, limit=self.s.val_patches)
        crops = [c for c in crops if c.shape[:2] == (self.s.patch, self.s.patch)]
        self._val = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div(255)

    def build(self, trainer: Trainer) -> dict:
        s = self.s
        nets: dict = {"codec": build_codec(s.architecture, s.N, s.M)} if s.proxy != "pretrain" else {}
        if s.proxy != "none":
            nets["proxy"] = ProxIQA(s.patch)
        if not trainer.resuming:
            if s.init_codec and "codec" in nets:
                state = _load_blob(s.init_codec)["state_dict"]  # float16 in a quick chapter-2 release: widened
                nets["codec"].load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
            if s.init_proxy and "proxy" in nets:
                nets["proxy"].load_state_dict(_load_blob(s.init_proxy)["proxy"])
        return nets

    def optimizers(self, nets: dict) -> dict:
        s, opts = self.s, {}
        if "codec" in nets:
            named = list(nets["codec"].named_parameters())
            opts["codec"] = torch.optim.Adam([p for n, p in named if not n.endswith(".quantiles")], lr=s.lr)
            opts["aux"] = torch.optim.Adam([p for n, p in named if n.endswith(".quantiles")], lr=s.aux_lr)
        if "proxy" in nets and s.proxy in ("alternating", "pretrain"):
            opts["proxy"] = torch.optim.Adam(nets["proxy"].parameters(), lr=s.proxy_lr)
        return opts

    def sampler(self, trainer: Trainer) -> CropSampler:
        return CropSampler(self._pool, self.s.patch, self.s.batch, self.s.scale_range, seed=self.s.seed)

    # -- the pieces of a step --------------------------------------------------------------------
    @staticmethod
    def codec_forward(codec: Any, x: torch.Tensor, trainer: Trainer) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruction (float32) and bits per pixel; transforms under autocast, entropy model in float32."""
        n, _, h, w = x.shape
        if not isinstance(codec, BLS2017):  # BMSHJ: CompressAI's forward, float32 throughout
            out = codec(x)
            bpp = sum(torch.log2(v.float()).sum() for v in out["likelihoods"].values()).neg() / (n * h * w)
            return out["x_hat"].float(), bpp
        with trainer.autocast():
            y = codec.g_a(x)
        y_hat, likelihoods = codec.entropy_bottleneck(y.float())
        with trainer.autocast():
            x_hat = codec.g_s(y_hat)
        bpp = torch.log2(likelihoods.float()).sum().neg() / (n * h * w)
        return x_hat.float(), bpp

    def _distortion(self, x: torch.Tensor, x_hat: torch.Tensor, trainer: Trainer) -> dict:
        s, out = self.s, {"mse": torch.mean((x_hat - x) ** 2)}
        pixel = 255.0**2 * out["mse"]
        if s.proxy == "none":
            out["dist"] = pixel
            return out
        if s.proxy == "direct":
            from ...metrics import ms_ssim, ssim

            metric = ssim if s.target == "ssim" else ms_ssim
            out["score"] = 100.0 * metric(x, x_hat.clamp(0, 1), data_range=1.0).float().mean()
        else:
            proxy = trainer.nets["proxy"]
            with trainer.autocast():
                predicted = proxy(x, x_hat)
            out["score"] = predicted.float().mean()
            out["proxy_loss_codec"] = (100.0 - predicted.float()).abs().mean()
        perceptual = out.get("proxy_loss_codec", 100.0 - out["score"])
        out["dist"] = s.alpha * perceptual + (1.0 - s.alpha) * pixel
        return out

    def codec_step(self, x: torch.Tensor, trainer: Trainer) -> tuple[torch.Tensor, dict]:
        """One codec update with the proxy frozen; returns this step's reconstruction (detached)."""
        codec, opt, aux_opt = trainer.nets["codec"], trainer.optimizers["codec"], trainer.optimizers["aux"]
        proxy = trainer.nets.get("proxy")
        if proxy is not None:
            proxy.requires_grad_(False)
        opt.zero_grad(set_to_none=True)
        aux_opt.zero_grad(set_to_none=True)
        x_hat, bpp = self.codec_forward(codec, x, trainer)
        parts = self._distortion(x, x_hat, trainer)
        loss = self.s.lmbda * parts.pop("dist") + bpp
        loss.backward()
        torch.nn.utils.clip_grad_norm_(opt.param_groups[0]["params"], 1.0)
        opt.step()
        aux = codec.aux_loss()
        aux.backward()
        aux_opt.step()
        if proxy is not None:
            proxy.requires_grad_(True)
        values = {"n_codec": 1, "loss": loss.detach(), "bpp": bpp.detach(), "aux": aux.detach(), **parts}
        return x_hat.detach().clamp(0, 1), {k: v.detach() if torch.is_tensor(v) else v for k, v in values.items()}

    def label(self, x: torch.Tensor, x_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pairs and labels for the proxy: the true metric of each reconstruction, pristine anchors last."""
        k = x.shape[0] - self.s.anchors
        distorted = torch.cat([x_hat[:k], x[k:]]) if self.s.anchors else x_hat
        labels = self.labeler(self.s.target, x[:k].cpu(), x_hat[:k].cpu())
        labels = torch.cat([labels.float(), torch.full((self.s.anchors,), self.s.anchor_label)])
        return distorted, labels.to(x.device)

    def proxy_step(self, x: torch.Tensor, distorted: torch.Tensor, labels: torch.Tensor, trainer: Trainer) -> dict:
        """One proxy update on ``(M̂ − M)²`` (eq. 11)."""
        proxy, opt = trainer.nets["proxy"], trainer.optimizers["proxy"]
        opt.zero_grad(set_to_none=True)
        with trainer.autocast():
            predicted = proxy(x, distorted)
        loss = torch.mean((predicted.float() - labels) ** 2)
        loss.backward()
        opt.step()
        return {"n_proxy": 1, "proxy_mse": loss.detach(), "label": labels.mean(), "proxy_pred": predicted.detach().float().mean()}

    def log_row(self, sums: dict, n: int, trainer: Trainer) -> dict:
        """Means over the steps that produced each value (warm-up steps have no codec values)."""
        n_codec, n_proxy = float(sums.get("n_codec", 0)), float(sums.get("n_proxy", 0))
        row = {}
        for key, value in sums.items():
            if key in ("n_codec", "n_proxy"):
                continue
            count = n_proxy if key in ("proxy_mse", "label", "proxy_pred") else n_codec
            row[key] = float(value) / count if count else float("nan")
        return row

    def train_step(self, batch: np.ndarray, trainer: Trainer) -> dict:
        x = trainer.to_device(torch.from_numpy(batch).permute(0, 3, 1, 2).float().div(255))
        mode = self.s.proxy
        if mode == "pretrain":
            distorted = distort_batch(x, self._distort_rng).to(x.device)
            pairs, labels = self.label(x, distorted)
            return self.proxy_step(x, pairs, labels, trainer)
        if mode == "alternating" and trainer.step < self.s.proxy_warmup:
            with torch.no_grad():
                x_hat = self.codec_forward(trainer.nets["codec"], x, trainer)[0].clamp(0, 1)
            return self.proxy_step(x, *self.label(x, x_hat), trainer)
        x_hat, values = self.codec_step(x, trainer)
        if mode == "alternating":
            values.update(self.proxy_step(x, *self.label(x, x_hat), trainer))
        return values

    # -- resumption of the distortion stream -------------------------------------------------------
    def state_dict(self) -> dict:
        return {"distort_rng": self._distort_rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        if "distort_rng" in state:
            self._distort_rng.bit_generator.state = state["distort_rng"]

    # -- validation and release ---------------------------------------------------------------------
    def validate(self, trainer: Trainer) -> dict | None:
        if self._val is None or not len(self._val):
            return None
        x = trainer.to_device(self._val)
        row: dict = {}
        with trainer.evaluating():
            if "codec" in trainer.nets:
                x_hat, bpp = self.codec_forward(trainer.nets["codec"], x, trainer)
                x_hat = x_hat.clamp(0, 1)
                row.update(bpp=float(bpp), psnr=float(10 * torch.log10(1 / torch.mean((x_hat - x) ** 2))))
            else:
                x_hat = distort_batch(x, np.random.default_rng(12345)).to(x.device)
            row[f"true_{self.s.target}"] = float(self.labeler(self.s.target, x.cpu(), x_hat.cpu()).mean())
            if "proxy" in trainer.nets:
                row[f"proxy_{self.s.target}"] = float(trainer.nets["proxy"](x, x_hat).float().mean())
        return row

    def objective(self) -> str:
        """The zoo objective: ``mse``, ``<target>_p`` (alternating), ``<target>_p_frozen``, ``<target>_direct``, ``<target>`` (proxy)."""
        s = self.s
        return {"none": "mse", "alternating": f"{s.target}_p", "frozen": f"{s.target}_p_frozen",
                "direct": f"{s.target}_direct", "pretrain": s.target}[s.proxy]  # fmt: skip

    def release(self, trainer: Trainer) -> Release:
        """The codec (entropy tables ready) as ``state_dict``, the proxy next to it (or alone) as ``proxy``."""
        from ...zoo import RELEASE_FORMAT

        blob: dict = {"format": RELEASE_FORMAT, "settings": self.config()}
        if "proxy" in trainer.nets:
            blob["proxy"] = trainer.nets["proxy"].to("cpu", memory_format=torch.contiguous_format).state_dict()
        if "codec" in trainer.nets:
            codec = trainer.nets["codec"].to("cpu", memory_format=torch.contiguous_format)
            codec.update(force=True)
            blob["state_dict"] = codec.state_dict()
            entry = {"architecture": self.s.architecture, "build": _build_args(self.s.architecture, self.s.N, self.s.M),
                     "rate_key": {"lmbda": self.s.lmbda, "alpha": self.s.alpha}}  # fmt: skip
        else:
            blob["state_dict"] = blob["proxy"]
            entry = {"architecture": "proxiqa", "build": {"patch": self.s.patch}, "rate_key": {}}
        entry.update(objective=self.objective(), config=self.config())
        last_val = next((r for r in reversed(trainer.log.rows) if r.get("split") == "val"), {})
        keys = ("bpp", "psnr", f"true_{self.s.target}", f"proxy_{self.s.target}")
        return Release(blob=blob, entry=entry, val={k: float(last_val[k]) for k in keys if k in last_val})


def _build_args(architecture: str, N: int, M: int | None = None) -> dict:
    return {"N": N} if architecture == "bls2017" else {"N": N, "M": M or N}


def build_codec(architecture: str, N: int, M: int | None = None) -> Any:
    """BLS with ``N`` channels, or a hyperprior codec with ``N`` and ``M`` (default ``M = N``)."""
    if architecture == "bls2017":
        return BLS2017(N)
    from ...models import build_model

    return build_model(architecture, **_build_args(architecture, N, M))


def load_release(path: str | Path) -> tuple[Any, ProxIQA | None, dict]:
    """The codec (entropy tables ready) and proxy stored in a release file, with the run's settings."""
    from ...zoo import load_release as read

    blob = read(path)
    settings = blob.get("settings", {})
    proxy_state = blob.get("proxy")
    codec = None
    if settings.get("proxy") != "pretrain":
        architecture = settings.get("architecture", "bls2017")
        if architecture == "bls2017":
            codec = BLS2017.from_state_dict(blob["state_dict"]).eval()
        else:
            codec = build_codec(architecture, int(settings["N"]), settings.get("M"))
            codec.load_state_dict(blob["state_dict"])
            codec.eval()
    proxy = None
    if proxy_state is not None:
        proxy = ProxIQA(int(settings.get("patch", 128)))
        proxy.load_state_dict(proxy_state)
        proxy.eval()
    return codec, proxy, settings
