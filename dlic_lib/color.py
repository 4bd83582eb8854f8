"""Colour conversions shared by codecs and metrics: RGB ↔ Y'CbCr and 4:2:0 chroma resampling.

Conventions (all values on the 0..255 scale, float in and out unless stated):

* ``standard``: ``"bt601"`` (Kr=0.299, Kb=0.114 — JPEG/JFIF, and the luma of seeds 000/001 and
  scikit-image's ``rgb2ycbcr``) or ``"bt709"`` (Kr=0.2126, Kb=0.0722 — HD video).
* ``range``: ``"full"`` (Y, Cb, Cr in 0..255, chroma centred on 128: JPEG/JFIF) or ``"limited"``
  (Y in 16..235, Cb/Cr in 16..240: video "TV" range, as scikit-image's ``rgb2ycbcr`` and most
  video codecs use).
* Y' = Kr·R + Kg·G + Kb·B;  Cb = (B − Y')/(2(1 − Kb));  Cr = (R − Y')/(2(1 − Kr)), then offset.
* Arrays: numpy arrays or torch tensors, channels on ``channel_axis`` (``-1`` for ``(H, W, 3)``,
  ``1`` for torch ``(N, 3, H, W)``). Results are float (float64 for integer numpy input).
* 4:2:0 chroma: :func:`subsample_420` averages each 2×2 block (odd sizes are edge-replicated);
  :func:`upsample_420` repeats each sample 2×2 (``"nearest"``) or interpolates (``"bilinear"``,
  sample-centred, like FFmpeg's default chroma siting for JPEG-style 4:2:0) and crops to size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DlicError

__all__ = [
    "STANDARDS",
    "luma_weights",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "rgb_to_y",
    "subsample_420",
    "upsample_420",
    "to_uint8",
    "rgb_to_planes",
    "planes_to_rgb",
]

STANDARDS: dict[str, tuple[float, float]] = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}
_RANGES = ("full", "limited")


def luma_weights(standard: str = "bt601") -> tuple[float, float, float]:
    """(Kr, Kg, Kb) of a standard."""
    kr, kb = _standard(standard)
    return kr, 1.0 - kr - kb, kb


def _standard(standard: str) -> tuple[float, float]:
    try:
        return STANDARDS[standard.lower()]
    except (KeyError, AttributeError):
        raise DlicError(f"unknown colour standard {standard!r}; expected one of {sorted(STANDARDS)}") from None


def _check_range(range: str) -> None:
    if range not in _RANGES:
        raise DlicError(f"unknown range {range!r}; expected 'full' or 'limited'")


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _split(x: Any, channel_axis: int):
    if x.shape[channel_axis] != 3:
        raise DlicError(f"expected 3 colour channels on axis {channel_axis}, got shape {tuple(x.shape)}")
    if _is_torch(x):
        x = x if x.is_floating_point() else x.double()
        return x.unbind(channel_axis)
    x = np.asarray(x)
    x = x.astype(np.float64) if not np.issubdtype(x.dtype, np.floating) else x
    return tuple(np.moveaxis(x, channel_axis, 0))


def _stack(planes, channel_axis: int, like: Any):
    if _is_torch(like):
        import torch

        return torch.stack(planes, dim=channel_axis)
    return np.stack(planes, axis=channel_axis)


def rgb_to_ycbcr(rgb: Any, standard: str = "bt601", range: str = "full", channel_axis: int = -1):
    """RGB (0..255) → Y'CbCr (0..255 scale) for ``standard`` and ``range`` (see module docstring)."""
    kr, kb = _standard(standard)
    _check_range(range)
    r, g, b = _split(rgb, channel_axis)
    y = kr * r + (1.0 - kr - kb) * g + kb * b
    cb = (b - y) / (2.0 * (1.0 - kb))
    cr = (r - y) / (2.0 * (1.0 - kr))
    if range == "limited":
        y = 16.0 + y * (219.0 / 255.0)
        cb = cb * (224.0 / 255.0)
        cr = cr * (224.0 / 255.0)
    return _stack((y, cb + 128.0, cr + 128.0), channel_axis, rgb)


def ycbcr_to_rgb(ycbcr: Any, standard: str = "bt601", range: str = "full", channel_axis: int = -1):
    """Y'CbCr (0..255 scale) → RGB (0..255, float, not clipped); inverse of :func:`rgb_to_ycbcr`."""
    kr, kb = _standard(standard)
    _check_range(range)
    y, cb, cr = _split(ycbcr, channel_axis)
    cb = cb - 128.0
    cr = cr - 128.0
    if range == "limited":
        y = (y - 16.0) * (255.0 / 219.0)
        cb = cb * (255.0 / 224.0)
        cr = cr * (255.0 / 224.0)
    kg = 1.0 - kr - kb
    r = y + 2.0 * (1.0 - kr) * cr
    b = y + 2.0 * (1.0 - kb) * cb
    g = (y - kr * r - kb * b) / kg
    return _stack((r, g, b), channel_axis, ycbcr)


