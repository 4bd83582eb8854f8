"""Inpainting autoencoders that predict a 32×32 block from its decoded neighbours (seed 003, Table 4.1).

``intra-ae1`` is the network of Minnen et al. (ICIP 2017) as Table 4.1 prints it: a 64×64×3 context
whose bottom-right 32×32 quarter (the block to predict) is masked to zero, four 4×4 stride-2
convolutions (64, 128, 256, 512 filters, ReLU), a channel-wise fully connected bottleneck (Pathak et
al. 2016: a depthwise 4×4 "valid" convolution with depth multiplier 16, reshaped back to 4×4 per
channel, then a 1×1 convolution), and three 4×4 stride-2 transposed convolutions (256, 128, 64) and a
1×1 convolution to RGB, ReLU at the output. Its total is not printed; the layers give 5,911,619.

Table 4.1's row "kernel 4, stride 2, valid" for the layer after the reshape cannot be: its parameter
count, 262,656 = 512·512 + 512, is that of a 1×1 stride-1 convolution, which is what is built here.

``intra-ae2`` sees the four neighbouring blocks (top-left, top, top-right, left) as a (4, 32, 32)
stack; the thesis only says its first two layers are 3-D convolutions. Here: Conv3d (1,4,4) stride
(1,2,2) to 64 filters, Conv3d (4,4,4) "valid" in depth, stride (1,2,2), to 128 (the depth collapses;
both are computed as the equivalent 2-D convolutions, so every weight is a 4-D tensor),
Conv2d 4×4 stride 2 to 256, Conv2d 4×4 stride 1 to 512, then AE1's layers: 6,304,835 parameters.

Both take samples in [0, 1] and a ``width`` multiplier on every filter count (the depth multiplier of
the bottleneck stays 16).
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import register_model

__all__ = ["IntraAE1", "IntraAE2", "mask_context", "CONTEXT", "BLOCK"]

BLOCK = 32  #: side of the predicted block
CONTEXT = 64  #: side of AE1's context (2 × 2 blocks, the target bottom-right)


def _channels(width: float) -> tuple[int, int, int, int]:
    if not width > 0:
        raise ValueError(f"width must be positive, got {width!r}")
    return tuple(max(1, round(c * width)) for c in (64, 128, 256, 512))  # type: ignore[return-value]


def mask_context(context: torch.Tensor) -> torch.Tensor:
    """A copy of (B, 3, 64, 64) contexts with the bottom-right 32×32 quarter (the target) set to 0."""
    out = context.clone()
    out[..., BLOCK:, BLOCK:] = 0
    return out


class _ChannelwiseBottleneck(nn.Module):
    """Pathak's channel-wise fully connected layer on a 4×4 map, then a 1×1 convolution (with ReLUs)."""

    def __init__(self, channels: int, side: int = 4, multiplier: int = 16):
        super().__init__()
        if multiplier != side * side:
            raise ValueError("the depth multiplier must equal the number of positions of the map")
        self.side = side
        self.fc = nn.Conv2d(channels, channels * multiplier, side, groups=channels)  # depthwise, valid
        self.mix = nn.Conv2d(channels, channels, 1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        x = self.act(self.fc(x)).reshape(b, c, self.side, self.side)
        return self.act(self.mix(x))


def _decoder(c: tuple[int, int, int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(c[3], c[2], 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(c[2], c[1], 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(c[1], c[0], 4, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(c[0], 3, 1), nn.ReLU(),
    )  # fmt: skip


@register_model("intra-ae1")
class IntraAE1(nn.Module):
    """Table 4.1: predict the bottom-right 32×32 block of a masked 64×64 context.

    ``forward`` takes (B, 3, 64, 64) contexts in [0, 1] (the target quarter is masked inside, so an
    unmasked crop may be passed) and returns (B, 3, 32, 32) predictions.
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = width
        c = _channels(width)
        self.encoder = nn.Sequential(
            nn.Conv2d(3, c[0], 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c[0], c[1], 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c[1], c[2], 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c[2], c[3], 4, stride=2, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.bottleneck = _ChannelwiseBottleneck(c[3])
        self.decoder = _decoder(c)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        if context.shape[-2:] != (CONTEXT, CONTEXT):
            raise ValueError(f"intra-ae1 needs 64×64 contexts, got {tuple(context.shape[-2:])}")
        return self.decoder(self.bottleneck(self.encoder(mask_context(context))))


@register_model("intra-ae2")
class IntraAE2(nn.Module):
    """AE2: predict a 32×32 block from its top-left, top, top-right and left neighbours.

    ``forward`` takes (B, 4, 3, 32, 32) neighbours in [0, 1], in the order TL, T, TR, L, and returns
    (B, 3, 32, 32) predictions.
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = width
        c = _channels(width)
        # the two 3-D convolutions, written as 2-D ones (same weights, same parameter count): a (1,4,4)
        # kernel is one 2-D convolution applied to each of the 4 blocks; a (4,4,4) kernel "valid" in
        # depth is one 2-D convolution over the 4 blocks' channels stacked (channel = c·4 + block)
        self.per_block = nn.Conv2d(3, c[0], 4, stride=2, padding=1)
        self.across_blocks = nn.Conv2d(4 * c[0], c[1], 4, stride=2, padding=1)
        self.act = nn.ReLU()
        self.encoder2d = nn.Sequential(
            nn.Conv2d(c[1], c[2], 4, stride=2, padding=1), nn.ReLU(),
            nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(c[2], c[3], 4), nn.ReLU(),  # "same", padded as Keras does
        )  # fmt: skip
        self.bottleneck = _ChannelwiseBottleneck(c[3])
        self.decoder = _decoder(c)

    def forward(self, neighbours: torch.Tensor) -> torch.Tensor:
        if neighbours.shape[1:] != (4, 3, BLOCK, BLOCK):
            raise ValueError(f"intra-ae2 needs (B, 4, 3, 32, 32) neighbours, got {tuple(neighbours.shape)}")
        b = neighbours.shape[0]
        x = self.act(self.per_block(neighbours.reshape(b * 4, 3, BLOCK, BLOCK)))  # (B·4, C0, 16, 16)
        x = x.reshape(b, 4, -1, BLOCK // 2, BLOCK // 2).transpose(1, 2).reshape(b, -1, BLOCK // 2, BLOCK // 2)
        x = self.act(self.across_blocks(x))
        return self.decoder(self.bottleneck(self.encoder2d(x)))
