"""Rate–distortion training of a CompressAI architecture, as one :class:`~dlic_lib.train.task.Task`.

As CompressAI's ``examples/train.py``: Adam on the transforms (gradient norm clipped), a second Adam
on the entropy bottleneck's ``quantiles`` (auxiliary loss), a step learning-rate schedule, crops
drawn by :class:`~dlic_lib.train.crops.CropSampler`. Under bfloat16 autocast the transforms run in
reduced precision and the entropy models in float32. The release stores the weights after
``update()`` (entropy-coder tables included; transforms in fp16 or fp32, entropy models in fp32)
with the validation RD point measured on real bitstreams, and is registered in the zoo as
``task="rd"``, ``rate_key={"quality", "lmbda"}``, ``build={"N", "M"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
import numpy as np

from ...errors import DlicError
from ...models.compressai_models import entropy_parameter_names
from ..log import LOG_COLUMNS
from ..loss import MS_SSIM_MIN_SIDE, RateDistortionLoss, psnr_from_mse
from ..quantizers import mixed_forward
from ..task import Release, Task
from .rd_config import TrainConfig

__all__ = ["RateDistortionTask", "rd_point", "images_to_tensor", "entropy_models_in_fp32", "LEGACY_STATE_FORMAT"]

LEGACY_STATE_FORMAT = "dlic-train-state/1"
RELEASE_FORMAT = "dlic-checkpoint/1"


def images_to_tensor(batch: np.ndarray, device: str, channels_last: bool):
    """``(B, H, W, 3)`` uint8 → float ``(B, 3, H, W)`` in [0, 1] on ``device``."""
    import torch

    x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return x.to(device, non_blocking=True).contiguous(memory_format=memory_format)


def entropy_models_in_fp32(net) -> None:
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


def _evaluate_forward(net, crops, criterion, device: str) -> dict:
    """Mean loss/bpp/MSE/PSNR (and MS-SSIM) of the validation crops through the model's forward pass."""
    import torch

    totals: dict[str, float] = {"loss": 0.0, "bpp": 0.0, "mse": 0.0, "psnr": 0.0}
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for crop in crops:
            x = images_to_tensor(crop[None], device, False)
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

    from ...metrics import ms_ssim

    bpp = psnr = msssim = 0.0
    n_msssim = 0
    net.eval()
    with torch.no_grad():
        for crop in crops:
            x = images_to_tensor(crop[None], device, False)
            h, w = x.shape[-2:]
            enc = net.compress(x)
            nbytes = sum(len(s) for group in enc["strings"] for s in group)
            x_hat = net.decompress(enc["strings"], enc["shape"])["x_hat"].clamp(0, 1)
            x_hat = torch.round(x_hat * 255) / 255
            bpp += nbytes * 8 / (h * w)
            psnr += psnr_from_mse(float(torch.mean((x_hat - x) ** 2)))
            if min(h, w) >= MS_SSIM_MIN_SIDE:
                msssim += float(ms_ssim(x, x_hat, data_range=1.0, channels="rgb").mean())
                n_msssim += 1
    n = len(crops)
    out = {"bpp": bpp / n, "psnr": psnr / n, "images": n}
    if n_msssim:
        out["ms_ssim"] = msssim / n_msssim
    return out


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


