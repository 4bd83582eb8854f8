"""Metrics of the MeTriX MuX set (seed 002): UQI, WSNR and NQM here; IFC in :mod:`.ifc`, VSNR in :mod:`.vsnr`.

UQI (Wang & Bovik, IEEE SPL 2002; the authors' ``img_qi.m``): on each 8×8 window ('valid'
borders, uniform weights),  Q = 4·σ_xy·x̄·ȳ / ((σ_x² + σ_y²)(x̄² + ȳ²)); where the denominator is 0
the code's special cases apply (Q = 1 for two flat equal blocks; Q = 2x̄ȳ/(x̄² + ȳ²) when only
the variances vanish); the index is the mean of the Q map. Luma Y' (BT.601 full range) by default.

``uqi_sewar`` reproduces ``sewar.full_ref.uqi`` for comparison with seed 000's tool. It is *not*
UQI: sewar feeds window *means* into the formula written for window *sums* (so the N·Σxy − ΣxΣy
terms mix scales), and it drops the last row and column of windows.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._batch import filter_valid, per_image, prepare_planes, uniform_1d
from .ifc import ifc, vif_wavelet
from .vsnr import vsnr

__all__ = ["uqi", "uqi_sewar", "wsnr", "nqm", "registry_entries"]

_UQI_BLOCK = 8


def _moments(x: torch.Tensor, y: torch.Tensor, block: int):
    c = x.shape[1]
    stats = filter_valid(torch.cat([x, y, x * x, y * y, x * y], dim=1), uniform_1d(block))
    return stats.split(c, dim=1)


def _q_map(mx, my, exx, eyy, exy, n: float) -> torch.Tensor:
    """img_qi.m's quality map from window statistics scaled as that code expects (n = N for sums)."""
    sum_mul = mx * my
    sq_sum_mul = mx * mx + my * my
    numerator = 4.0 * (n * exy - sum_mul) * sum_mul
    denominator1 = n * (exx + eyy) - sq_sum_mul
    denominator = denominator1 * sq_sum_mul
    q = torch.ones_like(denominator)
    only_var = (denominator1 == 0) & (sq_sum_mul != 0)
    q = torch.where(only_var, 2.0 * sum_mul / torch.where(only_var, sq_sum_mul, torch.ones_like(q)), q)
    ok = denominator != 0
    return torch.where(ok, numerator / torch.where(ok, denominator, torch.ones_like(q)), q)


