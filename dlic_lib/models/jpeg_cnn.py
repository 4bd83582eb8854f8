"""The networks around JPEG of the MSc thesis (seed 001): CNN-CR, CNN-SR and CNN-FakeCodec.

All take and give one luma channel on [0, 1]; ``width`` multiplies every filter count (64 at 1.0).

* ``cnn-cr`` (§2.6.3): conv 3×3 stride 2 + ReLU, 8 × (conv 3×3 + ReLU), conv 3×3 → 1, added to the
  bicubic down-sampled input. 296,641 parameters at full width.
* ``cnn-sr``: the thesis names only "the 5-layer CNN of [54] with sub-pixel convolution" (its
  Fig. 4.3 is a picture). Here: 4 × (conv 3×3 + ReLU) at low resolution, conv 3×3 → 4,
  PixelShuffle(2), added to the bicubic up-sampled input. 113,732 parameters at full width.
* ``fakecodec-frame`` / ``fakecodec-block-pixel`` / ``fakecodec-block-dct`` (§3.2, Fig. 3.3):
  residual stacks (ReLU after every conv but the last) on the whole frame, on each 8×8 block
  independently, or on each block's orthonormal DCT coefficients followed by the inverse DCT.
  Kernels ``"3x3"`` or ``"9to1"`` (9×9 first, then 5×5, 3×3, 1×1 in four equal groups;
  [9, 5, 3, 1] at depth 4, [9, 9, 5, 5, 3, 3, 1, 1] at depth 8); block padding ``"zeros"`` or
  ``"replicate"`` (Table 3.8).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..jpeg.dct import block_dct, block_idct, from_blocks, to_blocks
from ..jpeg.resample import downscale2, upscale2
from .registry import register_model

__all__ = ["CnnCR", "CnnSR", "FakeCodec", "kernel_schedule", "zero_last_conv", "FAKECODEC_VARIANTS"]

FAKECODEC_VARIANTS = ("frame", "block-pixel", "block-dct")


def _filters(width: float) -> int:
    if not width > 0:
        raise ValueError(f"width must be positive, got {width!r}")
    return max(1, round(64 * width))


def kernel_schedule(kernels: str | Sequence[int], depth: int) -> tuple[int, ...]:
    """Kernel sizes of a ``depth``-layer stack: ``"3x3"``, ``"9to1"`` or an explicit sequence."""
    if depth < 2:
        raise ValueError(f"depth must be at least 2, got {depth!r}")
    if isinstance(kernels, str):
        if kernels == "3x3":
            return (3,) * depth
        if kernels == "9to1":
            if depth % 4:
                raise ValueError(f"the 9→1 schedule needs a depth divisible by 4, got {depth}")
            return tuple(k for k in (9, 5, 3, 1) for _ in range(depth // 4))
        raise ValueError(f"kernels must be '3x3', '9to1' or a list of sizes, got {kernels!r}")
    sizes = tuple(int(k) for k in kernels)
    if len(sizes) != depth or any(k < 1 or k % 2 == 0 for k in sizes):
        raise ValueError(f"need {depth} odd kernel sizes, got {sizes}")
    return sizes


def zero_last_conv(body: nn.Sequential) -> None:
    """Set the last convolution of a residual body to zero, so the network starts as its skip path
    (bicubic resampling or the identity): short training schedules then start from that baseline."""
    last = [m for m in body.modules() if isinstance(m, nn.Conv2d)][-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)


def _stack(sizes: Sequence[int], filters: int, padding_mode: str = "zeros") -> nn.Sequential:
    """1 → filters → … → 1 channels, 'same' padding, ReLU after every conv but the last."""
    layers: list[nn.Module] = []
    for i, k in enumerate(sizes):
        c_in = 1 if i == 0 else filters
        c_out = 1 if i == len(sizes) - 1 else filters
        layers.append(nn.Conv2d(c_in, c_out, k, padding=k // 2, padding_mode=padding_mode))
        if i < len(sizes) - 1:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


@register_model("cnn-cr")
class CnnCR(nn.Module):
    """Compact-representation CNN: ``f(x) = bicubic↓2(x) + CNN(x)`` (even H, W)."""

    def __init__(self, width: float = 1.0, depth: int = 10):
        super().__init__()
        n = _filters(width)
        self.width, self.depth = width, depth
        layers: list[nn.Module] = [nn.Conv2d(1, n, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(n, n, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(n, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return downscale2(x) + self.body(x)


@register_model("cnn-sr")
class CnnSR(nn.Module):
    """Super-resolution CNN: ``g(y) = bicubic↑2(y) + PixelShuffle(CNN(y))``."""

    def __init__(self, width: float = 1.0, depth: int = 5):
        super().__init__()
        n = _filters(width)
        self.width, self.depth = width, depth
        layers: list[nn.Module] = []
        for i in range(depth - 1):
            layers += [nn.Conv2d(1 if i == 0 else n, n, 3, padding=1), nn.ReLU(inplace=True)]
        layers += [nn.Conv2d(n, 4, 3, padding=1), nn.PixelShuffle(2)]
        self.body = nn.Sequential(*layers)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return upscale2(y) + self.body(y)


class FakeCodec(nn.Module):
    """A CNN imitating JPEG at one quality factor (§3.2): ``x + CNN(x)`` in the variant's domain."""

    def __init__(self, variant: str = "block-dct", *, width: float = 1.0, depth: int = 8,
                 kernels: str | Sequence[int] | None = None, padding: str = "zeros"):
        super().__init__()
        if variant not in FAKECODEC_VARIANTS:
            raise ValueError(f"variant must be one of {FAKECODEC_VARIANTS}, got {variant!r}")
        if padding not in ("zeros", "replicate"):
            raise ValueError(f"padding must be 'zeros' or 'replicate', got {padding!r}")
        if kernels is None:
            kernels = "9to1" if variant == "frame" else "3x3"
        self.variant, self.width, self.padding = variant, width, padding
        self.kernels = kernel_schedule(kernels, depth)
        self.body = _stack(self.kernels, _filters(width), padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.variant == "frame":
            return x + self.body(x)
        if self.variant == "block-pixel":
            blocks = to_blocks(x)
            flat = blocks.reshape(-1, 1, 8, 8)
            return from_blocks((flat + self.body(flat)).reshape(blocks.shape))
        with torch.autocast(x.device.type, enabled=False):  # the transforms stay in float32
            coefficients = block_dct(x.float() - 0.5)
        flat = coefficients.reshape(-1, 1, 8, 8)
        out = (flat + self.body(flat).float()).reshape(coefficients.shape)
        with torch.autocast(x.device.type, enabled=False):
            return block_idct(out) + 0.5


@register_model("fakecodec-frame")
def fakecodec_frame(**kwargs) -> FakeCodec:
    """Frame-based FakeCodec (default 8 layers, 9→1 kernels, Fig. 3.6)."""
    return FakeCodec("frame", **kwargs)


@register_model("fakecodec-block-pixel")
def fakecodec_block_pixel(**kwargs) -> FakeCodec:
    """Block-based FakeCodec in the pixel domain (default 8 layers of 3×3, zero padding per block)."""
    return FakeCodec("block-pixel", **kwargs)


@register_model("fakecodec-block-dct")
def fakecodec_block_dct(**kwargs) -> FakeCodec:
    """Block-based FakeCodec on the DCT coefficients (default 8 layers of 3×3, zero padding, Fig. 3.8)."""
    return FakeCodec("block-dct", **kwargs)