def rgb_to_y(rgb: Any, standard: str = "bt601", range: str = "full", channel_axis: int = -1):
    """The luma plane Y' only (channel axis removed)."""
    kr, kb = _standard(standard)
    _check_range(range)
    r, g, b = _split(rgb, channel_axis)
    y = kr * r + (1.0 - kr - kb) * g + kb * b
    return 16.0 + y * (219.0 / 255.0) if range == "limited" else y


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Round half to even and clip to 0..255 as ``uint8``."""
    return np.clip(np.rint(np.asarray(x, dtype=np.float64)), 0, 255).astype(np.uint8)


def subsample_420(plane: np.ndarray) -> np.ndarray:
    """Halve a 2-D chroma plane in both directions by 2×2 averaging (odd sizes edge-replicated)."""
    plane = np.asarray(plane, dtype=np.float64)
    if plane.ndim != 2:
        raise DlicError(f"subsample_420 expects a 2-D plane, got shape {plane.shape}")
    h, w = plane.shape
    padded = np.pad(plane, ((0, h % 2), (0, w % 2)), mode="edge")
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).mean(axis=(1, 3))


def upsample_420(plane: np.ndarray, shape: tuple[int, int], method: str = "bilinear") -> np.ndarray:
    """Upsample a half-resolution chroma plane to ``shape`` (H, W): ``nearest`` or ``bilinear``."""
    plane = np.asarray(plane, dtype=np.float64)
    h, w = shape
    if plane.ndim != 2 or plane.shape != ((h + 1) // 2, (w + 1) // 2):
        raise DlicError(f"chroma plane of shape {plane.shape} does not match a 4:2:0 image of size {h}×{w}")
    if method == "nearest":
        return np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)[:h, :w]
    if method != "bilinear":
        raise DlicError(f"unknown upsampling method {method!r}; expected 'nearest' or 'bilinear'")
    return _bilinear_axis(_bilinear_axis(plane, h, 0), w, 1)


def _bilinear_axis(plane: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Centre-sited ×2 linear interpolation along one axis (samples at 0.25/0.75 between neighbours)."""
    n = plane.shape[axis]
    pos = (np.arange(size) + 0.5) / 2.0 - 0.5
    pos = np.clip(pos, 0, n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    a = np.take(plane, lo, axis=axis)
    b = np.take(plane, hi, axis=axis)
    shape = [1, 1]
    shape[axis] = size
    frac = frac.reshape(shape)
    return a * (1.0 - frac) + b * frac


def rgb_to_planes(
    rgb: np.ndarray, chroma: str = "420", standard: str = "bt601", range: str = "full", bit_depth: int = 8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB ``uint8`` ``(H, W, 3)`` → integer Y', Cb, Cr planes for a video encoder.

    ``chroma`` is ``"420"`` (Cb/Cr averaged 2×2 by :func:`subsample_420`) or ``"444"``.
    ``bit_depth`` 8 gives ``uint8`` planes; 10 gives ``uint16`` planes scaled by 4 (the
    0..255-scale value × 4, rounded), so a 10-bit encoder sees the unrounded conversion.
    """
    if chroma not in ("420", "444"):
        raise DlicError(f"unknown chroma format {chroma!r}; expected '420' or '444'")
    if bit_depth not in (8, 10):
        raise DlicError(f"unsupported bit depth {bit_depth}; expected 8 or 10")
    ycc = rgb_to_ycbcr(rgb, standard=standard, range=range)
    planes = [ycc[..., 0], ycc[..., 1], ycc[..., 2]]
    if chroma == "420":
        planes[1:] = [subsample_420(p) for p in planes[1:]]
    if bit_depth == 8:
        return tuple(to_uint8(p) for p in planes)
    return tuple(np.clip(np.rint(p * 4.0), 0, 1023).astype(np.uint16) for p in planes)


def planes_to_rgb(
    y: np.ndarray,
    cb: np.ndarray,
    cr: np.ndarray,
    standard: str = "bt601",
    range: str = "full",
    bit_depth: int = 8,
    upsample: str = "bilinear",
) -> np.ndarray:
    """Decoded Y', Cb, Cr planes (4:2:0 or 4:4:4, 8- or 10-bit) → RGB ``uint8``; inverse of :func:`rgb_to_planes`."""
    scale = 1.0 if bit_depth == 8 else 4.0
    y = np.asarray(y, dtype=np.float64) / scale
    cb = np.asarray(cb, dtype=np.float64) / scale
    cr = np.asarray(cr, dtype=np.float64) / scale
    if cb.shape != y.shape:
        cb = upsample_420(cb, y.shape, method=upsample)
        cr = upsample_420(cr, y.shape, method=upsample)
    rgb = ycbcr_to_rgb(np.stack([y, cb, cr], axis=-1), standard=standard, range=range)
    return to_uint8(rgb)
