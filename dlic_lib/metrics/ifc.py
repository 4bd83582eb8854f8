"""IFC and wavelet-domain VIF (Sheikh, Bovik & de Veciana 2005; Sheikh & Bovik 2006), batched in PyTorch.

Both follow the authors' releases (``ifcvec.m`` / ``vifvec.m``, which MeTriX MuX wraps):

* Transform: Simoncelli's steerable pyramid with the ``sp5`` filters (6 orientations), 4 levels,
  'reflect1' borders (mirror without repeating the edge sample) — ``buildSpyr(im, 4,
  'sp5Filters', 'reflect1')``. The filter taps come from ``pyrtools`` (the Python port of
  matlabPyrTools). Subbands used: orientations 0° and 90° at every level (the release's
  ``subbands = [4 7 10 13 16 19 22 25]``).
* Reference model (GSM, vectors of M×M = 3×3 neighbours): covariance C_U of all overlapping
  3×3 blocks of the subband (cropped to a multiple of 3), its eigenvalues λ_j, and the field
  s² = vᵀ C_U⁻¹ v / 9 on non-overlapping blocks.
* Distortion channel d = g·c + v: local regression on a box window of 2^lev + 1 samples (3, 5, 9,
  17 from the coarsest to the finest level) centred on each 3×3 block; tolerances (1e-15) and
  the constraints g ≥ 0, σ_v² > 0 exactly as ``vifsub_est_M``. Blocks within
  ⌈(window − 1)/2 / 3⌉ of the subband border are dropped.
* IFC = Σ_subbands Σ_blocks Σ_j log2(1 + g² s² λ_j / (σ_v² + 1e-10)), divided by the number of
  image pixels (as the released ``ifcvec.m`` does); unbounded, higher is better.
* VIF (``vif_wavelet``) = Σ log2(1 + g² s² λ_j / (σ_v² + σ_n²)) / Σ log2(1 + s² λ_j / σ_n²),
  σ_n² = 0.4 (HVS noise); 1 for identical images.

Luma Y' = 0.299 R + 0.587 G + 0.114 B, unrounded, on 0..255 (MeTriX's preprocessing) by default.
Computed in float64. Deviation from MeTriX MuX: it first pads images by symmetric extension to a
multiple of 32 px (at least 128) per side; no padding is done here, which is the same for sizes that
are already such multiples (Kodak's 512×768) and differs slightly otherwise. No independent
implementation of the statistics is installable; the pyramid is checked against ``pyrtools``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import DlicError
from ._batch import per_image, prepare_planes

__all__ = ["ifc", "vif_wavelet", "steerable_subbands", "IFC_MIN_SIZE"]

IFC_MIN_SIZE = 72
"""Smallest side that leaves one 3×3 block inside the border margin of the coarsest subband."""

_M = 3
_LEVELS = 4
_ORIENTATIONS = (0, 3)  # sp5 bands 1 and 4 (0° and 90°): the release's subbands 25, 22, …, 7, 4
_TOL = 1e-15


@lru_cache(maxsize=4)
def _sp5(device: str) -> dict[str, torch.Tensor]:
    try:
        from pyrtools.pyramids.filters import steerable_filters
    except ImportError as exc:  # pragma: no cover - pyrtools is a dependency
        raise DlicError("ifc/vif_wavelet need the steerable-pyramid filters of pyrtools (pip install pyrtools)") from exc
    f = steerable_filters("sp5_filters")
    size = int(round(math.sqrt(f["bfilts"].shape[0])))
    out = {k: torch.as_tensor(f[k], dtype=torch.float64, device=device) for k in ("lo0filt", "lofilt")}
    out["bands"] = torch.stack(
        [torch.as_tensor(f["bfilts"][:, b].reshape(size, size).T.copy(), dtype=torch.float64, device=device) for b in _ORIENTATIONS]
    )
    return out


def _corr(x: torch.Tensor, filt: torch.Tensor, step: int = 1) -> torch.Tensor:
    """``corrDn(x, filt, 'reflect1', [step step])`` of ``(N, 1, H, W)`` with odd square filters ``(K, k, k)``.

    Returns ``(N, K, ⌈H/step⌉, ⌈W/step⌉)``. Weighted sums of shifted views: in float64 on CPU this
    is several times faster than ``conv2d``.
    """
    if filt.ndim == 2:
        filt = filt[None]
    k = filt.shape[-1]
    p = k // 2
    xp = F.pad(x, (p, p, p, p), mode="reflect")
    h, w = x.shape[-2:]
    taps = filt.cpu().tolist()
    outs = []
    for f in taps:
        out = None
        for i in range(k):
            for j in range(k):
                if f[i][j] == 0.0:
                    continue
                view = xp[..., i : i + h : step, j : j + w : step]
                out = view * f[i][j] if out is None else out.add_(view, alpha=f[i][j])
        outs.append(out)
    return torch.cat(outs, dim=1)


def steerable_subbands(x: torch.Tensor) -> list[torch.Tensor]:
    """The 0° and 90° ``sp5`` subbands of each level, finest first: a list of 4 ``(N, 2, h, w)`` tensors."""
    f = _sp5(str(x.device))
    lo = _corr(x, f["lo0filt"])
    out = []
    for level in range(_LEVELS):
        out.append(_corr(lo, f["bands"]))
        if level < _LEVELS - 1:
            lo = _corr(lo, f["lofilt"], step=2)
    return out


def _box_at_blocks(x: torch.Tensor, win: int) -> torch.Tensor:
    """Box-window sums centred on the middle sample of each 3×3 block ('reflect1' borders)."""
    p = win // 2
    xp = F.pad(x, (p, p, p, p), mode="reflect")[..., 1:, 1:]
    return F.avg_pool2d(xp, kernel_size=win, stride=_M) * (win * win)


def _channel(c: torch.Tensor, d: torch.Tensor, win: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``vifsub_est_M``: gain g and noise variance σ_v² of the distortion channel per 3×3 block."""
    n = float(win * win)
    sx, sy = _box_at_blocks(c, win), _box_at_blocks(d, win)
    mx, my = sx / n, sy / n
    cov = _box_at_blocks(c * d, win) - n * mx * my
    ssx = torch.relu(_box_at_blocks(c * c, win) - n * mx * mx)
    ssy = torch.relu(_box_at_blocks(d * d, win) - n * my * my)
    g = cov / (ssx + _TOL)
    vv = (ssy - g * cov) / n
    flat_x = ssx < _TOL
    g = torch.where(flat_x, torch.zeros_like(g), g)
    vv = torch.where(flat_x, ssy, vv)
    flat_y = ssy < _TOL
    g = torch.where(flat_y, torch.zeros_like(g), g)
    vv = torch.where(flat_y, torch.zeros_like(vv), vv)
    neg = g < 0
    vv = torch.where(neg, ssy, vv)
    g = torch.relu(g)
    vv = torch.where(vv <= _TOL, torch.full_like(vv, _TOL), vv)
    return g, vv


