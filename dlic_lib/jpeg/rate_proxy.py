"""The rate proxy of §3.3: a differentiable count of non-zero quantised DCT coefficients.

For an image ``x`` on [0, 1] (8×8-aligned), ``f`` is the orthonormal block DCT of ``x − 128/255``
(JPEG's FDCT on the [0, 1] scale) and ``Q_s`` the luminance table at the quality factor:

* eq. 3.6: ``Y = 2·|f| − Q_s/255`` (positive where ``round(255·f/Q_s) ≠ 0``);
* eq. 3.7: ``Ỹ = ReLU(Y)``;
* eq. 3.8: ``R = Σ_blocks Σ_{u,v=0..7} Ỹ/(Ỹ + ε)``, ``ε = 1e-4`` (DC included by default).

``R`` is summed over every block of every image of the batch. Its gradient, ``ε/(Ỹ+ε)²``, reaches
only coefficients within a few ``ε`` above the threshold. :func:`hard_nonzero_count` is the
exact count the soft one approaches as ``ε → 0``.
"""

from __future__ import annotations

import torch

from .dct import block_dct, round_half_away

__all__ = ["soft_nonzero_count", "hard_nonzero_count", "proxy_terms"]


def _coefficients(x: torch.Tensor, quality: float, include_dc: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    from .luma import luma_quant_table

    f = block_dct(x - 128.0 / 255.0)
    table = torch.as_tensor(luma_quant_table(quality), dtype=f.dtype, device=f.device) / 255.0
    mask = torch.ones(8, 8, dtype=f.dtype, device=f.device)
    if not include_dc:
        mask[0, 0] = 0.0
    return f, table, mask


def proxy_terms(x: torch.Tensor, quality: float, *, include_dc: bool = True) -> torch.Tensor:
    """``Ỹ = ReLU(2|f| − Q_s/255)`` per coefficient, shape ``(B, C, H/8, W/8, 8, 8)`` (eqs. 3.6–3.7)."""
    f, table, mask = _coefficients(x, quality, include_dc)
    return torch.relu(2.0 * f.abs() - table) * mask


def soft_nonzero_count(x: torch.Tensor, quality: float, *, eps: float = 1e-4, include_dc: bool = True,
                       per_image: bool = False) -> torch.Tensor:
    """The smoothed count ``R`` of eq. 3.8 for images ``x`` ``(B, 1, H, W)`` on [0, 1].

    Returns a scalar (summed over the batch) or, with ``per_image=True``, one value per image.
    """
    y = proxy_terms(x, quality, include_dc=include_dc)
    r = y / (y + eps)
    return r.flatten(1).sum(1) if per_image else r.sum()


@torch.no_grad()
def hard_nonzero_count(x: torch.Tensor, quality: float, *, include_dc: bool = True,
                       per_image: bool = False) -> torch.Tensor:
    """The exact number of non-zero levels ``round(255·f/Q_s)`` (halves away from zero) of a float DCT."""
    from .luma import luma_quant_table

    f = block_dct(x.double() * 255.0 - 128.0)
    table = torch.as_tensor(luma_quant_table(quality), dtype=f.dtype, device=f.device)
    nonzero = round_half_away(f / table) != 0
    if not include_dc:
        nonzero[..., 0, 0] = False
    counts = nonzero.flatten(1).sum(1)
    return counts if per_image else counts.sum()
