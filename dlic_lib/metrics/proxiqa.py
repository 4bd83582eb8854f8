"""``proxiqa_vmaf``: the ProxIQA network (Chen et al. 2020) used on its own as a VMAF predictor.

The proxy sees ``patch``×``patch`` pairs; an image's score is the mean prediction over its
non-overlapping tiles (the remainder beyond the last full tile is left out), as the ProxIQA chapter
scores full images. Weights come from a release file (``checkpoint=``) or, by default, from the
checkpoint zoo: the proxy pre-trained on distorted patches with libvmaf labels (architecture
``proxiqa``, task ``proxiqa``, objective ``vmaf``). This is a learned approximation: its agreement
with libvmaf (PLCC/SROCC/RMSE) is reported in the ProxIQA chapter.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch

from ..errors import DlicError
from ._batch import MetricInputError, as_batch

__all__ = ["proxiqa_vmaf", "load_proxy"]


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, device: str):
    from ..models.proxiqa import ProxIQA
    from ..zoo import load_release

    blob = load_release(path)
    state = blob.get("proxy")
    if state is None:
        raise DlicError(f"{path} holds no ProxIQA network")
    patch = int(blob.get("settings", {}).get("patch", 128))
    net = ProxIQA(patch)
    try:
        net.load_state_dict({k: v.float() for k, v in state.items()})
    except RuntimeError as exc:
        raise DlicError(f"{path}: the proxy weights do not fit a {patch}² ProxIQA ({str(exc).splitlines()[0]})") from None
    return net.eval().to(device)


def load_proxy(checkpoint: str | Path | None = None, device: str = "cpu"):
    """The proxy of ``checkpoint`` (a release file) or of the zoo's pre-trained VMAF proxy, in ``eval()`` mode."""
    if checkpoint is None:
        from .. import zoo

        entry = zoo.resolve("proxiqa", task="proxiqa", objective="vmaf")
        checkpoint = zoo.verify(entry)
    path = Path(checkpoint)
    if not path.is_file():
        raise DlicError(f"ProxIQA checkpoint not found: {path}")
    return _load(str(path.resolve()), path.stat().st_mtime_ns, device)


def proxiqa_vmaf(
    reference: Any, distorted: Any, data_range: float = 255.0, *, checkpoint: str | Path | None = None, device: str | None = None
) -> torch.Tensor:
    """Predicted VMAF of each ``(reference, distorted)`` RGB pair, ``(N,)`` float64 (not clipped).

    Images must be at least one tile (the proxy's patch size, 128 for the paper's network) on each side.
    """
    dev = device or "cpu"
    net = load_proxy(checkpoint, dev)
    ref, dist = as_batch(reference, "reference"), as_batch(distorted, "distorted")
    if ref.shape != dist.shape:
        raise MetricInputError(f"proxiqa_vmaf: reference and distorted shapes differ ({tuple(ref.shape)} vs {tuple(dist.shape)})")
    if ref.shape[1] != 3:
        raise MetricInputError("proxiqa_vmaf needs RGB images")
    if min(ref.shape[-2:]) < net.patch:
        raise MetricInputError(f"proxiqa_vmaf needs images of at least {net.patch}×{net.patch} pixels, got {tuple(ref.shape[-2:])}")
    scale = 1.0 / float(data_range)
    with torch.no_grad():
        x = ref.to(dev, torch.float32) * scale
        y = dist.to(dev, torch.float32) * scale
        return net.score_image(x, y).double().cpu()
