"""PIL's bicubic resampling (a = −0.5, antialiased when shrinking), exact and differentiable.

:func:`resample_weights` builds the ``out × in`` weight matrix Pillow builds for one axis
(``precompute_coeffs`` in ``Resample.c``: support ``2·max(in/out, 1)``, kernel stretched by the
scale when shrinking, rows normalised to 1). Then

* :func:`pil_bicubic` reproduces ``Image.resize(size, Image.BICUBIC)`` on ``uint8`` planes bit for
  bit (22-bit fixed-point weights, horizontal pass, rounding and clipping to ``uint8``, vertical pass);
* :func:`bicubic_resize` is the same filter in floating point on torch tensors (no intermediate
  rounding), differentiable; it agrees with PIL to within one grey level and with
  ``F.interpolate(mode="bicubic", antialias=True)``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from ..errors import DlicError

__all__ = ["bicubic_kernel", "resample_weights", "pil_bicubic", "bicubic_resize", "downscale2", "upscale2"]

_PRECISION_BITS = 32 - 8 - 2  # Pillow's fixed-point precision for 8-bit images


def bicubic_kernel(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel with parameter ``a`` (Pillow uses −0.5), support [−2, 2]."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


@lru_cache(maxsize=64)
def _weights(n_in: int, n_out: int) -> np.ndarray:
    scale = n_in / n_out
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    w = np.zeros((n_out, n_in), dtype=np.float64)
    for xx in range(n_out):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)  # C truncation toward zero, as Pillow
        xmax = min(int(center + support + 0.5), n_in)
        taps = np.arange(xmin, xmax)
        k = bicubic_kernel((taps - center + 0.5) / filterscale)
        total = k.sum()
        w[xx, xmin:xmax] = k / total if total != 0.0 else k
    w.setflags(write=False)
    return w


def resample_weights(n_in: int, n_out: int) -> np.ndarray:
    """Pillow's bicubic weights for one axis: ``out = W @ in`` (``float64``, rows sum to 1)."""
    if n_in < 1 or n_out < 1:
        raise DlicError(f"resampling needs positive sizes, got {n_in} → {n_out}")
    return _weights(int(n_in), int(n_out))


def _fixed_point(w: np.ndarray) -> np.ndarray:
    scaled = w * (1 << _PRECISION_BITS)
    return np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5)).astype(np.int64)


def _pass(plane: np.ndarray, w: np.ndarray) -> np.ndarray:
    """One fixed-point pass along the last axis, rounded and clipped to uint8 as Pillow does."""
    acc = plane.astype(np.int64) @ _fixed_point(w).T + (1 << (_PRECISION_BITS - 1))
    return np.clip(acc >> _PRECISION_BITS, 0, 255).astype(np.uint8)


def pil_bicubic(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``Image.fromarray(plane).resize(size, Image.BICUBIC)`` computed in numpy (``size`` = (W, H))."""
    plane = np.asarray(plane)
    if plane.dtype != np.uint8 or plane.ndim != 2:
        raise DlicError(f"pil_bicubic needs a uint8 H×W plane, got {plane.dtype} {plane.shape}")
    w_out, h_out = int(size[0]), int(size[1])
    h_in, w_in = plane.shape
    out = plane
    if w_out != w_in:
        out = _pass(out, resample_weights(w_in, w_out))
    if h_out != h_in:
        out = _pass(out.T, resample_weights(h_in, h_out)).T
    return np.ascontiguousarray(out)


def _matrix(n_in: int, n_out: int, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(resample_weights(n_in, n_out), dtype=like.dtype, device=like.device)


def bicubic_resize(x: torch.Tensor, size: tuple[int, int], *, clip: tuple[float, float] | None = None) -> torch.Tensor:
    """PIL's bicubic filter on ``(..., H, W)`` tensors to ``size = (H_out, W_out)``, in floating point.

    ``clip=(lo, hi)`` clamps after each pass, as Pillow clips its intermediate ``uint8`` image; with
    it the result differs from Pillow's only by Pillow's two roundings (at most one grey level).
    """
    h_out, w_out = int(size[0]), int(size[1])
    h_in, w_in = x.shape[-2:]
    if torch.is_autocast_enabled(x.device.type):  # weights in float32 even under bfloat16 autocast
        with torch.autocast(x.device.type, enabled=False):
            return bicubic_resize(x.float(), size, clip=clip)
    out = x
    if w_out != w_in:
        out = out @ _matrix(w_in, w_out, x).T
        if clip is not None:
            out = out.clamp(*clip)
    if h_out != h_in:
        out = _matrix(h_in, h_out, x) @ out
        if clip is not None:
            out = out.clamp(*clip)
    return out


def downscale2(x: torch.Tensor) -> torch.Tensor:
    """Bicubic down-sampling by 2, ``F(x)`` of the thesis (sizes rounded up, as the codecs pad)."""
    h, w = x.shape[-2:]
    return bicubic_resize(x, (math.ceil(h / 2), math.ceil(w / 2)))


def upscale2(x: torch.Tensor) -> torch.Tensor:
    """Bicubic up-sampling by 2."""
    h, w = x.shape[-2:]
    return bicubic_resize(x, (2 * h, 2 * w))
