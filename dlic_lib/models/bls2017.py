"""BLS: the end-to-end optimised codec of Ballé, Laparra & Simoncelli (ICLR 2017).

The layout of tensorflow-compression 1.0's ``bls2017`` example, the BLS of ProxIQA (Chen et al.
2020, §III-A2, Table III), as a CompressAI :class:`~compressai.models.CompressionModel`:

* analysis ``g_a``: conv 9×9 stride 4 + GDN, conv 5×5 stride 2 + GDN, conv 5×5 stride 2 (no bias,
  no activation);
* synthesis ``g_s``: transposed conv 5×5 up 2 + IGDN, 5×5 up 2 + IGDN, 9×9 up 4 to RGB;
* a factorised (fully non-parametric) prior on the latent: CompressAI's ``EntropyBottleneck``
  with tensorflow-compression's density filters ``(3, 3, 3)`` by default.

The transforms hold ``104·N² + 494·N + 3`` parameters (3,928,707 at ``N = 192``), the density
model ``43·N`` with filters ``(3, 3, 3)`` plus CompressAI's ``3·N`` quantiles. ``compress`` /
``decompress`` produce and read real rANS strings; the latent is 16× smaller than the image.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from compressai.entropy_models import EntropyBottleneck
from compressai.layers import GDN
from compressai.models import CompressionModel
from torch import nn

from .registry import register_model

__all__ = ["BLS2017", "transform_param_count", "density_param_count"]

#: density filters of tensorflow-compression's EntropyBottleneck (CompressAI defaults to (3, 3, 3, 3))
TFC_FILTERS: tuple[int, ...] = (3, 3, 3)


def _conv(cin: int, cout: int, k: int, s: int, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=s, padding=k // 2, bias=bias)


def _deconv(cin: int, cout: int, k: int, s: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, k, stride=s, padding=k // 2, output_padding=s - 1)


def transform_param_count(N: int, M: int | None = None) -> int:
    """Parameters of ``g_a`` and ``g_s`` from the layer sizes (``104·N² + 494·N + 3`` when ``M == N``)."""
    M = N if M is None else M
    g_a = (81 * 3 * N + N) + (N * N + N) + (25 * N * N + N) + (N * N + N) + 25 * N * M
    g_s = (25 * M * N + N) + (N * N + N) + (25 * N * N + N) + (N * N + N) + (81 * N * 3 + 3)
    return g_a + g_s


def density_param_count(M: int, filters: tuple[int, ...] = TFC_FILTERS, quantiles: bool = True) -> int:
    """Parameters of a factorised density on ``M`` channels (matrices, biases, factors, quantiles)."""
    dims = (1, *filters, 1)
    per_channel = sum(dims[i] * dims[i + 1] + dims[i + 1] for i in range(len(dims) - 1)) + sum(filters)
    return M * (per_channel + (3 if quantiles else 0))


@register_model("bls2017")
class BLS2017(CompressionModel):
    """Ballé 2017 codec with ``N`` transform channels and ``M`` latent channels (``M = N`` in the paper).

    Parameters
    ----------
    N : int
        Channels of every hidden layer (192 in ProxIQA §IV-A2).
    M : int, optional
        Latent channels (default ``N``).
    filters : tuple of int
        Hidden sizes of the factorised density (default tensorflow-compression's ``(3, 3, 3)``).
    """

    def __init__(self, N: int = 192, M: int | None = None, filters: tuple[int, ...] = TFC_FILTERS, **kwargs: Any):
        super().__init__(**kwargs)
        M = N if M is None else M
        for name, value in (("N", N), ("M", M)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.N, self.M, self.filters = N, M, tuple(int(f) for f in filters)
        self.entropy_bottleneck = EntropyBottleneck(M, filters=self.filters)
        self.g_a = nn.Sequential(
            _conv(3, N, 9, 4), GDN(N),
            _conv(N, N, 5, 2), GDN(N),
            _conv(N, M, 5, 2, bias=False),
        )  # fmt: skip
        self.g_s = nn.Sequential(
            _deconv(M, N, 5, 2), GDN(N, inverse=True),
            _deconv(N, N, 5, 2), GDN(N, inverse=True),
            _deconv(N, 3, 9, 4),
        )  # fmt: skip

    @property
    def downsampling_factor(self) -> int:
        """Image sides must be multiples of this (4 · 2 · 2)."""
        return 16

    def forward(self, x: torch.Tensor) -> dict[str, Any]:
        y = self.g_a(x)
        y_hat, y_likelihoods = self.entropy_bottleneck(y)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods}}

    def compress(self, x: torch.Tensor) -> dict[str, Any]:
        """Entropy-code ``x`` (sides multiple of 16): one rANS string per image."""
        y = self.g_a(x)
        return {"strings": [self.entropy_bottleneck.compress(y)], "shape": y.size()[-2:]}

    def decompress(self, strings: list[list[bytes]], shape: tuple[int, int]) -> dict[str, torch.Tensor]:
        """Decode the strings of :meth:`compress` at latent size ``shape``."""
        if not isinstance(strings, list) or len(strings) != 1:
            raise ValueError("BLS2017 expects one group of strings (the latent)")
        y_hat = self.entropy_bottleneck.decompress(strings[0], shape)
        return {"x_hat": self.g_s(y_hat).clamp_(0, 1)}

    @classmethod
    def from_state_dict(cls, state_dict: dict[str, torch.Tensor]) -> "BLS2017":
        """A model whose sizes are read from ``state_dict``, loaded with it."""
        N = state_dict["g_a.0.weight"].size(0)
        M = state_dict["g_a.4.weight"].size(0)
        # CompressAI ≥ 1.2.7 names them ``matrices.<i>``, older releases ``_matrix<i>``
        found = {int(m.group(2)): v for k, v in state_dict.items()
                 if (m := re.fullmatch(r"entropy_bottleneck\.(matrices\.|_matrix)(\d+)", k))}  # fmt: skip
        filters = tuple(int(found[i].size(1)) for i in range(len(found) - 1))
        net = cls(N, M, filters=filters)
        net.load_state_dict(state_dict)
        return net
