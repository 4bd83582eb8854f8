"""Settings of a rate–distortion training run of a CompressAI architecture, and its run id."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import DlicError
from ...models.compressai_models import check_architecture, class_name, lambda_for_quality, model_stride, quality_for_lambda, zoo_channels
from ..loss import MS_SSIM_MIN_SIDE
from ..presets import preset
from ..quantizers import check_quantizer

__all__ = ["TrainConfig", "MS_SSIM_CROP"]

#: config fields that do not change what is trained (left out of the run id)
_NOT_IN_RUN_ID = ("ckpt_every", "ckpt_seconds", "release_dtype")
#: crop side used for MS-SSIM training when the profile's crop is too small for 5-scale MS-SSIM
MS_SSIM_CROP = 192


@dataclass
class TrainConfig:
    """Everything that determines a training run (recorded in its checkpoints and registry entry)."""

    model: str = "bmshj2018-factorized"
    metric: str = "mse"
    lmbda: float = 0.0067
    quality: int | None = None  # default: the zoo quality nearest to λ
    N: int | None = None  # default: the zoo's size for the quality
    M: int | None = None
    steps: int = 5000
    crop: int = 96
    batch: int = 8
    lr: float = 1e-3
    aux_lr: float = 1e-3
    lr_decay_at: tuple[float, ...] = (0.8, 0.95)  # fractions of ``steps`` where lr is multiplied by lr_gamma
    lr_gamma: float = 0.3
    clip_max_norm: float = 1.0
    scale_range: tuple[float, float] = (1.0, 2.0)
    max_side: int | None = None  # down-scale training images to this longest side once, when decoding
    val_every: int = 500
    val_crop: int = 256
    val_images: int = 4
    ckpt_every: int = 500
    ckpt_seconds: float = 120.0
    log_every: int = 25
    release_dtype: str = "fp16"
    seed: int = 0
    data: Any = "wikimedia-photos"  # dataset name, folder, or list of image files
    profile: str = "custom"
    init_from: str | None = None  # release checkpoint whose weights start the run (fine-tuning), same model/N/M
    quantizer: str = "noise"  # "mixed": noisy rate, rounded (straight-through) latents into the decoder

    @classmethod
    def from_profile(cls, profile: str, **overrides: Any) -> "TrainConfig":
        """The preset sizes of ``profile`` with ``overrides`` (``None`` values are ignored).

        For ``metric="ms-ssim"`` a profile crop below 161 pixels becomes :data:`MS_SSIM_CROP`. A profile
        crop that is not a multiple of the model's stride (64 for the hyperprior models) is rounded up
        to one, and the profile batch scaled down so that a step sees about as many pixels.
        """
        values = preset(profile)
        given = {k: v for k, v in overrides.items() if v is not None}
        if given.get("metric") == "ms-ssim" and "crop" not in given and values["crop"] < MS_SSIM_MIN_SIDE:
            values["crop"] = MS_SSIM_CROP  # 5-scale MS-SSIM needs larger crops than the profile's
        if given.get("metric") == "ms-ssim" and "val_crop" not in given and values["val_crop"] < MS_SSIM_MIN_SIDE:
            values["val_crop"] = 192
        stride = model_stride(given.get("model", cls.model))
        if "crop" not in given and values["crop"] % stride:
            crop = -(-values["crop"] // stride) * stride
            if "batch" not in given:
                values["batch"] = max(1, round(values["batch"] * values["crop"] ** 2 / crop ** 2))
            values["crop"] = crop
        values.update(given)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise DlicError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        return cls(profile=profile, **values)

    def resolved(self) -> "TrainConfig":
        """A validated copy with quality, N and M filled in."""
        check_architecture(self.model)
        cfg = dataclasses.replace(self)
        cfg.quality = int(cfg.quality) if cfg.quality is not None else quality_for_lambda(cfg.lmbda, cfg.metric)
        lambda_for_quality(cfg.quality, cfg.metric)  # validates metric and quality range
        zn, zm = zoo_channels(cfg.model, cfg.quality)
        cfg.N = int(cfg.N) if cfg.N is not None else zn
        cfg.M = int(cfg.M) if cfg.M is not None else (cfg.N if cfg.model == "cheng2020-anchor" else zm)
        for name in ("steps", "crop", "batch", "val_every", "ckpt_every", "log_every", "val_images"):
            value = getattr(cfg, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DlicError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or cfg.seed < 0:
            raise DlicError(f"seed must be a non-negative integer, got {cfg.seed!r}")
        for name in ("lr", "aux_lr", "lr_gamma", "clip_max_norm"):
            value = getattr(cfg, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise DlicError(f"{name} must be a positive number, got {value!r}")
        stride = model_stride(cfg.model)
        if cfg.crop % stride:
            raise DlicError(f"crop size must be a multiple of {stride} ({cfg.model} down-samples by {stride}), got {cfg.crop}")
        if cfg.val_crop < 64:
            raise DlicError(f"val_crop must be at least 64 pixels, got {cfg.val_crop}")
        if cfg.metric == "ms-ssim" and cfg.crop < MS_SSIM_MIN_SIDE:
            raise DlicError(f"MS-SSIM training needs crops of at least {MS_SSIM_MIN_SIDE} pixels, got {cfg.crop}")
        check_quantizer(cfg.quantizer, class_name(cfg.model))
        if cfg.release_dtype not in ("fp32", "fp16"):
            raise DlicError(f"release_dtype must be 'fp32' or 'fp16', got {cfg.release_dtype!r}")
        cfg.lr_decay_at = tuple(float(f) for f in cfg.lr_decay_at)
        cfg.scale_range = tuple(float(s) for s in cfg.scale_range)  # type: ignore[assignment]
        if not isinstance(cfg.data, (str, Path)):
            cfg.data = [str(p) for p in cfg.data]
        elif isinstance(cfg.data, Path):
            cfg.data = str(cfg.data)
        if cfg.init_from is not None:
            cfg.init_from = str(cfg.init_from)
            if not Path(cfg.init_from).is_file():
                raise DlicError(f"init_from checkpoint not found: {cfg.init_from}")
        return cfg

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["lr_decay_at"] = list(d["lr_decay_at"])
        d["scale_range"] = list(d["scale_range"])
        return d

    def run_id(self) -> str:
        """``<model>-<metric>-q<quality>-<profile>-<hash of the settings>`` (call on a resolved config)."""
        ident = {k: v for k, v in self.as_dict().items() if k not in _NOT_IN_RUN_ID}
        if self.quantizer == "noise":
            del ident["quantizer"]  # run ids of runs with CompressAI's default quantizer do not depend on it
        if self.init_from is None:
            del ident["init_from"]  # nor do those of runs trained from scratch on this field
        else:  # the starting weights, not where their file lies
            from ...data import sha256_file

            ident["init_from"] = sha256_file(self.init_from)
        digest = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:10]
        return f"{self.model}-{self.metric}-q{self.quality}-{self.profile}-{digest}"