def uqi(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    block: int = _UQI_BLOCK,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Universal Quality Index per image pair (Wang & Bovik 2002), 8×8 sliding window, on Y'."""
    x, y = prepare_planes(
        reference, distorted, data_range, device, dtype, min_size=block, metric="uqi", channels=channels, standard=standard
    )
    nn = float(block * block)

    def one(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        mx, my, exx, eyy, exy = _moments(a, b, block)
        # window sums, as in img_qi.m (exact in float64 for 8-bit data)
        q = _q_map(mx * nn, my * nn, exx * nn, eyy * nn, exy * nn, nn)
        return q.mean(dim=(2, 3)).double().mean(dim=1)

    return per_image(one, x, y)


def uqi_sewar(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    block: int = _UQI_BLOCK,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """``sewar.full_ref.uqi`` (seed 000's tool) reproduced; see the module docstring for how it differs from UQI."""
    x, y = prepare_planes(
        reference, distorted, data_range, device, dtype, min_size=block + 2, metric="uqi_sewar", channels=channels, standard=standard
    )
    nn = float(block * block)
    s = round(block / 2)

    def one(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        mx, my, exx, eyy, exy = _moments(a, b, block)
        q = _q_map(mx, my, exx, eyy, exy, nn)  # means where img_qi.m has sums: sewar's formula
        # sewar filters 'same' and crops s pixels: windows starting at 0 .. H − 2s − 1 (last valid one dropped)
        h, w = a.shape[-2] - 2 * s, a.shape[-1] - 2 * s
        return q[..., :h, :w].mean(dim=(2, 3)).double().mean(dim=1)

    return per_image(one, x, y)


def _centred_index(n: int, device: torch.device) -> torch.Tensor:
    """MATLAB's ``-n/2 : n/2-1`` (half-integers for odd n), the frequency grid of MeTriX's NQM."""
    return torch.arange(n, dtype=torch.float64, device=device) - n / 2


def wsnr_csf(h: int, w: int, nfreq: float = 60.0, device: torch.device | str = "cpu") -> torch.Tensor:
    """MeTriX MuX's CSF weights on the ``fftshift``-ed spectrum of an ``h×w`` image (float64).

    Frequencies are the half-integer grid −n/2 + ½ … n/2 − ½ of each axis, both scaled by
    2·``nfreq``/h (so the vertical Nyquist frequency is ``nfreq`` cycles/degree; MeTriX's
    ``wsnr_new_modified`` scales the horizontal axis by the row count too); an angular factor
    (1 − 0.7)/2·cos 4θ + (1 + 0.7)/2 lowers the sensitivity on the diagonals;
    CSF(f) = 2.6 (0.0192 + 0.114 f) exp(−(0.114 f)^1.1), held at 0.9809 below 7.8909 cycles/degree
    (Mannos & Sakrison as modified by Mitsa & Varkur).
    """
    fy = (torch.arange(h, dtype=torch.float64, device=device) - h / 2 + 0.5) / h * 2 * nfreq
    fx = (torch.arange(w, dtype=torch.float64, device=device) - w / 2 + 0.5) / h * 2 * nfreq
    yy, xx = torch.meshgrid(fy, fx, indexing="ij")
    s = (1 - 0.7) / 2 * torch.cos(4 * torch.atan2(yy, xx)) + (1 + 0.7) / 2
    f = torch.hypot(xx, yy) / s
    csf = 2.6 * (0.0192 + 0.114 * f) * torch.exp(-((0.114 * f) ** 1.1))
    return torch.where(f < 7.8909, torch.full_like(csf, 0.9809), csf)


def wsnr(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    nfreq: float = 60.0,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
) -> torch.Tensor:
    """Weighted SNR (Mitsa & Varkur 1993) in dB, as MeTriX MuX's ``metrix_wsnr`` computes it.

    WSNR = 10 log10(Σ|F(x)|² / Σ|CSF · F(x − y)|²): the signal power is the unweighted spectrum of
    the reference (DC included), the error spectrum is weighted by :func:`wsnr_csf` (60 cycles/degree
    at the vertical Nyquist frequency). Luma Y' = 0.299 R + 0.587 G + 0.114 B, unrounded, on 0..255
    (MeTriX's preprocessing) by default. Identical images give +inf.
    """
    x, y = prepare_planes(
        reference, distorted, data_range, device, torch.float64, min_size=2, metric="wsnr", channels=channels, standard=standard
    )
    csf = wsnr_csf(x.shape[-2], x.shape[-1], nfreq, x.device)
    err = torch.fft.fftshift(torch.fft.fft2(x - y), dim=(-2, -1)) * csf
    mss = torch.fft.fft2(x).abs().square().sum(dim=(-2, -1))
    mse = err.abs().square().sum(dim=(-2, -1))
    return (10 * torch.log10(mss / mse)).mean(dim=1)


# --- NQM ----------------------------------------------------------------------------------------

_NQM_BANDS = (  # (w range on r, value of w outside it, phase) of the cosine-log filters, MeTriX order
    (2.0, (1.0, 4.0), 4.0, math.pi),  # G0: low-pass, evaluated at r + 2
    (0.0, (1.0, 4.0), 4.0, math.pi),
    (0.0, (2.0, 8.0), 0.5, 0.0),
    (0.0, (4.0, 16.0), 4.0, math.pi),
    (0.0, (8.0, 32.0), 0.5, 0.0),
    (0.0, (16.0, 64.0), 4.0, math.pi),
)


def nqm_ctf(f: torch.Tensor | float) -> torch.Tensor:
    """NQM's contrast threshold function 1/(520 (0.0192 + 0.114 f) exp(−(0.114 f)^1.1)), f in cycles/degree."""
    f = torch.as_tensor(f, dtype=torch.float64)
    return 1.0 / (520.0 * (0.0192 + 0.114 * f) * torch.exp(-((0.114 * f) ** 1.1)))


def _nqm_filters(h: int, w: int, device: torch.device) -> torch.Tensor:
    """The 6 cosine-log filters G_k(r) (low-pass, then 5 octave bands), ``fftshift``-ed as MeTriX does, ``(6, h, w)``."""
    r = torch.hypot(*torch.meshgrid(_centred_index(h, device), _centred_index(w, device), indexing="ij"))
    out = []
    for shift, (lo, hi), outside, phase in _NQM_BANDS:
        rr = r + shift
        inside = (rr >= lo) & (rr <= hi)
        arg = torch.where(inside, rr, torch.full_like(rr, outside))
        out.append(0.5 * (1 + torch.cos(math.pi * torch.log2(arg) - phase)))
    return torch.fft.fftshift(torch.stack(out), dim=(-2, -1))


def nqm(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    viewing_angle: float = (1.0 / 3.5) * (180.0 / math.pi),
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
) -> torch.Tensor:
    """Noise Quality Measure (Damera-Venkata et al. 2000) in dB, following MeTriX MuX's ``metrix_nqm``.

    Peli's contrast pyramid: cosine-log filters in the frequency domain (radius r in cycles per
    image on MATLAB's grid −n/2 … n/2 − 1, then ``fftshift``; octave bands centred on 2, 4, 8, 16,
    32 cycles/image, plus a low-pass l₀); local band
    contrast c_k = a_k / (l₀ + a₁ + … + a_{k−1}) for reference and distorted image. Suprathreshold
    masking: where |c̃_k − c_k| < ct_k (0.86 (c_k/ct_k − 1) + 0.3) the distorted band takes the
    reference band's values, with ct_k = CTF(k) and c̃_k clipped to 1 where |c̃_k| > 1 (both as in
    the MeTriX code). Detection: band samples whose |contrast| is below CTF(f_k), f_k = 2^k cycles
    per image over ``viewing_angle`` degrees (image seen at 3.5 heights), are zeroed. NQM is the
    SNR 10 log10(Σ y₁² / Σ (y₁ − y₂)²) of the two restored images (sums of the 5 bands).
    Luma Y' = 0.299 R + 0.587 G + 0.114 B, unrounded, on 0..255 by default; identical images give +inf.
    """
    x, y = prepare_planes(
        reference, distorted, data_range, device, torch.float64, min_size=8, metric="nqm", channels=channels, standard=standard
    )
    g = _nqm_filters(x.shape[-2], x.shape[-1], x.device)
    d = nqm_ctf(torch.tensor([2.0, 4.0, 8.0, 16.0, 32.0], dtype=torch.float64) / viewing_angle).to(x.device)
    ct = nqm_ctf(torch.arange(1, 6, dtype=torch.float64)).to(x.device)

    def bands(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spec = torch.fft.fft2(img)  # (N, C, H, W)
        filt = torch.fft.ifft2(spec.unsqueeze(2) * g).real  # (N, C, 6, H, W)
        low, a = filt[:, :, 0], filt[:, :, 1:]
        denom = low.unsqueeze(2) + torch.cumsum(a, dim=2) - a  # l0 + a1 + … + a_{k−1}
        return a, a / denom

    a, c = bands(x)
    ai, ci = bands(y)
    ci = torch.where(ci.abs() > 1, torch.ones_like(ci), ci)
    ctk = ct.view(1, 1, 5, 1, 1)
    thresh = ctk * (0.86 * (c / ctk - 1) + 0.3)
    ai = torch.where((ci - c).abs() - thresh < 0, a, ai)
    dk = d.view(1, 1, 5, 1, 1)
    y1 = torch.where(c.abs() < dk, torch.zeros_like(a), a).sum(dim=2)
    y2 = torch.where(ci.abs() < dk, torch.zeros_like(ai), ai).sum(dim=2)
    return (10 * torch.log10(y1.square().sum(dim=(-2, -1)) / (y1 - y2).square().sum(dim=(-2, -1)))).mean(dim=1)


def registry_entries(metric_cls) -> list:
    return [
        metric_cls("uqi", uqi, "Universal Quality Index (Wang & Bovik 2002), 8×8 window, on Y"),
        metric_cls("uqi_sewar", uqi_sewar, "sewar's uqi (its formula mixes window means and sums), on Y"),
        metric_cls("wsnr", wsnr, "weighted SNR with MeTriX MuX's CSF (Mitsa & Varkur 1993), on Y (dB)"),
        metric_cls("nqm", nqm, "Noise Quality Measure (Damera-Venkata et al. 2000) as MeTriX MuX, on Y (dB)"),
        metric_cls("ifc", ifc, "Information Fidelity Criterion (Sheikh et al. 2005), sp5 steerable pyramid, on Y"),
        metric_cls("vif_wavelet", vif_wavelet, "wavelet-domain VIF (Sheikh & Bovik 2006, vifvec), on Y"),
        metric_cls("vsnr", vsnr, "visual SNR (Chandler & Hemami 2007) as MeTriX MuX, on Y (dB)"),
    ]
