"""ProxIQA: a small CNN that predicts a quality score of a (reference, distorted) patch pair.

Chen, Bampis, Li, Norkin & Bovik (2020), §III-A1 and Fig. 4; kernel sizes from the authors'
public training script. The input is the two RGB patches in ``[0, 1]`` concatenated on channels
(6 channels); three stages of [conv 5×5 'same', ReLU, 2×2 max-pool] with 16, 32 and 64 filters;
the ``64 · (P/8)²`` features go through one dense layer to a single, unclipped score. At the
paper's ``P = 128`` that is 82,897 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import register_model

__all__ = ["ProxIQA", "proxiqa_param_count"]

STAGES: tuple[int, ...] = (16, 32, 64)


def proxiqa_param_count(patch: int = 128, stages: tuple[int, ...] = STAGES, kernel: int = 5) -> int:
    """Parameters from the layer sizes (convolutions with biases, then the dense layer)."""
    total, cin = 0, 6
    for cout in stages:
        total += kernel * kernel * cin * cout + cout
        cin = cout
    side = patch // 2 ** len(stages)
    return total + cin * side * side + 1


@register_model("proxiqa")
class ProxIQA(nn.Module):
    """Proxy quality network for ``patch``×``patch`` pairs (``patch`` a multiple of 8).

    ``forward(reference, distorted)`` takes two ``(B, 3, P, P)`` tensors in ``[0, 1]`` and returns
    ``(B,)`` predicted scores on the target's scale (0–100 for VMAF; ×100 for SSIM/MS-SSIM).
    """

    def __init__(self, patch: int = 128, stages: tuple[int, ...] = STAGES, kernel: int = 5):
        super().__init__()
        factor = 2 ** len(stages)
        if not isinstance(patch, int) or patch < factor or patch % factor:
            raise ValueError(f"patch must be a positive multiple of {factor}, got {patch!r}")
        self.patch, self.stages, self.kernel = patch, tuple(stages), kernel
        layers: list[nn.Module] = []
        cin = 6
        for cout in self.stages:
            layers += [nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin * (patch // factor) ** 2, 1)

    def forward(self, reference: torch.Tensor, distorted: torch.Tensor) -> torch.Tensor:
        if reference.shape != distorted.shape or reference.shape[-2:] != (self.patch, self.patch):
            raise ValueError(
                f"ProxIQA expects two (B, 3, {self.patch}, {self.patch}) tensors, "
                f"got {tuple(reference.shape)} and {tuple(distorted.shape)}"
            )
        z = self.features(torch.cat([reference, distorted], dim=1))
        return self.head(z.flatten(1)).squeeze(1)

    def score_image(self, reference: torch.Tensor, distorted: torch.Tensor) -> torch.Tensor:
        """Mean prediction over the non-overlapping ``patch`` tiles of ``(B, 3, H, W)`` images.

        Tiles cover the largest multiple of ``patch`` on each side (the remainder is left out).
        """
        p = self.patch
        h, w = reference.shape[-2:]
        if h < p or w < p:
            raise ValueError(f"images must be at least {p}×{p} to tile, got {h}×{w}")
        nh, nw = h // p, w // p

        def tiles(x: torch.Tensor) -> torch.Tensor:
            x = x[..., : nh * p, : nw * p]
            b, c = x.shape[:2]
            return x.reshape(b, c, nh, p, nw, p).permute(0, 2, 4, 1, 3, 5).reshape(b * nh * nw, c, p, p)

        scores = self(tiles(reference), tiles(distorted))
        return scores.reshape(-1, nh * nw).mean(1)
