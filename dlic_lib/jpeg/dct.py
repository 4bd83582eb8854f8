"""The 8×8 block DCT and quantisation of JPEG in torch (differentiable where it can be).

The orthonormal 2-D DCT-II of a level-shifted 8×8 block is JPEG's forward DCT (T.81 A.3.3):
``F(u, v) = ¼·C(u)·C(v)·Σ f(x, y)·cos((2x+1)uπ/16)·cos((2y+1)vπ/16)``. Coefficient ``(u, v)`` has
vertical frequency ``u`` (row) and horizontal frequency ``v`` (column), as in a JPEG file.
Images are ``(B, C, H, W)`` tensors with ``H`` and ``W`` multiples of 8; blocks are
``(B, C, H/8, W/8, 8, 8)``.
"""

from __future__ import annotations

import math

import torch

from ..errors import DlicError

__all__ = [
    "dct_matrix",
    "to_blocks",
    "from_blocks",
    "block_dct",
    "block_idct",
    "round_half_away",
    "quantise",
    "dequantise",
    "oracle_jpeg",
]


def dct_matrix(n: int = 8, *, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """The orthonormal DCT-II matrix ``D`` (``D[u, x] = c(u)·cos((2x+1)uπ/2n)``); ``D @ b @ D.T`` transforms a block."""
    x = torch.arange(n, dtype=torch.float64)
    u = x[:, None]
    d = torch.cos((2.0 * x[None, :] + 1.0) * u * math.pi / (2.0 * n)) * math.sqrt(2.0 / n)
    d[0] /= math.sqrt(2.0)
    return d.to(dtype=dtype, device=device)


def _check(x: torch.Tensor) -> None:
    if x.dim() != 4 or x.shape[-1] % 8 or x.shape[-2] % 8:
        raise DlicError(f"block transforms need (B, C, H, W) with H and W multiples of 8, got {tuple(x.shape)}")


def to_blocks(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` → ``(B, C, H/8, W/8, 8, 8)`` (raster order of blocks, rows then columns)."""
    _check(x)
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 8, 8, w // 8, 8).permute(0, 1, 2, 4, 3, 5)


def from_blocks(blocks: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_blocks`."""
    b, c, nh, nw, _, _ = blocks.shape
    return blocks.permute(0, 1, 2, 4, 3, 5).reshape(b, c, nh * 8, nw * 8)


def _kron(like: torch.Tensor) -> torch.Tensor:
    d = dct_matrix(dtype=torch.float64)
    return torch.kron(d, d).to(dtype=like.dtype, device=like.device)


def block_dct(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal DCT-II of every 8×8 block: ``(B, C, H, W)`` → ``(B, C, H/8, W/8, 8, 8)``.

    One matrix product with ``D ⊗ D`` on the flattened blocks (``vec(D b Dᵀ) = (D ⊗ D) vec(b)``).
    """
    blocks = to_blocks(x)
    flat = blocks.reshape(-1, 64) @ _kron(x).T
    return flat.reshape(blocks.shape)


def block_idct(coefficients: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`block_dct`: ``(B, C, H/8, W/8, 8, 8)`` → ``(B, C, H, W)``."""
    flat = coefficients.reshape(-1, 64) @ _kron(coefficients)
    return from_blocks(flat.reshape(coefficients.shape))


def round_half_away(x: torch.Tensor) -> torch.Tensor:
    """Round to the nearest integer, halves away from zero (libjpeg's quantiser rounding)."""
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def _table(table, like: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(table, dtype=like.dtype, device=like.device)
    if t.shape != (8, 8):
        raise DlicError(f"a quantisation table is 8×8, got {tuple(t.shape)}")
    return t


def quantise(coefficients: torch.Tensor, table, *, straight_through: bool = False) -> torch.Tensor:
    """Quantisation levels ``round(F/Q)`` (eq. 3.4) of DCT coefficients in 0..255 units.

    ``straight_through=True`` rounds in the forward pass and passes the gradient of ``F/Q`` back.
    """
    scaled = coefficients / _table(table, coefficients)
    levels = round_half_away(scaled)
    if straight_through:
        return scaled + (levels - scaled).detach()
    return levels


def dequantise(levels: torch.Tensor, table) -> torch.Tensor:
    """Reconstructed coefficients ``levels·Q``."""
    return levels * _table(table, levels)


def oracle_jpeg(x: torch.Tensor, quality: float) -> torch.Tensor:
    """A non-learned differentiable JPEG of images on [0, 1]: level shift, DCT, quantise (straight
    through), dequantise, IDCT, clamp. It is the float-DCT ceiling a learned FakeCodec can approach."""
    from .luma import luma_quant_table

    table = luma_quant_table(quality)
    coefficients = block_dct(x * 255.0 - 128.0)
    rec = block_idct(dequantise(quantise(coefficients, table, straight_through=True), table))
    return ((rec + 128.0) / 255.0).clamp(0.0, 1.0)
