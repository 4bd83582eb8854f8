"""Metrics of the MeTriX MuX set (seed 002) implemented so far: the Universal Quality Index.

UQI (Wang & Bovik, IEEE SPL 2002; the authors' ``img_qi.m``): on each 8×8 window ('valid'
borders, uniform weights),  Q = 4·σ_xy·x̄·ȳ / ((σ_x² + σ_y²)(x̄² + ȳ²)); where the denominator is 0
the code's special cases apply (Q = 1 for two flat equal blocks; Q = 2x̄ȳ/(x̄² + ȳ²) when only
the variances vanish); the index is the mean of the Q map. Luma Y' (BT.601 full range) by default.

``uqi_sewar`` reproduces ``sewar.full_ref.uqi`` for comparison with seed 000's tool. It is *not*
UQI: sewar feeds window *means* into the formula written for window *sums* (so the N·Σxy − ΣxΣy
terms mix scales), and it drops the last row and column of windows.
"""

from __future__ import annotations

from typing import Any

import torch

from ._batch import filter_valid, per_image, prepare_planes, uniform_1d

__all__ = ["uqi", "uqi_sewar", "registry_entries"]

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


def registry_entries(metric_cls) -> list:
    return [
        metric_cls("uqi", uqi, "Universal Quality Index (Wang & Bovik 2002), 8×8 window, on Y"),
        metric_cls("uqi_sewar", uqi_sewar, "sewar's uqi (its formula mixes window means and sums), on Y"),
    ]
