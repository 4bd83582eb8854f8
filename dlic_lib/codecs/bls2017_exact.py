"""The BLS synthesis transform evaluated so that every machine and thread count decodes the same pixels.

A float convolution may sum in another order with another thread count or library, and one flipped
rounding changes a decoded pixel. As in :mod:`dlic_lib.codecs.rnn_exact` (after Ballé et al.,
"Integer networks for data compression", ICLR 2019), every *reduction* is made exact and every other
operation is a single IEEE operation on each element (correctly rounded, so the same everywhere):

* weights of each transposed convolution and each IGDN's γ are integers ``round(w·2^s)``, one
  power-of-two scale per layer with ``|w·2^s| < 2^15``;
* activations are integers on a grid of ``2^−a`` (``a = ACT_BITS``, lowered for a layer whose input
  could make a sum reach ``2^52``), so float64 convolutions of them are sums of integers, exact in any
  order;
* biases, IGDN's β, ``sqrt`` and the products of IGDN are per-element float64 operations, rounded back
  to the grid (round half up).

The encoder's file is decoded by this transform, so ``decode(file)`` equals the image the encoder
reports, bit for bit, everywhere. The result differs from the float network by far less than one
8-bit step (tested). Runs on the CPU in float64.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from compressai.layers import GDN
from torch import nn

from .rnn_exact import _round_shift, _scale

__all__ = ["ExactSynthesis", "ACT_BITS"]

#: fractional bits of the activations between layers
ACT_BITS = 16
_LIMIT = 2.0**52


def _to_grid(v: torch.Tensor, a: int) -> torch.Tensor:
    """``round_half_up(v·2^a)`` of float64 ``v`` (one exact scaling, one rounding)."""
    return (v * 2.0**a).add_(0.5).floor_()


def _fit(x: torch.Tensor, a: int, l1: float) -> tuple[torch.Tensor, int]:
    """``x`` (integers on ``2^−a``) coarsened until ``max|x|·l1 < 2^52``: every partial sum stays exact."""
    peak = float(x.abs().max()) if x.numel() else 0.0
    if peak * l1 < _LIMIT:
        return x, a
    k = math.ceil(math.log2(peak * l1 / _LIMIT)) + 1
    return _round_shift(x, k), a - k


class _Deconv:
    def __init__(self, layer: nn.ConvTranspose2d) -> None:
        w = layer.weight.detach().double()
        self.s = _scale(w)
        self.w = torch.round(w * 2.0**self.s)
        # a bound on any output's sum of |weight| (every input channel and tap)
        self.l1 = float(self.w.abs().sum(dim=(0, 2, 3)).max())
        self.b = None if layer.bias is None else layer.bias.detach().double().view(1, -1, 1, 1)
        self.args = dict(stride=layer.stride, padding=layer.padding, output_padding=layer.output_padding)

    def __call__(self, x: torch.Tensor, a: int) -> torch.Tensor:
        """The layer's real-valued output (float64) of integer input ``x`` on ``2^−a``."""
        x, a = _fit(x, a, self.l1)
        out = F.conv_transpose2d(x, self.w, None, **self.args).mul_(2.0 ** -(self.s + a))
        return out if self.b is None else out.add_(self.b)


class _InverseGDN:
    def __init__(self, layer: GDN) -> None:
        if not layer.inverse:
            raise ValueError("the synthesis transform has inverse GDN layers only")
        with torch.no_grad():  # the reparametrisations in float64, on copies (the network stays float32)
            gamma = copy.deepcopy(layer.gamma_reparam).double()(layer.gamma.detach().double())
            self.beta = copy.deepcopy(layer.beta_reparam).double()(layer.beta.detach().double()).view(1, -1, 1, 1)
        self.s = _scale(gamma)
        self.g = torch.round(gamma * 2.0**self.s)[:, :, None, None]
        self.l1 = float(self.g.abs().sum(dim=1).max())

    def __call__(self, x: torch.Tensor, a: int) -> torch.Tensor:
        """``x·sqrt(β + γ·x²)`` of integer ``x`` on ``2^−a``, real-valued (float64)."""
        x, a = _fit(x, a, 2.0**26)  # |x| < 2^26: x² is exact
        sq, b = _fit(_round_shift(x * x, a), a, self.l1)
        norm = F.conv2d(sq, self.g).mul_(2.0 ** -(self.s + b)).add_(self.beta)
        return (x * 2.0**-a).mul_(norm.sqrt_())


class ExactSynthesis:
    """The synthesis ``g_s`` of a :class:`~dlic_lib.models.bls2017.BLS2017`, evaluated exactly (module docstring).

    Calling it maps the dequantised latent ``y_hat`` ``(N, M, h, w)`` to 8-bit RGB ``(N, 3, 16h, 16w)``
    (``uint8``): ``round(255·clamp(x̂, 0, 1))``.
    """

    def __init__(self, g_s: nn.Sequential) -> None:
        layers = list(g_s)
        kinds = [type(m) for m in layers]
        if kinds != [nn.ConvTranspose2d, GDN, nn.ConvTranspose2d, GDN, nn.ConvTranspose2d]:
            raise ValueError("expected BLS's synthesis: (transposed conv, IGDN) × 2, transposed conv")
        self.layers = [_Deconv(m) if isinstance(m, nn.ConvTranspose2d) else _InverseGDN(m) for m in layers]

    def __call__(self, y_hat: torch.Tensor) -> torch.Tensor:
        a = ACT_BITS
        x = _to_grid(y_hat.detach().cpu().double(), a)
        for layer in self.layers[:-1]:
            x = _to_grid(layer(x, a), a)
        out = self.layers[-1](x, a)
        return out.clamp_(0, 1).mul_(255.0).add_(0.5).floor_().to(torch.uint8)
