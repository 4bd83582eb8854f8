"""Pixel-domain Visual Information Fidelity (VIF-P), batched in PyTorch.

This is the pixel-domain multi-scale approximation of VIF (Sheikh & Bovik 2006, the authors'
``vifp_mscale.m``), which ``sewar.full_ref.vifp`` and ``piq.vif_p`` implement. It is *not* the
wavelet-domain VIF of the paper (steerable-pyramid subbands); the name ``vif`` in this project
always means VIF-P.

Conventions: 4 scales; at scale j = 1..4 a Gaussian window of N = 2^(5−j)+1 taps (17, 9, 5, 3)
and σ = N/5; before scales 2..4 the images are filtered with that scale's window ('valid') and
every second row/column kept; local moments use 'valid' borders; HVS noise variance σ²_n = 2 on
the 0..255 scale; the guards against tiny variances (ε = 1e-10) follow the MATLAB code and sewar.
Channels: Y' (BT.601 full range) by default; ``channels="rgb"`` averages per-channel VIF-P
(sewar on an RGB array).
"""

from __future__ import annotations

from typing import Any

import torch

from ._batch import filter_valid, gaussian_1d, per_image, prepare_planes

__all__ = ["vif", "VIF_MIN_SIZE"]

VIF_MIN_SIZE = 41
"""Smallest side that leaves at least one 'valid' window at the coarsest scale."""

_EPS = 1e-10


def vif(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    sigma_n_sq: float = 2.0,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """VIF-P per image pair: Σ_scales Σ log10(1 + g²σ²_x/(σ²_v+σ²_n)) / Σ_scales Σ log10(1 + σ²_x/σ²_n).

    A reference without variance carries no information; VIF is 1 against an identical image
    (not 0/0).
    """
    x, y = prepare_planes(
        reference, distorted, data_range, device, dtype, min_size=VIF_MIN_SIZE, metric="vif", channels=channels, standard=standard
    )
    return per_image(lambda a, b: _vif(a, b, sigma_n_sq), x, y)


def _vif(x: torch.Tensor, y: torch.Tensor, sigma_n_sq: float) -> torch.Tensor:
    c = x.shape[1]
    identical = (x == y).flatten(2).all(dim=2)  # (N, C): a reference with no variance has VIF 1 against itself
    num = torch.zeros(x.shape[0], c, dtype=torch.float64, device=x.device)
    den = torch.zeros_like(num)
    x, y = x - 128.0, y - 128.0  # variances do not depend on the offset; float32 keeps more precision
    for scale in range(1, 5):
        n = 2 ** (5 - scale) + 1
        k = gaussian_1d(n, n / 5.0)
        if scale > 1:  # filter and keep every second sample, computing only those
            x, y = filter_valid(torch.cat([x, y], dim=1), k, step=2).split(c, dim=1)
        stats = filter_valid(torch.cat([x, y, x * x, y * y, x * y], dim=1), k)
        mx, my, exx, eyy, exy = stats.split(c, dim=1)
        sxx = torch.relu(exx - mx * mx)
        syy = torch.relu(eyy - my * my)
        sxy = exy - mx * my
        g = sxy / (sxx + _EPS)
        sv = syy - g * sxy
        # the guards of vifp_mscale.m / sewar, in their order
        flat_ref = sxx < _EPS
        g = g.masked_fill(flat_ref, 0.0)
        sv = torch.where(flat_ref, syy, sv)
        sxx = sxx.masked_fill(flat_ref, 0.0)
        flat_dist = syy < _EPS
        g = g.masked_fill(flat_dist, 0.0)
        sv = sv.masked_fill(flat_dist, 0.0)
        sv = torch.where(g < 0, syy, sv)
        g = torch.relu(g)
        sv = torch.clamp(sv, min=_EPS)
        # log10 terms in the working precision, sums in float64
        num += torch.log10(1.0 + g * g * sxx / (sv + sigma_n_sq)).sum(dim=(2, 3), dtype=torch.float64)
        den += torch.log10(1.0 + sxx / sigma_n_sq).sum(dim=(2, 3), dtype=torch.float64)
    ratio = torch.where(identical & (den == 0), torch.ones_like(num), num / den)
    return ratio.mean(dim=1)
