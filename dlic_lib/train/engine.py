"""The training loop: seeded, resumable exactly, with atomic checkpoints, a tidy log and a release step.

A run lives in ``<checkpoint_dir>/runs/<run_id>/``: ``state.pt`` (model, both optimisers, scheduler,
crop-sampler and torch RNG states, log rows: everything needed to continue bit-identically),
``log.csv`` and, once finished, ``release.pt`` (entropy tables updated) registered in the checkpoint
registry with its validation RD point measured on real bitstreams.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import checkpoint_dir
from ..errors import DlicError
from .ladder import lambda_for_quality, quality_for_lambda
from .loss import MS_SSIM_MIN_SIDE, RateDistortionLoss, psnr_from_mse
from .models import build_model, check_model_name, entropy_parameter_names, model_class_name, model_stride, zoo_channels
from .presets import preset
from .quantizers import check_quantizer, mixed_forward

__all__ = ["TrainConfig", "TrainResult", "train", "run_dir_for", "STATE_FORMAT"]

STATE_FORMAT = "dlic-train-state/1"
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
        check_model_name(self.model)
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
        check_quantizer(cfg.quantizer, model_class_name(cfg.model))
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
            from ..data import sha256_file

            ident["init_from"] = sha256_file(self.init_from)
        digest = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:10]
        return f"{self.model}-{self.metric}-q{self.quality}-{self.profile}-{digest}"


@dataclass
class TrainResult:
    """What :func:`train` produced: run folder, steps done, the registry entry when finished, the log."""

    run_dir: Path
    step: int
    finished: bool
    entry: Any = None  # CheckpointEntry once released
    val: dict = field(default_factory=dict)
    log: Any = None  # pandas DataFrame
    config: Any = None  # the resolved TrainConfig

    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.pt"


def run_dir_for(config: TrainConfig) -> Path:
    """The folder of a run: ``<checkpoint_dir>/runs/<run_id>``."""
    return checkpoint_dir() / "runs" / config.resolved().run_id()


# -- helpers --------------------------------------------------------------------------------------
def _atomic_torch_save(obj: Any, path: Path) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _to_tensor(batch: np.ndarray, device: str, channels_last: bool):
    import torch

    x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return x.to(device, non_blocking=True).contiguous(memory_format=memory_format)


def _entropy_models_in_fp32(net) -> None:
    """Under autocast, run the entropy models (likelihoods down to 1e-9) in float32."""
    import torch
    from compressai.entropy_models import EntropyModel

    def wrap(forward):
        def run(*args, **kwargs):
            device_type = next((a.device.type for a in args if torch.is_tensor(a)), "cuda")
            with torch.autocast(device_type=device_type, enabled=False):
                args = tuple(a.float() if torch.is_tensor(a) and a.is_floating_point() else a for a in args)
                return forward(*args, **kwargs)

        return run

    for module in net.modules():
        if isinstance(module, EntropyModel):
            module.forward = wrap(module.forward)


class _StopFlag:
    """Turns SIGINT/SIGTERM into a request to stop at the next step boundary (after a checkpoint)."""

    def __init__(self):
        self.requested = False
        self._old: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.requested:  # a second signal stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False


def _evaluate_forward(net, crops, criterion, device: str) -> dict:
    """Mean loss/bpp/MSE/PSNR (and MS-SSIM) of the validation crops through the model's forward pass."""
    import torch

    totals: dict[str, float] = {"loss": 0.0, "bpp": 0.0, "mse": 0.0, "psnr": 0.0}
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for crop in crops:
            x = _to_tensor(crop[None], device, False)
            out = net(x)
            out["x_hat"] = out["x_hat"].clamp(0, 1)
            if criterion.metric == "ms-ssim" and min(x.shape[-2:]) < MS_SSIM_MIN_SIDE:  # too small for MS-SSIM
                losses = RateDistortionLoss(criterion.lmbda, "mse")(out, x)
                losses["loss"] = torch.tensor(float("nan"))
            else:
                losses = criterion(out, x)
            for k in ("loss", "bpp", "mse"):
                totals[k] += float(losses[k])
            totals["psnr"] += psnr_from_mse(float(losses["mse"]))
            if "ms_ssim" in losses:
                totals["ms_ssim"] = totals.get("ms_ssim", 0.0) + float(losses["ms_ssim"])
    net.train(was_training)
    return {k: v / len(crops) for k, v in totals.items()}


