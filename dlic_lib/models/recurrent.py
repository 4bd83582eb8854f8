"""The recursive ConvLSTM codec of Toderici et al. (2017), as tabulated in seed 003 (Table 4.2).

One 32×32 RGB patch is coded in ``k`` iterations. Each iteration encodes the current residual,
binarises it to 2×2×32 bits (0.125 bpp) and decodes an additive correction; the LSTM states of
encoder and decoder persist across iterations and start at zero for every patch::

    r_0 = x − 0.5;   b_k = B(E(r_{k−1}));   out_k = D(b_k) = tanh(·)/2;   r_k = r_{k−1} − out_k

so the reconstruction after ``k`` iterations is ``0.5 + Σ_{i≤k} out_i``.

Architecture (Table 4.2, no biases anywhere; ``C`` = channels × ``width``):

============  ==========================  =========  ==============
part          layer                       output     parameters
============  ==========================  =========  ==============
encoder       Conv 3×3 /2, 3→64            16×16×64   1,728
encoder       ConvLSTM 3×3 /2 (hidden 1×1) 8×8×256    851,968
encoder       ConvLSTM 3×3 /2 (hidden 1×1) 4×4×512    5,767,168
encoder       ConvLSTM 3×3 /2 (hidden 1×1) 2×2×512    10,485,760
binarizer     Conv 1×1, tanh, sign         2×2×32     16,384
decoder       Conv 1×1, 32→512             2×2×512    16,384
decoder       ConvLSTM 3×3 /1, D2S ×2      4×4×128    10,485,760
decoder       ConvLSTM 3×3 /1, D2S ×2      8×8×128    3,407,872
decoder       ConvLSTM 3×3 /1, D2S ×2      16×16×64   1,441,792
decoder       ConvLSTM 3×3 /1, D2S ×2      32×32×32   360,448
decoder       Conv 1×1, 32→3, tanh         32×32×3    96
total                                                 32,835,360
============  ==========================  =========  ==============

Deviations from the printed table (it is garbled; the parameter counts decide):

* A ConvLSTM layer has ``4·C_out·(9·C_in + C_out)`` weights: a 3×3 input convolution and a 1×1
  hidden convolution, no peepholes (eqs. 2.29–2.32 print ``W_c·c`` terms; the counts exclude them).
* Every decoder ConvLSTM has stride 1; the table prints stride 2 for the last two, which would
  shrink the map instead of letting depth-to-space grow it.
* The "Sigmoid" column is the gate activation; the cell candidate and the output use tanh.
* The table lists the ConvLSTM output shapes before depth-to-space (e.g. "8x8x256" for the third
  decoder layer, whose input is the 8×8×128 map); the shapes above are after it.
* The binarizer's printed padding "Valid" is immaterial for a 1×1 kernel.
* Input scaling (unstated): the network codes ``x − 0.5`` and outputs ``tanh(·)/2``, as the
  public PyTorch port ``1zb/pytorch-image-comp-rnn`` does (which uses 3×3 hidden kernels in two
  decoder layers and so has 35,456,800 weights instead).
* Eq. 4.1–4.2 print ``Enc(Dec(·))``; the scheme above is the intended ``Dec(Bin(Enc(·)))``.

``width`` scales every channel count but the 32-bit code (the rate ladder stays exact); ``width
= 0.25`` is the ``quick`` network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .registry import register_model

__all__ = ["ConvLSTMCell", "RecurrentEncoder", "RecurrentDecoder", "RecurrentCodec", "binarize", "BITS_PER_ITERATION",
           "PATCH"]

#: side of the square patch the network codes
PATCH = 32
#: bits per 32×32 patch per iteration (2×2×32): 0.125 bpp
BITS_PER_ITERATION = 128


class ConvLSTMCell(nn.Module):
    """Convolutional LSTM cell without biases: 3×3 input convolution (stride ``stride``), 1×1 hidden one.

    ``i, f, o = σ(·)``, ``g = tanh(·)``, ``c' = f·c + i·g``, ``h' = o·tanh(c')``; gates ordered
    ``(i, f, g, o)`` along the channel axis of both convolutions.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, kernel: int = 3, hidden_kernel: int = 1) -> None:
        super().__init__()
        self.c_out = c_out
        self.stride = stride
        self.conv_x = nn.Conv2d(c_in, 4 * c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.conv_h = nn.Conv2d(c_out, 4 * c_out, hidden_kernel, padding=hidden_kernel // 2, bias=False)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        i, f, g, o = (self.conv_x(x) + self.conv_h(h)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


def binarize(x: torch.Tensor, stochastic: bool) -> torch.Tensor:
    """Map ``x ∈ [−1, 1]`` to ``±1``: sign at test; in training ``+1`` with probability ``(1+x)/2``.

    The stochastic form passes the gradient straight through (``∂b/∂x = 1``, eq. 2.38): ``b =
    b + (x − x.detach())`` (exactly ±1 forward). Zero maps to ``+1`` at test.
    """
    if stochastic:
        b = torch.where(torch.rand_like(x) < (1 + x) / 2, 1.0, -1.0).to(x.dtype)
        return b + (x - x.detach())
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


def _ch(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


State = list[tuple[torch.Tensor, torch.Tensor]]


class RecurrentEncoder(nn.Module):
    """Conv 3×3/2 then three ConvLSTM 3×3/2 layers, and the 1×1 tanh binarizer projection to ``bits`` channels."""

    def __init__(self, width: float = 1.0, bits: int = 32) -> None:
        super().__init__()
        c0, c1, c2, c3 = (_ch(n, width) for n in (64, 256, 512, 512))
        self.conv = nn.Conv2d(3, c0, 3, stride=2, padding=1, bias=False)
        self.rnns = nn.ModuleList([ConvLSTMCell(c0, c1, 2), ConvLSTMCell(c1, c2, 2), ConvLSTMCell(c2, c3, 2)])
        self.binarizer = nn.Conv2d(c3, bits, 1, bias=False)

    def init_state(self, x: torch.Tensor) -> State:
        n, _, h, w = x.shape
        states, size = [], (h // 2, w // 2)
        for rnn in self.rnns:
            size = ((size[0] + 1) // 2, (size[1] + 1) // 2)
            z = x.new_zeros(n, rnn.c_out, *size)
            states.append((z, z))
        return states

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """``tanh`` code (before binarisation) of ``x`` and the new states."""
        y, new = self.conv(x), []
        for rnn, s in zip(self.rnns, state):
            h, c = rnn(y, s)
            new.append((h, c))
            y = h
        return torch.tanh(self.binarizer(y)), new


class RecurrentDecoder(nn.Module):
    """Conv 1×1 then four ConvLSTM 3×3/1 layers each followed by depth-to-space ×2, Conv 1×1 and tanh/2."""

    def __init__(self, width: float = 1.0, bits: int = 32) -> None:
        super().__init__()
        c0, c1, c2, c3, c4 = (_ch(n, width) for n in (512, 512, 512, 256, 128))
        self.conv_in = nn.Conv2d(bits, c0, 1, bias=False)
        self.rnns = nn.ModuleList([
            ConvLSTMCell(c0, c1), ConvLSTMCell(c1 // 4, c2), ConvLSTMCell(c2 // 4, c3), ConvLSTMCell(c3 // 4, c4),
        ])
        self.conv_out = nn.Conv2d(c4 // 4, 3, 1, bias=False)

    def init_state(self, b: torch.Tensor) -> State:
        n, _, h, w = b.shape
        states = []
        for k, rnn in enumerate(self.rnns):
            z = b.new_zeros(n, rnn.c_out, h << k, w << k)
            states.append((z, z))
        return states

    def forward(self, b: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """The additive correction ``tanh(·)/2`` decoded from bits ``b`` and the new states."""
        y, new = self.conv_in(b), []
        for rnn, s in zip(self.rnns, state):
            h, c = rnn(y, s)
            new.append((h, c))
            y = F.pixel_shuffle(h, 2)
        return torch.tanh(self.conv_out(y)) / 2, new


@register_model("toderici2017-rnn")
class RecurrentCodec(nn.Module):
    """Seed 003's baseline recursive codec (Table 4.2): encoder, binarizer, decoder.

    Parameters
    ----------
    width : float
        Multiplier of every channel count except the 32-bit code (1.0: Table 4.2, 32,835,360
        weights; 0.25: the ``quick`` network).
    bits : int
        Code channels per 2×2 position (32: 0.125 bpp per iteration).
    iterations : int
        Iterations used in training (the codec may run fewer or more).
    """

    def __init__(self, width: float = 1.0, bits: int = 32, iterations: int = 16) -> None:
        super().__init__()
        self.width, self.bits, self.iterations = float(width), int(bits), int(iterations)
        self.encoder = RecurrentEncoder(width, bits)
        self.decoder = RecurrentDecoder(width, bits)

    def config(self) -> dict:
        """The constructor arguments (stored with checkpoints)."""
        return {"width": self.width, "bits": self.bits, "iterations": self.iterations}

    def forward(self, x: torch.Tensor, iterations: int | None = None, stochastic: bool | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Code patches ``x ∈ [0, 1]`` (N, 3, 32, 32) for ``iterations`` steps.

        Returns
        -------
        residuals : (k, N, 3, 32, 32) the residual after each iteration (the training loss is its mean |·|)
        codes : (k, N, bits, 2, 2) the ±1 codes
        reconstruction : (N, 3, 32, 32) ``0.5 + Σ out_i`` after the last iteration
        """
        k = self.iterations if iterations is None else int(iterations)
        stochastic = self.training if stochastic is None else stochastic
        r = x - 0.5
        enc_state = self.encoder.init_state(r)
        dec_state = None
        residuals, codes = [], []
        for _ in range(k):
            code, enc_state = self.encoder(r, enc_state)
            b = binarize(code, stochastic)
            if dec_state is None:
                dec_state = self.decoder.init_state(b)
            out, dec_state = self.decoder(b, dec_state)
            r = r - out
            residuals.append(r)
            codes.append(b)
        return torch.stack(residuals), torch.stack(codes), x - r