def _gsm(c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``refparams_vecgsm``: the s² field per 3×3 block ``(N, K, h/3, w/3)`` and C_U's eigenvalues ``(N, K, 9)``."""
    n, k, h, w = c.shape
    flat = c.reshape(n * k, 1, h, w)
    vecs = F.unfold(flat, kernel_size=_M)  # (NK, 9, all overlapping blocks)
    centred = vecs - vecs.mean(dim=-1, keepdim=True)
    cu = centred @ centred.transpose(1, 2) / vecs.shape[-1]
    blocks = F.unfold(flat, kernel_size=_M, stride=_M)  # (NK, 9, non-overlapping blocks)
    ss = (torch.linalg.solve(cu, blocks) * blocks).sum(dim=1) / (_M * _M)
    lam = torch.linalg.eigvalsh(cu)
    return ss.reshape(n, k, h // _M, w // _M), lam.reshape(n, k, _M * _M)


def _information(x: torch.Tensor, y: torch.Tensor, sigma_n_sq: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: Σ log2(1 + g² s² λ / (σ_v² + σ_n²)) and (VIF only) Σ log2(1 + s² λ / σ_n²)."""
    num = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
    den = torch.zeros_like(num)
    for level, (c, d) in enumerate(zip(steerable_subbands(x), steerable_subbands(y))):
        win = 2 ** (_LEVELS - level) + 1  # 17, 9, 5, 3 from the finest level to the coarsest
        h, w = (c.shape[-2] // _M) * _M, (c.shape[-1] // _M) * _M
        c, d = c[..., :h, :w], d[..., :h, :w]
        g, vv = _channel(c, d, win)
        ss, lam = _gsm(c)
        off = math.ceil(((win - 1) / 2) / _M)
        crop = (..., slice(off, g.shape[-2] - off), slice(off, g.shape[-1] - off))
        g, vv, ss = g[crop], vv[crop], ss[crop]
        lam = lam[..., None, None, :]  # (N, K, 1, 1, 9)
        gs = (g * g * ss)[..., None]
        noise = 1e-10 if sigma_n_sq is None else sigma_n_sq
        num += torch.log2(1 + gs * lam / (vv[..., None] + noise)).sum(dim=(1, 2, 3, 4))
        if sigma_n_sq is not None:
            den += torch.log2(1 + ss[..., None] * lam / sigma_n_sq).sum(dim=(1, 2, 3, 4))
    return num, den


def _per_plane_information(reference: Any, distorted: Any, data_range: float, metric: str, sigma_n_sq: float | None,
                           channels: str, standard: str, device: str | None) -> torch.Tensor:
    """IFC (``sigma_n_sq=None``: bits per pixel) or wavelet VIF (information ratio), mean over planes."""
    x, y = prepare_planes(
        reference, distorted, data_range, device, torch.float64, min_size=IFC_MIN_SIZE, metric=metric, channels=channels, standard=standard
    )

    def one(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        c = a.shape[1]
        a2, b2 = a.reshape(-1, 1, *a.shape[-2:]), b.reshape(-1, 1, *b.shape[-2:])
        num, den = _information(a2, b2, sigma_n_sq)
        value = num / (a.shape[-2] * a.shape[-1]) if sigma_n_sq is None else num / den
        return value.reshape(-1, c).mean(dim=1)

    return per_image(one, x, y)


def ifc(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
) -> torch.Tensor:
    """Information Fidelity Criterion per image pair (bits per pixel; see the module docstring)."""
    return _per_plane_information(reference, distorted, data_range, "ifc", None, channels, standard, device)


def vif_wavelet(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    sigma_n_sq: float = 0.4,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
) -> torch.Tensor:
    """Wavelet-domain VIF per image pair (``vifvec.m``; see the module docstring)."""
    return _per_plane_information(reference, distorted, data_range, "vif_wavelet", sigma_n_sq, channels, standard, device)
