"""VSNR — visual signal-to-noise ratio (Chandler & Hemami 2007), as MeTriX MuX's ``vsnr_modified.m``.

Conventions, all as in that code (defaults of the authors' release, 8-bit sRGB display):

* Input: luma Y' = 0.299 R + 0.587 G + 0.114 B, unrounded, on 0..255 (MeTriX's preprocessing),
  extended by MeTriX's symmetric padding to a multiple of 32 pixels per side, at least 128
  (:func:`metrix_pad`).
* Display: pixel value p → luminance (b + k·p)^γ with b = 0, k = 0.02874, γ = 2.2, applied to
  the image rounded and clipped to 0..255 (MATLAB ``uint8``).
* Transform: 5-level separable 9/7 biorthogonal DWT (JPEG 2000 analysis filters), whole-sample
  symmetric borders, low-pass on even and high-pass on odd samples; band contrasts use the
  population standard deviation divided by ζ·2^s (ζ = μ_L (b + k μ_X)^(1−γ)/(k γ)).
* Viewing: 96 pixels/inch at 19.1 inches, so the levels are centred on
  r·v·tan(1°)·2^−s cycles/degree.
* Visibility: the distortions (error image dst − src + mean(src), rounded to 8 bits) are
  visible when their RMS luminance contrast exceeds the threshold contrast of the image's
  masking model (``best_csnrs(0)``); otherwise VSNR = +inf, or Weber's law when the mean
  luminance changes by ≥ 1 %. The mean luminance of the error image is compared with that of the
  source, so even identical images take the Weber branch unless the source is nearly uniform
  (e.g. 135.7 dB for kodim01 against itself) — the MeTriX code behaves the same way.
* Above threshold: d = α·C_E + (1 − α)·d_gp/√2 with α = 0.04 and d_gp the distance between the
  actual band contrasts and those of global precedence (found by bisection on the visibility
  index, at most 32 steps, 1 % tolerance); VSNR = 20 log10(C(I)/d) dB.

No independent implementation is installable (the metric exists only as MATLAB code); the DWT is
checked against PyWavelets' ``bior4.4`` filters in the tests, the rest against the formulas.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ._batch import MetricInputError, prepare_planes

__all__ = ["vsnr", "metrix_pad", "dwt97", "VSNR_MIN_SIZE"]

VSNR_MIN_SIZE = 8

_LO = (0.85269867900889, 0.37740285561283, -0.11062440441844, -0.02384946501956, 0.03782845550726)
_HI = (-0.78848561640558, 0.41809227322162, 0.04068941760916, -0.06453888262870, 0.0)
_B, _K, _G, _R, _V = 0.0, 0.02874, 2.2, 96.0, 19.1
_LEVELS = 5


def _symmetric(h: tuple[float, ...]) -> list[float]:
    return list(reversed(h[1:])) + list(h)


def metrix_pad(x: torch.Tensor, multiple: int = 32, minimum: int = 128) -> torch.Tensor:
    """MeTriX MuX's padding before IFC/VIF/VSNR: centred, mirrored edges, each corner one pixel's value."""
    h, w = x.shape[-2:]
    hm = max(minimum, multiple * math.ceil(h / multiple))
    wm = max(minimum, multiple * math.ceil(w / multiple))
    if (hm, wm) == (h, w):
        return x
    top, left = round((hm - h) / 2), round((wm - w) / 2)
    bottom, right = hm - h - top, wm - w - left

    def mirror(n: int, before: int, after: int) -> torch.Tensor:
        # before: input[min(n−1, before − k)] for k = 0..before−1; after: input[n − 1 − min(n−1, t)], t = 1..after
        pre = [min(n - 1, before - k) for k in range(before)]
        post = [n - 1 - min(n - 1, t) for t in range(1, after + 1)]
        return torch.tensor(pre + list(range(n)) + post, device=x.device)

    rows, cols = mirror(h, top, bottom), mirror(w, left, right)
    out = x.index_select(-2, rows).index_select(-1, cols)
    # corners take the value of the pixel diagonally inside each image corner
    r0, r1, c0, c1 = min(h - 1, 1), max(h - 2, 0), min(w - 1, 1), max(w - 2, 0)
    for rs, cs, r, c in ((slice(0, top), slice(0, left), r0, c0), (slice(top + h, None), slice(0, left), r1, c0),
                         (slice(0, top), slice(left + w, None), r0, c1), (slice(top + h, None), slice(left + w, None), r1, c1)):  # fmt: skip
        out[..., rs, cs] = x[..., r : r + 1, c : c + 1]
    return out


def _analysis(x: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One 9/7 analysis step along ``dim``: (low-pass at even samples, high-pass at odd samples)."""
    n = x.shape[dim]
    pad = 4
    idx = list(range(pad, 0, -1)) + list(range(n)) + list(range(n - 2, n - 2 - pad, -1))
    xp = x.index_select(dim, torch.tensor(idx, device=x.device))

    def filtered(taps: list[float], phase: int) -> torch.Tensor:
        out = None
        for k, t in enumerate(taps):
            if t == 0.0:
                continue
            view = xp.narrow(dim, k + phase, n).unflatten(dim, (n // 2, 2)).select(dim + 1, 0)
            out = view * t if out is None else out.add_(view, alpha=t)
        return out

    return filtered(_symmetric(_LO), 0), filtered(_symmetric(_HI), 1)


def dwt97(x: torch.Tensor, levels: int = _LEVELS) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The (HL, LH, HH) detail bands of a ``levels``-level 9/7 DWT of ``(..., H, W)``, finest first.

    H and W must be divisible by 2^levels (see :func:`metrix_pad`).
    """
    bands = []
    ll = x
    for _ in range(levels):
        lo, hi = _analysis(ll, ll.ndim - 1)  # rows: low | high halves
        ll, lh = _analysis(lo, lo.ndim - 2)
        hl, hh = _analysis(hi, hi.ndim - 2)
        bands.append((hl, lh, hh))
    return bands


def _uint8(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``uint8``: round half away from zero, saturate to 0..255."""
    return torch.floor(x.clamp(0.0, 255.0) + 0.5)


def _lum(p: torch.Tensor) -> torch.Tensor:
    return (_B + _K * p) ** _G


def _band_contrasts(img: torch.Tensor, zeta: float) -> torch.Tensor:
    """sqrt(Σ_orientations (std(band)/(ζ·2^s))²) for s = 1..5."""
    out = []
    for s, bands in enumerate(dwt97(img), start=1):
        out.append(torch.sqrt(sum((b.std(correction=0) / (zeta * 2.0**s)) ** 2 for b in bands)))
    return torch.stack(out)


def _best_csnrs(v: float, fs: torch.Tensor) -> torch.Tensor:
    a0, a1, a2 = 59.8, -0.1258, -0.1087
    b2 = (-1 - a2) * v + a2
    b1 = (1 - a1) * v + a1
    b0 = -a0 * v + a0
    return torch.clamp(b0 * fs ** (b2 * torch.log(fs) + b1), min=0.0)


def _find_best_csnrs(ce: float, cis: torch.Tensor, fs: torch.Tensor) -> torch.Tensor:
    lo, hi, csnrs = 0.0, 1.0, None
    for _ in range(32):
        v = 0.5 * (lo + hi)
        csnrs = _best_csnrs(v, fs)
        hat = float(torch.linalg.vector_norm(cis / csnrs))
        if lo == hi:
            break
        diff = hat - ce
        if abs(diff) < 0.01 * ce:
            break
        if diff < 0:
            lo = v
        else:
            hi = v
    return csnrs


def _vsnr_one(src: torch.Tensor, dst: torch.Tensor, alpha: float) -> float:
    fs = _R * _V * math.tan(math.pi / 180) * 2.0 ** -torch.arange(1, _LEVELS + 1, dtype=torch.float64, device=src.device)
    mx = float(src.mean())
    src_lum = _lum(_uint8(src))
    ml = float(src_lum.mean())
    ci = float(src_lum.std(correction=0)) / ml
    zeta = ml * (_B + _K * mx) ** (1 - _G) / (_K * _G)
    cis = _band_contrasts(src, zeta)
    cte = float(torch.linalg.vector_norm(cis / _best_csnrs(0.0, fs)))
    err = _uint8(dst - src + mx)
    err_lum = _lum(err)
    ce = float(err_lum.std(correction=0)) / ml
    if ce > cte:
        ces = _band_contrasts(err, zeta)
        ces_str = cis / _find_best_csnrs(ce, cis, fs)
        d_gp = float(torch.linalg.vector_norm(ces_str - ces))
        d = alpha * ce + (1 - alpha) * d_gp / math.sqrt(2)
    else:
        lum_diff = abs(float(err_lum.mean()) - ml)
        if lum_diff / ml < 0.01:
            return math.inf
        d, ci = 1.5, 10 ** (ml / lum_diff)  # Weber's law for a brightness-only change
    return 20 * math.log10(ci / d)


def vsnr(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    alpha: float = 0.04,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
) -> torch.Tensor:
    """VSNR per image pair in dB (+inf when the distortions are below threshold); see the module docstring."""
    if not 0.0 <= alpha <= 1.0:
        raise MetricInputError(f"vsnr: alpha must lie in [0, 1], got {alpha}")
    x, y = prepare_planes(
        reference, distorted, data_range, device, torch.float64, min_size=VSNR_MIN_SIZE, metric="vsnr", channels=channels, standard=standard
    )
    x, y = metrix_pad(x), metrix_pad(y)
    values = [
        sum(_vsnr_one(x[i, c], y[i, c], alpha) for c in range(x.shape[1])) / x.shape[1] for i in range(x.shape[0])
    ]
    return torch.tensor(values, dtype=torch.float64)
