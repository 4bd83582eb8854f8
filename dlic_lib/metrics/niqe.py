"""NIQE — Natural Image Quality Evaluator (Mittal, Soundararajan & Bovik 2013), batched in PyTorch.

No-reference: the score is the distance between a multivariate Gaussian (MVG) fitted to the
natural-scene features of the image and the MVG of a corpus of pristine images; lower is better.
This follows the authors' MATLAB release (``computequality.m`` with ``modelparameters.mat``):

* Luma: RGB input becomes Y' = 0.299 R + 0.587 G + 0.114 B (BT.601 full range, what MATLAB's
  ``rgb2gray`` computes up to its 4th-decimal coefficients) on the 0..255 scale, **rounded to
  integers** as ``rgb2gray`` does on 8-bit input (``round_luma=False`` keeps it continuous);
  ``standard``/``range`` select another luma (``range="limited"`` gives MATLAB ``rgb2ycbcr``'s Y,
  which BasicSR and pyiqa use). Single-channel input is taken as the grey image.
* Blocks: the image is cropped (bottom/right) to a multiple of 96×96 and cut into non-overlapping
  96×96 blocks; at the second scale the same blocks are 48×48.
* MSCN: local mean and deviation with the 7×7 Gaussian window (σ = 7/6) and replicated borders
  (MATLAB ``imfilter(…, 'replicate')``); (x − μ)/(σ + 1), σ = √|E[x²] − μ²|.
* Features per block and scale (18): AGGD shape and mean scale of the MSCN block, and for the
  products with its 4 neighbours (horizontal, vertical, both diagonals; circular within the
  block, like MATLAB ``circshift``) the AGGD shape, mean, left and right scales. The AGGD shape is
  chosen on MATLAB's grid 0.2:0.001:10 by nearest moment ratio.
* Scale 2: MATLAB ``imresize(im, 0.5)`` — bicubic (a = −0.5) with antialiasing, i.e. an 8-tap
  filter and symmetric borders, every second sample.
* Score: √((μ_p − μ_d)ᵀ pinv((Σ_p + Σ_d)/2) (μ_p − μ_d)), with the distorted MVG from the block
  features (mean over non-NaN values, covariance over blocks without NaN, as ``nanmean``/``nancov``).

Computation is in float64. Validated against BasicSR's NIQE (``basicsr.metrics.niqe``, stated
there to match MATLAB R2021a to 4 decimals). The pristine model ships in ``data/`` (see the
README there) and is verified by its sha256 when loaded.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DlicError
from ._batch import MetricInputError, filter_valid, gaussian_1d, prepare_pair, to_luma

__all__ = ["niqe", "niqe_pair", "pristine_model", "NIQE_BLOCK"]

NIQE_BLOCK = 96
PARAMS_FILE = Path(__file__).with_name("data") / "niqe_pris_params.npz"
PARAMS_SHA256 = "2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296"


@lru_cache(maxsize=1)
def pristine_model() -> tuple[np.ndarray, np.ndarray]:
    """``(mu (36,), cov (36, 36))`` of the authors' pristine MVG, checked by sha256."""
    try:
        raw = PARAMS_FILE.read_bytes()
    except OSError as exc:  # pragma: no cover - broken installation
        raise DlicError(f"NIQE pristine model {PARAMS_FILE} cannot be read: {exc}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != PARAMS_SHA256:
        raise DlicError(f"NIQE pristine model {PARAMS_FILE} has sha256 {digest}, expected {PARAMS_SHA256}")
    with np.load(PARAMS_FILE) as p:
        return np.asarray(p["mu_pris_param"], dtype=np.float64).reshape(-1), np.asarray(p["cov_pris_param"], dtype=np.float64)


@lru_cache(maxsize=4)
def _aggd_tables(device: str) -> tuple[torch.Tensor, ...]:
    """MATLAB's shape grid 0.2:0.001:10, its moment ratio and the Gamma-function factors, float64."""
    from scipy.special import gamma

    gam = np.arange(0.2, 10.001, 0.001)
    r_gam = gamma(2.0 / gam) ** 2 / (gamma(1.0 / gam) * gamma(3.0 / gam))
    scale = np.sqrt(gamma(1.0 / gam) / gamma(3.0 / gam))
    mean = gamma(2.0 / gam) / gamma(1.0 / gam)
    return tuple(torch.from_numpy(a).to(device) for a in (gam, r_gam, scale, mean))


def _aggd(v: torch.Tensor, tables: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """AGGD fit of each row of ``v`` (…, n): shape α, left/right scales β_l, β_r and the mean."""
    gam, r_gam, scale, mean_f = tables
    sq = v * v
    neg, pos = v < 0, v > 0
    left = torch.sqrt((sq * neg).sum(-1) / neg.sum(-1))  # 0/0 → NaN when no sample is negative
    right = torch.sqrt((sq * pos).sum(-1) / pos.sum(-1))
    g = left / right
    rhat = v.abs().mean(-1) ** 2 / sq.mean(-1)
    rnorm = rhat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    # nearest grid point by (r_gam − rnorm)²; r_gam is increasing, so only two neighbours compete
    hi = torch.searchsorted(r_gam, rnorm.clamp(min=0).nan_to_num(nan=0.0).contiguous()).clamp(1, len(r_gam) - 1)
    lo = hi - 1
    d_lo, d_hi = (r_gam[lo] - rnorm) ** 2, (r_gam[hi] - rnorm) ** 2
    idx = torch.where(d_hi < d_lo, hi, lo)
    idx = torch.where(torch.isfinite(rnorm), idx, torch.zeros_like(idx))  # MATLAB/numpy argmin of all-NaN: 1st
    alpha = gam[idx]
    bl, br = left * scale[idx], right * scale[idx]
    return alpha, bl, br, (br - bl) * mean_f[idx]


def _block_features(blocks: torch.Tensor, tables: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The 18 NIQE features of each ``(…, b, b)`` MSCN block."""
    flat = blocks.flatten(-2)
    alpha, bl, br, _ = _aggd(flat, tables)
    feats = [alpha, (bl + br) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        prod = (blocks * torch.roll(blocks, shifts=shift, dims=(-2, -1))).flatten(-2)
        a, l_, r_, m = _aggd(prod, tables)
        feats += [a, m, l_, r_]
    return torch.stack(feats, dim=-1)


def _mscn(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    pad = (len(kernel) - 1) // 2
    stats = filter_valid(F.pad(torch.cat([x, x * x], dim=1), (pad, pad, pad, pad), mode="replicate"), kernel)
    mu, ex2 = stats[:, :1], stats[:, 1:]
    return (x - mu) / (torch.sqrt((ex2 - mu * mu).abs()) + 1.0)


@lru_cache(maxsize=4)
def _half_taps() -> tuple[float, ...]:
    """MATLAB ``imresize`` bicubic weights for an exact 1/2 reduction with antialiasing (8 taps)."""

    def cubic(t: float) -> float:
        a = abs(t)
        if a <= 1:
            return 1.5 * a**3 - 2.5 * a**2 + 1
        if a <= 2:
            return -0.5 * a**3 + 2.5 * a**2 - 4 * a + 2
        return 0.0

    w = [0.5 * cubic(0.5 * (k - 3.5)) for k in range(8)]  # input samples 2j−3 … 2j+4 around 2j + 0.5
    s = sum(w)
    return tuple(v / s for v in w)


def _symmetric_pad(x: torch.Tensor, before: int, after: int, dim: int) -> torch.Tensor:
    n = x.shape[dim]
    idx = torch.cat([torch.arange(before - 1, -1, -1), torch.arange(n), torch.arange(n - 1, n - 1 - after, -1)])
    return x.index_select(dim, idx.to(x.device))


def imresize_half(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``imresize(x, 0.5)`` (bicubic, antialiasing, symmetric borders) of an even-sized batch."""
    taps = _half_taps()
    for dim in (x.ndim - 2, x.ndim - 1):
        xp = _symmetric_pad(x, 3, 4, dim)
        n = x.shape[dim] // 2
        out = None
        for k, w in enumerate(taps):
            term = xp.narrow(dim, k, 2 * n).unflatten(dim, (n, 2)).select(dim + 1, 0) * w
            out = term if out is None else out + term
        x = out
    return x


def _niqe_planes(y: torch.Tensor, block: int) -> torch.Tensor:
    """NIQE of ``(N, 1, H, W)`` grey planes on the 0..255 scale (float64)."""
    n = y.shape[0]
    nh, nw = y.shape[-2] // block, y.shape[-1] // block
    x = y[..., : nh * block, : nw * block]
    kernel = gaussian_1d(7, 7.0 / 6.0)
    tables = _aggd_tables(str(x.device))
    feats = []
    for scale in (1, 2):
        b = block // scale
        m = _mscn(x, kernel)[:, 0]
        blocks = m.reshape(n, nh, b, nw, b).permute(0, 1, 3, 2, 4).reshape(n, nh * nw, b, b)
        feats.append(_block_features(blocks, tables))
        if scale == 1:
            x = imresize_half(x)
    f = torch.cat(feats, dim=-1)  # (N, blocks, 36)
    mu_p, cov_p = (torch.from_numpy(a).to(f.device) for a in pristine_model())
    scores = []
    for i in range(n):
        fi = f[i]
        mu_d = torch.nanmean(fi, dim=0)
        rows = fi[~torch.isnan(fi).any(dim=1)]
        cov_d = torch.cov(rows.T) if rows.shape[0] > 1 else torch.full_like(cov_p, float("nan"))
        d = (mu_p - mu_d)[None]
        inv = torch.linalg.pinv((cov_p + cov_d) / 2, rtol=1e-15) if torch.isfinite(cov_d).all() else None
        scores.append(torch.sqrt((d @ inv @ d.T).reshape(())) if inv is not None else torch.tensor(float("nan"), dtype=f.dtype))
    return torch.stack(scores).double()


def niqe(
    image: Any,
    data_range: float = 255.0,
    *,
    standard: str = "bt601",
    range: str = "full",
    round_luma: bool = True,
    block: int = NIQE_BLOCK,
    device: str | None = None,
) -> torch.Tensor:
    """NIQE of each image (lower is better); see the module docstring for every convention.

    Needs at least two whole ``block``×``block`` blocks (the distorted MVG needs a covariance), i.e.
    a side of at least 96 px and 96×192 px in all for the default block.
    """
    if block < 8 or block % 2:
        raise MetricInputError(f"niqe: block must be an even number of at least 8 pixels, got {block}")
    x, _ = prepare_pair(image, image, data_range, device, torch.float64, min_size=block, metric="niqe")
    h, w = x.shape[-2:]
    if (h // block) * (w // block) < 2:
        raise MetricInputError(
            f"niqe needs at least two {block}×{block} blocks (e.g. {block}×{2 * block} pixels), got {h}×{w}"
        )
    y = to_luma(x, standard, range)
    if round_luma:
        y = torch.round(y)
    return _niqe_planes(y, block)


def niqe_pair(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    device: str | None = None,
    **kwargs: Any,
) -> torch.Tensor:
    """NIQE of ``distorted`` (the reference is only checked for a matching shape and dtype)."""
    prepare_pair(reference, distorted, data_range, None, torch.float32, min_size=1, metric="niqe")
    return niqe(distorted, data_range, device=device, **kwargs)

