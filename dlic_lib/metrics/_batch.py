"""Turning images into checked metric batches, plus the filters every metric shares.

Conventions used by all of :mod:`dlic_lib.metrics`:

* Layout: numpy arrays are channel-last — ``(H, W)``, ``(H, W, C)`` or ``(N, H, W, C)``;
  torch tensors are channel-first — ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``. ``C`` is 1 or 3.
* Scale: every metric receives ``data_range`` (the peak of the input scale, 255 for 8-bit) and
  works internally on the 0..255 scale, so the constants of the papers (SSIM's ``L = 255``,
  VIF's ``σ²_n = 2``) apply unchanged whatever the input scale.
* Argument order is ``(reference, distorted)`` everywhere.
* Results are float64 tensors of shape ``(N,)``, one value per image pair.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from .. import color
from ..errors import DlicError

__all__ = [
    "MetricInputError",
    "as_batch",
    "prepare_pair",
    "to_luma",
    "select_channels",
    "prepare_planes",
    "gaussian_1d",
    "uniform_1d",
    "filter_valid",
    "per_image",
]


class MetricInputError(DlicError):
    """Images that a metric cannot compare (shape, dtype, values or size)."""


def _is_torch(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def as_batch(x: Any, name: str = "image") -> torch.Tensor:
    """``x`` as a ``(N, C, H, W)`` tensor (dtype kept); see the module docstring for layouts."""
    if isinstance(x, (list, tuple)):
        if not x:
            raise MetricInputError(f"{name} is an empty list; give at least one image")
        parts = [as_batch(item, name) for item in x]
        shapes = {tuple(p.shape[1:]) for p in parts}
        if len(shapes) > 1:
            raise MetricInputError(f"{name} list mixes image shapes {sorted(shapes)}; batch only images of one size")
        return torch.cat(parts, dim=0)
    if _is_torch(x):
        t = x
        if t.ndim == 2:
            t = t[None, None]
        elif t.ndim == 3:
            t = t[None]
        elif t.ndim != 4:
            raise MetricInputError(f"{name} tensor must have 2, 3 or 4 dimensions (N, C, H, W), got shape {tuple(x.shape)}")
    else:
        a = np.asarray(x)
        if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            raise MetricInputError(f"{name} must be a numeric array, got dtype {a.dtype}")
        if a.ndim == 2:
            a = a[None, :, :, None]
        elif a.ndim == 3:
            a = a[None]
        elif a.ndim != 4:
            raise MetricInputError(f"{name} array must be (H, W), (H, W, C) or (N, H, W, C), got shape {a.shape}")
        a = np.ascontiguousarray(a) if a.flags.writeable else a.copy()
        t = torch.from_numpy(a).permute(0, 3, 1, 2)
    if t.shape[1] not in (1, 3):
        raise MetricInputError(f"{name} must have 1 or 3 channels, got {t.shape[1]} (shape {tuple(t.shape)})")
    return t


def prepare_pair(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
    min_size: int = 1,
    metric: str = "metric",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check a pair and return both as float ``(N, C, H, W)`` tensors on the 0..255 scale.

    Raises :class:`MetricInputError` for different shapes or dtypes, non-finite values, a
    non-positive ``data_range`` or images with a side shorter than ``min_size``.
    """
    ref = as_batch(reference, "reference")
    dist = as_batch(distorted, "distorted")
    if ref.shape != dist.shape:
        raise MetricInputError(
            f"{metric}: reference and distorted shapes differ ({_hwc(ref)} vs {_hwc(dist)}); compare images of equal size"
        )
    if ref.dtype != dist.dtype:
        raise MetricInputError(
            f"{metric}: reference and distorted dtypes differ ({ref.dtype} vs {dist.dtype}); convert both to one dtype"
        )
    if not (isinstance(data_range, (int, float)) and math.isfinite(data_range) and data_range > 0):
        raise MetricInputError(f"{metric}: data_range must be a positive finite number, got {data_range!r}")
    h, w = ref.shape[-2:]
    if min(h, w) < min_size:
        raise MetricInputError(
            f"{metric} needs images of at least {min_size}×{min_size} pixels, got {h}×{w}"
        )
    if ref.is_floating_point():  # integer images cannot hold NaN or inf
        for t, name in ((ref, "reference"), (dist, "distorted")):
            if not bool(torch.isfinite(t).all()):
                raise MetricInputError(f"{metric}: {name} image contains NaN or infinite values")
    if device is not None:
        ref, dist = ref.to(device), dist.to(device)
    ref = ref.to(dtype, memory_format=torch.contiguous_format)
    dist = dist.to(dtype, memory_format=torch.contiguous_format)
    if data_range != 255.0:
        scale = 255.0 / float(data_range)
        ref, dist = ref * scale, dist * scale
    return ref, dist