def rd_point(net, crops: Sequence[np.ndarray], device: str = "cpu") -> dict:
    """Mean bpp (real bitstream bytes), PSNR (RGB, 8-bit) and MS-SSIM of ``crops`` coded by ``net``.

    ``net`` must have up-to-date entropy tables (``net.update()``); crop sides must be multiples of 64.
    """
    import torch

    bpp = psnr = msssim = 0.0
    n_msssim = 0
    net.eval()
    with torch.no_grad():
        for crop in crops:
            x = _to_tensor(crop[None], device, False)
            h, w = x.shape[-2:]
            enc = net.compress(x)
            nbytes = sum(len(s) for group in enc["strings"] for s in group)
            x_hat = net.decompress(enc["strings"], enc["shape"])["x_hat"].clamp(0, 1)
            x_hat = torch.round(x_hat * 255) / 255
            bpp += nbytes * 8 / (h * w)
            psnr += psnr_from_mse(float(torch.mean((x_hat - x) ** 2)))
            if min(h, w) >= MS_SSIM_MIN_SIDE:
                from pytorch_msssim import ms_ssim

                msssim += float(ms_ssim(x_hat, x, data_range=1.0))
                n_msssim += 1
    n = len(crops)
    out = {"bpp": bpp / n, "psnr": psnr / n, "images": n}
    if n_msssim:
        out["ms_ssim"] = msssim / n_msssim
    return out


def _load_initial_weights(net, cfg: TrainConfig) -> None:
    """Start from the weights of the release checkpoint ``cfg.init_from`` (same model, N and M)."""
    import torch

    from ..checkpoints import load_release

    blob = load_release(cfg.init_from)
    if (blob.get("model"), int(blob.get("N", -1)), int(blob.get("M", -1))) != (cfg.model, cfg.N, cfg.M):
        raise DlicError(f"init_from {cfg.init_from} holds {blob.get('model')} N={blob.get('N')} M={blob.get('M')}, "
                        f"not {cfg.model} N={cfg.N} M={cfg.M}")
    state = {k: (v.float() if torch.is_floating_point(v) else v) for k, v in blob["state_dict"].items()}
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError) as exc:
        raise DlicError(f"init_from {cfg.init_from} does not fit {cfg.model}: {str(exc).splitlines()[0]}") from None


def _release_state_dict(net, dtype: str) -> dict:
    import torch

    keep_fp32 = entropy_parameter_names(net)
    state = {}
    for key, value in net.state_dict().items():
        value = value.detach().cpu().clone()
        if dtype == "fp16" and key not in keep_fp32 and torch.is_floating_point(value):
            value = value.half()
        state[key] = value
    return state


