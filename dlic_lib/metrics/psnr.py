"""PSNR on RGB, on luma and on weighted Y'CbCr planes.

Conventions:

* PSNR = 10·log10(255² / MSE) on the 0..255 scale (``data_range`` maps the input onto it); the
  MSE of one image pair is the mean over all its pixels (and channels, for ``psnr_rgb``).
  Identical images give ``inf`` unless ``max_db`` caps it (libvmaf caps 8-bit PSNR at 60 dB).
* Y'CbCr: :func:`dlic_lib.color.rgb_to_ycbcr`, default BT.601 full range (JPEG/JFIF), unrounded
  floats. ``round_planes=True`` rounds the planes to 8-bit integers first, as happens when the
  planes are stored as 8-bit YUV (what libvmaf and FFmpeg's ``psnr`` filter see).
* ``psnr_ycbcr`` = (w_Y·PSNR_Y + w_Cb·PSNR_Cb + w_Cr·PSNR_Cr) / (w_Y + w_Cb + w_Cr) with weights
  6:1:1 (JPEG AI common test conditions; seed 000) or e.g. 4:1:1 (seed 004's (4Y+U+V)/6).
* 4:2:0 decoded planes are compared after upsampling the chroma to full size with
  :func:`upsample_chroma` (the reference stays 4:4:4).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import color
from ._batch import MetricInputError, prepare_pair, to_luma

__all__ = ["psnr_rgb", "psnr_y", "psnr_ycbcr", "psnr_planes", "upsample_chroma", "mse_to_psnr"]


def mse_to_psnr(mse: torch.Tensor, peak: float = 255.0, max_db: float | None = None) -> torch.Tensor:
    """10·log10(peak² / mse), ``inf`` for zero MSE unless capped at ``max_db``."""
    mse = mse.double()
    out = 10.0 * torch.log10(peak**2 / mse)
    if max_db is not None:
        out = torch.clamp(out, max=max_db)
    return out


def _mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((x.double() - y.double()) ** 2).mean(dim=(-2, -1))  # (N, C)


def psnr_rgb(
    reference: Any, distorted: Any, data_range: float = 255.0, *, max_db: float | None = None, device: str | None = None
) -> torch.Tensor:
    """PSNR over all RGB samples (one MSE over the three channels; ``sewar.full_ref.psnr`` on RGB)."""
    x, y = prepare_pair(reference, distorted, data_range, device, torch.float64, metric="psnr_rgb")
    return mse_to_psnr(_mse(x, y).mean(dim=1), max_db=max_db)


def psnr_y(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    standard: str = "bt601",
    range: str = "full",
    round_planes: bool = False,
    max_db: float | None = None,
    device: str | None = None,
) -> torch.Tensor:
    """PSNR of the luma plane Y' (BT.601 full range by default; see the module docstring)."""
    x, y = prepare_pair(reference, distorted, data_range, device, torch.float64, metric="psnr_y")
    x, y = to_luma(x, standard, range), to_luma(y, standard, range)
    if round_planes:
        x, y = _round8(x), _round8(y)
    return mse_to_psnr(_mse(x, y)[:, 0], max_db=max_db)


def psnr_planes(
    reference: Any, distorted: Any, data_range: float = 255.0, *, max_db: float | None = None, device: str | None = None
) -> torch.Tensor:
    """Per-plane PSNR ``(N, C)`` of images already in the colour space to compare (e.g. Y'CbCr 4:4:4)."""
    x, y = prepare_pair(reference, distorted, data_range, device, torch.float64, metric="psnr_planes")
    return mse_to_psnr(_mse(x, y), max_db=max_db)


def psnr_ycbcr(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    weights: tuple[float, float, float] = (6.0, 1.0, 1.0),
    standard: str = "bt601",
    range: str = "full",
    round_planes: bool = False,
    max_db: float | None = None,
    device: str | None = None,
) -> torch.Tensor:
    """Weighted mean of PSNR-Y, PSNR-Cb, PSNR-Cr of two RGB images (6:1:1 by default)."""
    if len(weights) != 3 or min(weights) < 0 or sum(weights) <= 0:
        raise MetricInputError(f"psnr_ycbcr weights must be three non-negative numbers with a positive sum, got {weights!r}")
    x, y = prepare_pair(reference, distorted, data_range, device, torch.float64, metric="psnr_ycbcr")
    if x.shape[1] != 3:
        raise MetricInputError("psnr_ycbcr needs RGB images (3 channels)")
    x = color.rgb_to_ycbcr(x, standard=standard, range=range, channel_axis=1)
    y = color.rgb_to_ycbcr(y, standard=standard, range=range, channel_axis=1)
    if round_planes:
        x, y = _round8(x), _round8(y)
    per_plane = mse_to_psnr(_mse(x, y), max_db=max_db)
    w = torch.tensor(weights, dtype=torch.float64, device=per_plane.device)
    return (per_plane * w).sum(dim=1) / w.sum()


def _round8(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(torch.round(x), 0.0, 255.0)


def upsample_chroma(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, method: str = "bilinear") -> np.ndarray:
    """A full-size ``(H, W, 3)`` Y'CbCr array from a luma plane and two 4:2:0 (or 4:4:4) chroma planes.

    Half-size chroma is upsampled with :func:`dlic_lib.color.upsample_420` (``method``
    ``"bilinear"`` or ``"nearest"``); full-size chroma is used as is. Feed the result and the
    4:4:4 reference Y'CbCr to :func:`psnr_planes`.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2:
        raise MetricInputError(f"luma plane must be 2-D, got shape {y.shape}")
    planes = [y]
    for plane in (cb, cr):
        plane = np.asarray(plane, dtype=np.float64)
        if plane.shape != y.shape:
            plane = color.upsample_420(plane, y.shape, method=method)
        planes.append(plane)
    return np.stack(planes, axis=-1)