def _hwc(t: torch.Tensor) -> str:
    n, c, h, w = t.shape
    return f"{n}×{h}×{w}×{c}"


def to_luma(x: torch.Tensor, standard: str = "bt601", range: str = "full") -> torch.Tensor:
    """Y' of an RGB batch on the 0..255 scale, ``(N, 1, H, W)``; single-channel input is returned as is."""
    if x.shape[1] == 1:
        return x
    return color.rgb_to_y(x, standard=standard, range=range, channel_axis=1).unsqueeze(1)


def select_channels(x: torch.Tensor, channels: str, standard: str = "bt601", range: str = "full") -> torch.Tensor:
    """``"y"``: the luma plane (BT.601/BT.709 as ``standard``); ``"rgb"``: every channel as given."""
    if channels == "y":
        return to_luma(x, standard, range)
    if channels == "rgb":
        return x
    raise MetricInputError(f"channels must be 'y' or 'rgb', got {channels!r}")


def prepare_planes(
    reference: Any,
    distorted: Any,
    data_range: float,
    device: str | torch.device | None,
    dtype: torch.dtype,
    *,
    min_size: int,
    metric: str,
    channels: str,
    standard: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`prepare_pair` followed by :func:`select_channels` on both images."""
    x, y = prepare_pair(reference, distorted, data_range, device, dtype, min_size=min_size, metric=metric)
    return select_channels(x, channels, standard), select_channels(y, channels, standard)


@lru_cache(maxsize=64)
def _gaussian_1d_cached(size: int, sigma: float) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(coords**2) / (2.0 * sigma**2))
    return g / g.sum()


def gaussian_1d(size: int, sigma: float) -> torch.Tensor:
    """A normalised 1-D Gaussian (its outer product is the usual normalised 2-D window)."""
    return _gaussian_1d_cached(int(size), float(sigma))


def uniform_1d(size: int) -> torch.Tensor:
    """A normalised 1-D box window of ``size`` taps."""
    return torch.full((int(size),), 1.0 / int(size), dtype=torch.float64)


def per_image(fn, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``fn(x, y)`` image by image on CPU (working sets that fit the cache are several times faster
    there), in one call on a GPU; results are concatenated along the batch axis."""
    if x.device.type != "cpu" or x.shape[0] == 1:
        return fn(x, y)
    return torch.cat([fn(x[i : i + 1], y[i : i + 1]) for i in range(x.shape[0])], dim=0)


def filter_valid(x: torch.Tensor, kernel_1d: torch.Tensor, step: int = 1) -> torch.Tensor:
    """Separable 2-D filtering of each channel with the outer product of ``kernel_1d``, 'valid' borders.

    Equal to MATLAB ``filter2(w, x, 'valid')`` for the symmetric windows used here; ``step > 1``
    keeps every ``step``-th output row and column (computing only those), bit-identical to
    ``filter_valid(x, k)[..., ::step, ::step]``. Implemented as weighted sums of shifted views (one
    pass per tap and axis), which on CPU is several times faster than PyTorch's depthwise
    convolution and is differentiable.
    """
    taps = [float(v) for v in kernel_1d]
    return _filter_axis(_filter_axis(x, taps, x.ndim - 2, step), taps, x.ndim - 1, step)


def _filter_axis(x: torch.Tensor, taps: list[float], dim: int, step: int = 1) -> torch.Tensor:
    n = (x.shape[dim] - len(taps)) // step + 1

    def view(i: int) -> torch.Tensor:
        v = x.narrow(dim, i, (n - 1) * step + 1)
        if step == 1:
            return v
        index = [slice(None)] * x.ndim
        index[dim] = slice(None, None, step)
        return v[tuple(index)]

    out = view(0) * taps[0]
    for i, w in enumerate(taps[1:], start=1):
        out.add_(view(i), alpha=w)
    return out