# -- the loop -------------------------------------------------------------------------------------
def train(
    config: TrainConfig,
    *,
    device: str | None = None,
    resume: bool = True,
    restart: bool = False,
    max_steps_this_run: int | None = None,
    progress: bool = True,
    progress_position: int | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
    prefetch: bool | None = None,
    register: bool = True,
) -> TrainResult:
    """Train ``config`` (resuming its run folder if a state exists) and release + register the model.

    ``resume=False`` refuses to continue an existing unfinished run; ``restart=True`` deletes it first.
    ``max_steps_this_run`` stops (after a checkpoint) once that many steps were done in this call.
    ``progress_position`` is the line of the progress bar when several runs train side by side.
    ``amp`` (bfloat16 autocast of the transforms; entropy models stay float32) defaults to on where the
    device computes bfloat16 natively (:func:`dlic_lib.device.native_bf16`), ``channels_last`` to on:
    on two AVX512-BF16 CPU cores the ``quick`` factorized model trains 2.3x faster with both (1.3x
    with channels-last alone) at the same Kodak RD point within run-to-run spread.
    SIGINT/SIGTERM stop cleanly at the next step after a checkpoint.
    """
    import torch

    from ..checkpoints import register_checkpoint
    from ..device import native_bf16, resolve_device
    from .crops import CropSampler, ImagePool, center_crops
    from .log import TrainLog
    from .sources import training_data

    cfg = config.resolved()
    dev = resolve_device(device)
    on_cuda = dev.startswith("cuda")
    amp = native_bf16(dev) if amp is None else bool(amp)
    channels_last = True if channels_last is None else bool(channels_last)
    prefetch = on_cuda if prefetch is None else bool(prefetch)

    run_dir = checkpoint_dir() / "runs" / cfg.run_id()
    state_path, release_path, log_path = run_dir / "state.pt", run_dir / "release.pt", run_dir / "log.csv"
    if restart and run_dir.exists():
        import shutil

        shutil.rmtree(run_dir)
    state = None
    if state_path.exists():
        try:
            state = torch.load(state_path, map_location="cpu", weights_only=False)  # our own file
        except Exception as exc:  # noqa: BLE001 - any unreadable state is reported the same way
            raise DlicError(f"training state {state_path} is unreadable ({type(exc).__name__}); start over with --restart") from None
        if state.get("format") != STATE_FORMAT:
            raise DlicError(f"training state {state_path} has an unknown format; start over with --restart")
        if not state.get("finished") and not resume:
            raise DlicError(f"an unfinished run exists in {run_dir} (step {state['step']}); continue it with --resume or start over with --restart")

    params = {k: getattr(cfg, k) for k in ("model", "metric", "lmbda", "quality", "N", "M", "profile", "seed")}
    if state is not None and state.get("finished") and release_path.exists():
        entry = None
        if register:
            entry = register_checkpoint(**state["release_info"])
        return TrainResult(run_dir, state["step"], True, entry, state.get("val", {}), TrainLog(params, state["log_rows"]).frame(), cfg)

    # data
    data = training_data(cfg.data)
    train_pool = ImagePool.load(data.train, max_side=cfg.max_side, progress=progress)
    val_pool = ImagePool.load(data.val, max_side=cfg.max_side, progress=False)
    val_side = max(64, min(cfg.val_crop, val_pool.min_side) // 64 * 64)
    if val_pool.min_side < 64:
        raise DlicError("validation images must be at least 64 pixels on each side")
    val_crops = center_crops(val_pool, val_side, cfg.val_images)
    sampler = CropSampler(train_pool, cfg.crop, cfg.batch, cfg.scale_range, cfg.seed, prefetch=prefetch)

    # model and optimisers (as CompressAI: quantiles go to the auxiliary optimiser)
    torch.manual_seed(cfg.seed)
    net = build_model(cfg.model, cfg.N, cfg.M)
    if state is None and cfg.init_from is not None:
        _load_initial_weights(net, cfg)
    net = net.to(dev)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    if amp:
        _entropy_models_in_fp32(net)
    main_params = [p for n, p in net.named_parameters() if not n.endswith(".quantiles")]
    aux_params = [p for n, p in net.named_parameters() if n.endswith(".quantiles")]
    optimizer = torch.optim.Adam(main_params, lr=cfg.lr)
    aux_optimizer = torch.optim.Adam(aux_params, lr=cfg.aux_lr)
    milestones = sorted({max(1, round(f * cfg.steps)) for f in cfg.lr_decay_at if 0 < f < 1})
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=cfg.lr_gamma)
    criterion = RateDistortionLoss(cfg.lmbda, cfg.metric)
    forward = (lambda batch: mixed_forward(net, batch)) if cfg.quantizer == "mixed" else net

    provenance = {**data.provenance, "n_train": len(data.train), "n_val": len(data.val), "val_crops": len(val_crops), "val_side": val_side,
                  "train_files": [p.name for p in data.train], "val_files": [p.name for p in data.val]}
    log = TrainLog(params)
    step, elapsed = 0, 0.0
    window = {"loss": 0.0, "bpp": 0.0, "mse": 0.0, "ms_ssim": 0.0, "aux": 0.0, "n": 0}
    if state is not None:
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        aux_optimizer.load_state_dict(state["aux_optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        sampler.load_state_dict(state["sampler"])
        torch.set_rng_state(state["torch_rng"])
        if on_cuda and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], torch.device(dev))
        step, elapsed, window = state["step"], state["elapsed_s"], dict(state["window"])
        log = TrainLog(params, state["log_rows"])

    def save_state(finished: bool = False, extra: dict | None = None) -> None:
        blob = {
            "format": STATE_FORMAT,
            "config": cfg.as_dict(),
            "step": step,
            "finished": finished,
            "elapsed_s": elapsed + (time.perf_counter() - t0),
            "model": net.state_dict(),
            "optimizer": optimizer.state_dict(),
            "aux_optimizer": aux_optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "sampler": sampler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(torch.device(dev)) if on_cuda else None,
            "window": {k: v if k == "n" else float(v) for k, v in window.items()},
            "log_rows": log.rows,
            **(extra or {}),
        }
        _atomic_torch_save(blob, state_path)
        log.write(log_path)

    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    last_ckpt = t0
    steps_this_run = 0
    net.train()
    bar = tqdm(total=cfg.steps, initial=step, desc=f"{cfg.model} {cfg.metric} λ={cfg.lmbda:g}", unit="step", disable=not progress, dynamic_ncols=True, position=progress_position)
    autocast = torch.autocast(device_type="cuda" if on_cuda else "cpu", dtype=torch.bfloat16) if amp else None
    stopped = False
    try:
        with _StopFlag() as stop:
            while step < cfg.steps:
                if stop.requested or (max_steps_this_run is not None and steps_this_run >= max_steps_this_run):
                    stopped = True
                    break
                x = _to_tensor(sampler.next_batch(), dev, channels_last)
                optimizer.zero_grad(set_to_none=True)
                aux_optimizer.zero_grad(set_to_none=True)
                if autocast is not None:
                    with autocast:
                        out = forward(x)
                else:
                    out = forward(x)
                losses = criterion(out, x)
                losses["loss"].backward()
                if cfg.clip_max_norm:
                    torch.nn.utils.clip_grad_norm_(main_params, cfg.clip_max_norm)
                optimizer.step()
                aux_loss = net.aux_loss()
                aux_loss.backward()
                aux_optimizer.step()
                scheduler.step()
                step += 1
                steps_this_run += 1
                bar.update(1)

                window["n"] += 1
                for key, value in (("loss", losses["loss"]), ("bpp", losses["bpp"]), ("mse", losses["mse"]), ("aux", aux_loss)):
                    window[key] = window[key] + value.detach()  # stays on the device: no sync per step
                if "ms_ssim" in losses:
                    window["ms_ssim"] = window["ms_ssim"] + losses["ms_ssim"].detach()
                now_elapsed = elapsed + (time.perf_counter() - t0)
                if step % cfg.log_every == 0 or step == cfg.steps:
                    n = window["n"]
                    window = {k: v if k == "n" else float(v) for k, v in window.items()}
                    row = log.add(
                        step=step, split="train", lr=optimizer.param_groups[0]["lr"], loss=window["loss"] / n, bpp=window["bpp"] / n,
                        mse=window["mse"] / n, psnr=psnr_from_mse(window["mse"] / n),
                        ms_ssim=window["ms_ssim"] / n if cfg.metric == "ms-ssim" else None, aux_loss=window["aux"] / n,
                        images=n * cfg.batch, elapsed_s=now_elapsed,
                    )
                    window = {k: 0 if k == "n" else 0.0 for k in window}
                    bar.set_postfix(loss=f"{row['loss']:.3f}", bpp=f"{row['bpp']:.3f}", psnr=f"{row['psnr']:.2f}")
                if step % cfg.val_every == 0 or step == cfg.steps:
                    v = _evaluate_forward(net, val_crops, criterion, dev)
                    log.add(step=step, split="val", lr=optimizer.param_groups[0]["lr"], loss=v["loss"], bpp=v["bpp"], mse=v["mse"],
                            psnr=v["psnr"], ms_ssim=v.get("ms_ssim"), images=len(val_crops), elapsed_s=now_elapsed)
                if step % cfg.ckpt_every == 0 or time.perf_counter() - last_ckpt > cfg.ckpt_seconds:
                    save_state()
                    last_ckpt = time.perf_counter()
            if stopped or step < cfg.steps:
                save_state()
                if stop.requested:
                    raise KeyboardInterrupt
                return TrainResult(run_dir, step, False, None, {}, log.frame(), cfg)
    finally:
        bar.close()
        sampler.close()

    # release: entropy tables, RD point on real bitstreams, atomic save, registry entry
    net.update(force=True)
    val = rd_point(net, val_crops, dev)
    val["bpp_estimate"] = _evaluate_forward(net, val_crops, criterion, dev)["bpp"]
    train_config = {**cfg.as_dict(), "data_provenance": provenance, "device": dev, "amp": amp, "channels_last": channels_last,
                    "torch": str(torch.__version__), "train_seconds": elapsed + (time.perf_counter() - t0), "run_id": cfg.run_id()}
    blob = {
        "format": "dlic-checkpoint/1", "model": cfg.model, "metric": cfg.metric, "quality": cfg.quality, "lmbda": cfg.lmbda,
        "N": cfg.N, "M": cfg.M, "state_dict": _release_state_dict(net, cfg.release_dtype), "config": train_config, "val": val,
    }
    _atomic_torch_save(blob, release_path)
    from ..data import sha256_file

    release_info = dict(model=cfg.model, metric=cfg.metric, quality=cfg.quality, lmbda=cfg.lmbda, N=cfg.N, M=cfg.M,
                        path=str(release_path), sha256=sha256_file(release_path), config=train_config, val=val)
    save_state(finished=True, extra={"release_info": release_info, "val": val})
    log.write(run_dir / "log.parquet")
    entry = register_checkpoint(**release_info) if register else None
    return TrainResult(run_dir, step, True, entry, val, log.frame(), cfg)
