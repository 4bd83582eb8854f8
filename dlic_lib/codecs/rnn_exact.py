"""A fixed-point twin of the recursive codec's decoder whose output is the same on every machine.

Floating-point convolutions may sum in a different order with another thread count, library or
device, and one flipped rounding changes a decoded pixel. The codec therefore decodes with integer
arithmetic carried in float64 tensors (Ballé et al., "Integer networks for data compression",
ICLR 2019, make the same point):

* weights are integers ``round(w·2^s)`` with one power-of-two scale ``s`` per layer, ``|w·2^s| < 2^15``;
* activations (codes, hidden and cell states, gates) are integers on a grid of ``2^−A`` (``A = 14``);
* convolutions are matrix products of integers whose every partial sum stays below ``2^53``, so
  float64 ``matmul`` (any BLAS, any thread count, CUDA) computes them exactly;
* products are brought back to the grid by round-half-up of an exact power-of-two division;
* ``σ`` and ``tanh`` are tables over pre-activations clipped to ``[−16, 16]`` in steps of ``2^−L``
  (``L = 12``), values rounded to the ``2^−A`` grid.

The encoder runs the same twin to form its residuals, so encoder and decoder agree exactly. The
difference to the float decoder is far below one 8-bit step (checked by the tests).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..models.recurrent import ConvLSTMCell, RecurrentDecoder

__all__ = ["ExactDecoder", "ACT_BITS", "LUT_BITS"]

#: fractional bits of activations
ACT_BITS = 14
#: fractional bits of the table index (pre-activation resolution)
LUT_BITS = 12
_CLIP = 16
_W_BITS = 15


def _round_shift(v: torch.Tensor, shift: int) -> torch.Tensor:
    """``round_half_up(v / 2^shift)`` of integer-valued float64 ``v`` (exact)."""
    if shift <= 0:
        return v * (2.0 ** -shift)
    return (v * (2.0 ** -shift)).add_(0.5).floor_()


def _tables(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    z = np.arange(-_CLIP << LUT_BITS, (_CLIP << LUT_BITS) + 1, dtype=np.float64) / (1 << LUT_BITS)
    sig = np.floor(1.0 / (1.0 + np.exp(-z)) * (1 << ACT_BITS) + 0.5)
    tanh = np.floor(np.tanh(z) * (1 << ACT_BITS) + 0.5)
    return torch.from_numpy(sig).to(device), torch.from_numpy(tanh).to(device)


def _scale(*weights: torch.Tensor) -> int:
    """The power-of-two exponent that maps the largest magnitude below ``2^15``."""
    peak = max(float(w.detach().abs().max()) for w in weights)
    return _W_BITS - 1 - (math.floor(math.log2(peak)) if peak > 0 else 0)


def _int_weight(w: torch.Tensor, s: int, device) -> torch.Tensor:
    return torch.round(w.detach().double() * 2.0 ** s).reshape(w.shape[0], -1).to(device)


class _ExactCell:
    def __init__(self, cell: ConvLSTMCell, device) -> None:
        self.s = _scale(cell.conv_x.weight, cell.conv_h.weight)
        self.wx = _int_weight(cell.conv_x.weight, self.s, device)
        self.wh = _int_weight(cell.conv_h.weight, self.s, device)
        self.k = cell.conv_x.kernel_size[0]
        self.c_out = cell.c_out
        if cell.stride != 1 or cell.conv_h.kernel_size[0] != 1:
            raise ValueError("the exact decoder supports stride-1 cells with 1×1 hidden kernels")


class ExactDecoder:
    """Integer twin of a :class:`~dlic_lib.models.recurrent.RecurrentDecoder` on ``device``.

    :meth:`step` maps ±1 codes ``(N, bits, h, w)`` and a state to the integer correction ``out``
    on the grid ``2^−(A+1)`` (i.e. ``tanh(·)/2``) and the new state.
    """

    def __init__(self, decoder: RecurrentDecoder, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.s_in = _scale(decoder.conv_in.weight)
        self.w_in = _int_weight(decoder.conv_in.weight, self.s_in, self.device)
        self.s_out = _scale(decoder.conv_out.weight)
        self.w_out = _int_weight(decoder.conv_out.weight, self.s_out, self.device)
        self.cells = [_ExactCell(c, self.device) for c in decoder.rnns]
        sig, tanh = _tables(self.device)
        #: σ table followed by the tanh table; gate g of each cell reads the second half
        self.table, self.n_sig = torch.cat([sig, tanh]), len(sig)
        for cell in self.cells:
            cell.offset = torch.zeros(4 * cell.c_out, 1, 1, 1, dtype=torch.long, device=self.device)
            cell.offset[2 * cell.c_out:3 * cell.c_out] = self.n_sig
        for s in (self.s_in, self.s_out, *(c.s for c in self.cells)):
            if s + ACT_BITS - LUT_BITS < 0:
                raise ValueError("decoder weights are too large for the fixed-point decoder")

    def init_state(self, n: int, h: int, w: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Zero states; tensors are laid out ``(C, N, H, W)`` so every convolution is one matrix product."""
        state = []
        for k, cell in enumerate(self.cells):
            z = torch.zeros(cell.c_out, n, h << k, w << k, dtype=torch.float64, device=self.device)
            state.append((z, z))
        return state

    def _index(self, acc: torch.Tensor, shift: int, offset: torch.Tensor | int = 0) -> torch.Tensor:
        """Table index of the pre-activation ``acc·2^−shift`` rounded to the ``2^−L`` grid (clipped)."""
        # floor(acc·2^−(shift−L) + ½) + 16·2^L in one exact pass (all terms are integers or halves below 2^52)
        idx = (acc * (2.0 ** (LUT_BITS - shift))).add_(0.5 + (_CLIP << LUT_BITS)).floor_()
        idx = idx.clamp_(0, 2 * _CLIP << LUT_BITS).long()
        return idx.add_(offset) if isinstance(offset, torch.Tensor) else idx + offset

    @staticmethod
    def _matmul(w: torch.Tensor, x: torch.Tensor, k: int) -> torch.Tensor:
        c, n, h, wd = x.shape
        if k == 1:
            cols = x.reshape(c, n * h * wd)
        else:  # (C·k·k, N·H·W) in the weight's (C, ky, kx) order, from shifted views
            p = F.pad(x, (k // 2,) * 4)
            cols = torch.stack([p[:, :, dy:dy + h, dx:dx + wd] for dy in range(k) for dx in range(k)], 1)
            cols = cols.reshape(c * k * k, n * h * wd)
        return torch.matmul(w, cols).reshape(w.shape[0], n, h, wd)

    @staticmethod
    def _depth_to_space(x: torch.Tensor) -> torch.Tensor:
        """``pixel_shuffle(·, 2)`` in the ``(C, N, H, W)`` layout."""
        c4, n, h, w = x.shape
        return x.reshape(c4 // 4, 2, 2, n, h, w).permute(0, 3, 4, 1, 5, 2).reshape(c4 // 4, n, 2 * h, 2 * w)

    def step(self, bits: torch.Tensor, state):
        """``bits`` ``(N, C, h, w)`` ±1 → correction ``(N, 3, 32h... )`` integers on ``2^−(A+1)``, new state."""
        a, table = ACT_BITS, self.table
        b = bits.to(self.device, torch.float64).transpose(0, 1)
        x = _round_shift(self._matmul(self.w_in, b, 1), self.s_in - a)
        new = []
        for cell, (h, c) in zip(self.cells, state):
            acc = self._matmul(cell.wx, x, cell.k).add_(self._matmul(cell.wh, h, 1))
            i, f, g, o = table[self._index(acc, cell.s + a, cell.offset)].chunk(4, dim=0)
            c = _round_shift((f * c).addcmul_(i, g), a)
            h = _round_shift(table[self._index(c, a, self.n_sig)].mul_(o), a)
            new.append((h, c))
            x = self._depth_to_space(h)
        out = table[self._index(self._matmul(self.w_out, x, 1), self.s_out + a, self.n_sig)]
        return out.transpose(0, 1), new
