"""The variational codecs of seed 003 (Jung 2021): Table 4.3's VAE and Table 4.4's embedded predictor.

``jung2021-vae`` (Table 4.3) is Ballé et al.'s 2017 codec with a first stride of 2 instead of 4
(§4.3.1, so the latent is 8× smaller than the image): conv 9×9/2 + GDN, conv 5×5/2 + GDN,
conv 5×5/2; transposed 5×5/2 + IGDN twice and 9×9/2 to RGB; a factorised entropy model. Table 4.3
prints 5×5 for every layer, but its counts (31,104 = 9·9·3·128) say the outer layers are 9×9. It is
:class:`~dlic_lib.models.bls2017.BLS2017` with those two layers replaced.

``jung2021-embedded-intra`` (Table 4.4) predicts a P×P patch from its four neighbours stacked on the
channel axis (TL, T, TR, L: 12 channels): three conv 5×5/2 (128 filters) and three transposed
5×5/2 (128, 128, 3), no biases, LeakyReLU after every layer, the output's included as printed
(slope 0.3, the Keras default of the thesis' framework).

The thesis counts weights only: convolution kernels and GDN's γ, not biases, GDN's β or the entropy
model (:func:`table_weight_count`). At 128 filters this gives Table 4.3's 1,766,144 and Table 4.4's
1,686,400.
"""

from __future__ import annotations

from typing import Any

import torch
from compressai.layers import GDN
from torch import nn

from .bls2017 import BLS2017, _conv, _deconv
from .registry import register_model

__all__ = ["JungVAE", "EmbeddedIntraPredictor", "table_weight_count"]


def table_weight_count(model: nn.Module) -> int:
    """Weights as the thesis' tables count them: conv / transposed-conv / linear kernels and GDN γ."""
    total = 0
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)):
            total += module.weight.numel()
        elif isinstance(module, GDN):
            total += module.gamma.numel()
    return total


@register_model("jung2021-vae")
class JungVAE(BLS2017):
    """Table 4.3: the factorised-prior VAE with a first stride of 2 (``N`` = 128 in the thesis)."""

    def __init__(self, N: int = 128, M: int | None = None, **kwargs: Any):
        super().__init__(N, M, **kwargs)
        self.g_a[0] = _conv(3, N, 9, 2)
        self.g_s[4] = _deconv(N, 3, 9, 2)

    @property
    def downsampling_factor(self) -> int:
        """Image sides must be multiples of this (2 · 2 · 2)."""
        return 8


@register_model("jung2021-embedded-intra")
class EmbeddedIntraPredictor(nn.Module):
    """Table 4.4: (B, 12, P, P) neighbours (TL, T, TR, L stacked on channels) → (B, 3, P, P) prediction."""

    def __init__(self, N: int = 128, negative_slope: float = 0.3):
        super().__init__()
        self.N = N

        def act() -> nn.Module:
            return nn.LeakyReLU(negative_slope)

        self.net = nn.Sequential(
            nn.Conv2d(12, N, 5, stride=2, padding=2, bias=False), act(),
            nn.Conv2d(N, N, 5, stride=2, padding=2, bias=False), act(),
            nn.Conv2d(N, N, 5, stride=2, padding=2, bias=False), act(),
            nn.ConvTranspose2d(N, N, 5, stride=2, padding=2, output_padding=1, bias=False), act(),
            nn.ConvTranspose2d(N, N, 5, stride=2, padding=2, output_padding=1, bias=False), act(),
            nn.ConvTranspose2d(N, 3, 5, stride=2, padding=2, output_padding=1, bias=False), act(),
        )  # fmt: skip

    def forward(self, neighbours: torch.Tensor) -> torch.Tensor:
        if neighbours.ndim != 4 or neighbours.shape[1] != 12 or neighbours.shape[-1] % 8 or neighbours.shape[-2] % 8:
            raise ValueError(f"embedded intra predictor needs (B, 12, P, P) with P a multiple of 8, got {tuple(neighbours.shape)}")
        return self.net(neighbours)
