"""Differentiable VMAF v0.6.1 in PyTorch (the ``vmaf-torch`` package), for training losses.

The luma given to the model follows :mod:`dlic_lib.metrics.vmaf`: Y' = BT.601, limited range
(16..235) from :func:`dlic_lib.color.rgb_to_y`, kept unrounded so gradients flow
(``round_luma=True`` rounds it to 8 bits like the planes libvmaf receives). Motion is disabled:
every pair is a still image, as libvmaf treats a single frame. Scores are not clipped to 0..100
unless ``clip=True``. Agreement with libvmaf is tested on Kodak pairs (see the tests).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

import torch

from ._batch import MetricInputError, prepare_pair, to_luma

__all__ = ["vmaf_torch", "vmaf_torch_pair", "available"]

_MIN_SIZE = 32


def available() -> bool:
    """Whether the optional ``vmaf-torch`` package is installed."""
    return importlib.util.find_spec("vmaf_torch") is not None


@lru_cache(maxsize=4)
def _model(device: str, clip: bool):
    if not available():
        raise MetricInputError("the differentiable VMAF needs the 'vmaf-torch' package (pip install vmaf-torch==1.1.0)")
    from vmaf_torch import VMAF

    return VMAF(temporal_pooling=False, enable_motion=False, clip_score=clip).to(device).eval()


def vmaf_torch(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    standard: str = "bt601",
    range: str = "limited",
    round_luma: bool = False,
    clip: bool = False,
    device: str | None = None,
) -> torch.Tensor:
    """VMAF v0.6.1 per image pair, differentiable with respect to ``distorted``."""
    x, y = prepare_pair(reference, distorted, data_range, device, torch.float32, min_size=_MIN_SIZE, metric="vmaf_torch")
    x, y = to_luma(x, standard, range), to_luma(y, standard, range)
    if round_luma:
        x, y = torch.round(x), torch.round(y)
    model = _model(str(x.device), clip)
    return model(x, y).reshape(-1).double()


def vmaf_torch_pair(reference: Any, distorted: Any, data_range: float = 255.0, device: str | None = None, **kw) -> torch.Tensor:
    """Registry adapter: 8-bit rounding of the luma, as libvmaf sees it."""
    kw.setdefault("round_luma", True)
    return vmaf_torch(reference, distorted, data_range, device=device, **kw)