class RateDistortionTask(Task):
    """``λ·D + R`` training of ``config.model`` (see the module docstring); ``Trainer(task).fit()`` runs it.

    Networks: ``model``; optimisers: ``optimizer`` (transforms), ``aux_optimizer`` (quantiles);
    scheduler: ``scheduler``. ``prefetch`` prepares the next batch in a thread (default: on CUDA).
    """

    name = "rd"
    log_columns = LOG_COLUMNS

    def __init__(self, config: TrainConfig, *, prefetch: bool | None = None):
        self.cfg = cfg = config.resolved()
        self.prefetch = prefetch
        self.seed, self.steps = cfg.seed, cfg.steps
        self.log_every, self.val_every, self.ckpt_every, self.ckpt_seconds = cfg.log_every, cfg.val_every, cfg.ckpt_every, cfg.ckpt_seconds
        self.criterion = RateDistortionLoss(cfg.lmbda, cfg.metric)

    # -- identity -------------------------------------------------------------------------------
    def config(self) -> dict:
        return self.cfg.as_dict()

    def run_id(self) -> str:
        return self.cfg.run_id()

    @property
    def settings(self) -> TrainConfig:
        return self.cfg

    def log_params(self) -> dict:
        return {k: getattr(self.cfg, k) for k in ("model", "metric", "lmbda", "quality", "N", "M", "profile", "seed")}

    def describe(self) -> str:
        return f"{self.cfg.model} {self.cfg.metric} λ={self.cfg.lmbda:g}"

    # -- building -------------------------------------------------------------------------------
    def setup(self, trainer) -> None:
        from ..crops import ImagePool, center_crops
        from ..sources import training_data

        cfg = self.cfg
        data = training_data(cfg.data)
        self.train_pool = ImagePool.load(data.train, max_side=cfg.max_side, progress=trainer.progress)
        val_pool = ImagePool.load(data.val, max_side=cfg.max_side, progress=False)
        if val_pool.min_side < 64:
            raise DlicError("validation images must be at least 64 pixels on each side")
        val_side = max(64, min(cfg.val_crop, val_pool.min_side) // 64 * 64)
        self.val_crops = center_crops(val_pool, val_side, cfg.val_images)
        self.provenance = {**data.provenance, "n_train": len(data.train), "n_val": len(data.val), "val_crops": len(self.val_crops),
                           "val_side": val_side, "train_files": [p.name for p in data.train], "val_files": [p.name for p in data.val]}

    def sampler(self, trainer):
        from ..crops import CropSampler

        prefetch = trainer.device.startswith("cuda") if self.prefetch is None else bool(self.prefetch)
        cfg = self.cfg
        return CropSampler(self.train_pool, cfg.crop, cfg.batch, cfg.scale_range, cfg.seed, prefetch=prefetch)

    def build(self, trainer) -> dict:
        from ...models import build_model

        net = build_model(self.cfg.model, N=self.cfg.N, M=self.cfg.M)
        if not trainer.resuming and self.cfg.init_from is not None:
            self._load_initial_weights(net)
        if trainer.amp:
            entropy_models_in_fp32(net)
        return {"model": net}

    def _load_initial_weights(self, net) -> None:
        """Start from the weights of the release checkpoint ``init_from`` (same model, N and M)."""
        import torch

        from ...zoo import load_release

        cfg = self.cfg
        blob = load_release(cfg.init_from)
        if (blob.get("model"), int(blob.get("N", -1)), int(blob.get("M", -1))) != (cfg.model, cfg.N, cfg.M):
            raise DlicError(f"init_from {cfg.init_from} holds {blob.get('model')} N={blob.get('N')} M={blob.get('M')}, "
                            f"not {cfg.model} N={cfg.N} M={cfg.M}")
        state = {k: (v.float() if torch.is_floating_point(v) else v) for k, v in blob["state_dict"].items()}
        try:
            net.load_state_dict(state)
        except (RuntimeError, KeyError) as exc:
            raise DlicError(f"init_from {cfg.init_from} does not fit {cfg.model}: {str(exc).splitlines()[0]}") from None

    def optimizers(self, nets: dict) -> dict:
        import torch

        named = list(nets["model"].named_parameters())
        main = [p for n, p in named if not n.endswith(".quantiles")]
        aux = [p for n, p in named if n.endswith(".quantiles")]
        return {"optimizer": torch.optim.Adam(main, lr=self.cfg.lr), "aux_optimizer": torch.optim.Adam(aux, lr=self.cfg.aux_lr)}

    def schedulers(self, optimizers: dict) -> dict:
        import torch

        milestones = sorted({max(1, round(f * self.cfg.steps)) for f in self.cfg.lr_decay_at if 0 < f < 1})
        return {"scheduler": torch.optim.lr_scheduler.MultiStepLR(optimizers["optimizer"], milestones=milestones, gamma=self.cfg.lr_gamma)}

    # -- one step -------------------------------------------------------------------------------
    def train_step(self, batch: np.ndarray, trainer) -> dict:
        import torch

        net = trainer.nets["model"]
        optimizer, aux_optimizer = trainer.optimizers["optimizer"], trainer.optimizers["aux_optimizer"]
        x = images_to_tensor(batch, trainer.device, trainer.channels_last)
        optimizer.zero_grad(set_to_none=True)
        aux_optimizer.zero_grad(set_to_none=True)
        with trainer.autocast():
            out = mixed_forward(net, x) if self.cfg.quantizer == "mixed" else net(x)
        losses = self.criterion(out, x)
        losses["loss"].backward()
        if self.cfg.clip_max_norm:
            torch.nn.utils.clip_grad_norm_(optimizer.param_groups[0]["params"], self.cfg.clip_max_norm)
        optimizer.step()
        aux_loss = net.aux_loss()
        aux_loss.backward()
        aux_optimizer.step()
        trainer.schedulers["scheduler"].step()
        values = {"loss": losses["loss"], "bpp": losses["bpp"], "mse": losses["mse"], "aux": aux_loss}
        if "ms_ssim" in losses:
            values["ms_ssim"] = losses["ms_ssim"]
        return values

    def _lr(self, trainer) -> float:
        return trainer.optimizers["optimizer"].param_groups[0]["lr"]

    def log_row(self, sums: dict, n: int, trainer) -> dict:
        w = {k: float(v) for k, v in sums.items()}
        return dict(lr=self._lr(trainer), loss=w["loss"] / n, bpp=w["bpp"] / n, mse=w["mse"] / n, psnr=psnr_from_mse(w["mse"] / n),
                    ms_ssim=w["ms_ssim"] / n if self.cfg.metric == "ms-ssim" else None, aux_loss=w["aux"] / n, images=n * self.cfg.batch)

    def validate(self, trainer) -> dict:
        v = _evaluate_forward(trainer.nets["model"], self.val_crops, self.criterion, trainer.device)
        return dict(lr=self._lr(trainer), loss=v["loss"], bpp=v["bpp"], mse=v["mse"], psnr=v["psnr"], ms_ssim=v.get("ms_ssim"),
                    images=len(self.val_crops))

    # -- release --------------------------------------------------------------------------------
    def release(self, trainer) -> Release:
        import torch

        cfg, net = self.cfg, trainer.nets["model"]
        net.update(force=True)
        val = rd_point(net, self.val_crops, trainer.device)
        val["bpp_estimate"] = _evaluate_forward(net, self.val_crops, self.criterion, trainer.device)["bpp"]
        train_config = {**cfg.as_dict(), "data_provenance": self.provenance, "device": trainer.device, "amp": trainer.amp,
                        "channels_last": trainer.channels_last, "torch": str(torch.__version__),
                        "run_id": cfg.run_id()}
        blob = {"format": RELEASE_FORMAT, "model": cfg.model, "metric": cfg.metric, "quality": cfg.quality, "lmbda": cfg.lmbda,
                "N": cfg.N, "M": cfg.M, "state_dict": _release_state_dict(net, cfg.release_dtype), "config": train_config, "val": val}
        entry = dict(architecture=cfg.model, objective=cfg.metric, rate_key={"quality": cfg.quality, "lmbda": cfg.lmbda},
                     build={"N": cfg.N, "M": cfg.M}, config=train_config)
        return Release(blob, entry, val)

    # -- states of the first engine -------------------------------------------------------------
    def migrate_state(self, state: dict) -> dict:
        """Read a state written before the Trainer existed (``dlic-train-state/1``): same run, same content."""
        from ..task import STATE_FORMAT

        if state.get("format") != LEGACY_STATE_FORMAT:
            return super().migrate_state(state)
        window = dict(state.get("window") or {})
        out = {
            "format": STATE_FORMAT, "task": self.name, "config": state.get("config"), "step": state["step"],
            "finished": state.get("finished", False), "elapsed_s": state.get("elapsed_s", 0.0),
            "nets": {"model": state["model"]},
            "optimizers": {"optimizer": state["optimizer"], "aux_optimizer": state["aux_optimizer"]},
            "schedulers": {"scheduler": state["scheduler"]}, "sampler": state["sampler"],
            "rng": {"torch": state.get("torch_rng"), "cuda": state.get("cuda_rng")}, "task_state": {},
            "window": {"n": int(window.pop("n", 0)), "sums": window}, "log_rows": state.get("log_rows", []),
        }
        info = state.get("release_info")
        if info is not None:  # register_checkpoint's keyword arguments
            out["release_info"] = {"path": info["path"], "sha256": info["sha256"], "val": info.get("val", {}), "entry": dict(
                architecture=info["model"], objective=info["metric"], rate_key={"quality": info["quality"], "lmbda": info["lmbda"]},
                build={"N": info["N"], "M": info["M"]}, config=info.get("config", {}))}
            out["val"] = state.get("val", info.get("val", {}))
        return out
