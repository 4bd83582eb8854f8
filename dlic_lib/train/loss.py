"""Rate–distortion losses: ``λ·255²·MSE + bpp`` and ``λ·(1 − MS-SSIM) + bpp`` (CompressAI's convention)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import DlicError
from ..metrics.psnr import mse_to_psnr
from ..models.compressai_models import METRICS

__all__ = ["RateDistortionLoss", "bits_per_pixel", "psnr_from_mse", "MS_SSIM_MIN_SIDE"]

#: MS-SSIM with 5 scales and an 11×11 window needs crops larger than (11 − 1)·2⁴ pixels
MS_SSIM_MIN_SIDE = 161


def bits_per_pixel(likelihoods: dict[str, torch.Tensor], num_pixels: int) -> torch.Tensor:
    """Estimated rate: ``Σ −log₂ p`` over all latent likelihoods, per image pixel (float32)."""
    total = sum(torch.log(lk.float()).sum() for lk in likelihoods.values())
    return total / (-math.log(2) * num_pixels)


def psnr_from_mse(mse: float, peak: float = 1.0) -> float:
    """PSNR in dB of a mean squared error on a ``[0, peak]`` scale (``inf`` for a zero error), as a float."""
    return float(mse_to_psnr(torch.tensor(float(mse), dtype=torch.float64), peak=peak))


class RateDistortionLoss(nn.Module):
    """``λ·D + R`` for a CompressAI model output ``{"x_hat", "likelihoods"}`` and its target in [0, 1].

    ``metric="mse"``: ``D = 255²·MSE``; ``metric="ms-ssim"``: ``D = 1 − MS-SSIM`` on RGB, data range 1
    (:func:`dlic_lib.metrics.ms_ssim`, mean over the batch). Returns a dict with ``loss``, ``bpp``,
    ``mse`` and (for MS-SSIM) ``ms_ssim``, all float32.
    """

    def __init__(self, lmbda: float, metric: str = "mse"):
        super().__init__()
        if metric not in METRICS:
            raise DlicError(f"unknown training metric {metric!r}; expected one of {', '.join(METRICS)}")
        if not (isinstance(lmbda, (int, float)) and math.isfinite(lmbda) and lmbda > 0):
            raise DlicError(f"λ must be a positive number, got {lmbda!r}")
        self.lmbda, self.metric = float(lmbda), metric

    def forward(self, output: dict, target: torch.Tensor) -> dict[str, torch.Tensor]:
        n, _, h, w = target.shape
        x_hat = output["x_hat"].float()
        out = {"bpp": bits_per_pixel(output["likelihoods"], n * h * w), "mse": torch.mean((x_hat - target.float()) ** 2)}
        if self.metric == "mse":
            distortion = 255.0**2 * out["mse"]
        else:
            if min(h, w) < MS_SSIM_MIN_SIDE:
                raise DlicError(f"MS-SSIM training needs crops of at least {MS_SSIM_MIN_SIDE} pixels, got {h}x{w}")
            from ..metrics import ms_ssim

            out["ms_ssim"] = ms_ssim(target.float(), x_hat, data_range=1.0, channels="rgb").mean().float()
            distortion = 1.0 - out["ms_ssim"]
        out["loss"] = self.lmbda * distortion + out["bpp"]
        return out
