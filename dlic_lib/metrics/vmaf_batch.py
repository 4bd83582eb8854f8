"""VMAF v0.6.1 labels for a batch of training patch pairs, from the real libvmaf in one FFmpeg call.

ProxIQA (Chen et al. 2020, §III) labels the reconstructions of every codec step with libvmaf before
the proxy step. Each pair of the batch becomes one frame of a raw ``yuv444p`` reference/distorted
video pair (:func:`dlic_lib.metrics.vmaf.libvmaf`, motion forced to 0), so a batch costs a single
FFmpeg process and every label equals libvmaf's score of that pair alone. Only the model's own
features are computed. Inputs are float tensors in ``[0, 1]`` as the networks produce them; they are
rounded to 8 bits first, as a decoder would.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._batch import MetricInputError
from .vmaf import VMAF_MODEL, libvmaf

__all__ = ["to_uint8_images", "vmaf_labels", "vmaf_labels_per_pair"]


def to_uint8_images(x: Any) -> np.ndarray:
    """``(B, 3, H, W)`` floats in ``[0, 1]`` (tensor or array) → ``(B, H, W, 3)`` uint8, rounded and clipped."""
    t = torch.as_tensor(x).detach()
    if t.ndim != 4 or t.shape[1] != 3:
        raise MetricInputError(f"expected a (B, 3, H, W) batch, got shape {tuple(t.shape)}")
    if not t.is_floating_point():
        raise MetricInputError(f"expected floating-point images in [0, 1], got dtype {t.dtype}")
    a = t.float().mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu()
    return np.ascontiguousarray(a.numpy())


def vmaf_labels(reference: Any, distorted: Any, *, n_threads: int = 1, model: str = VMAF_MODEL) -> torch.Tensor:
    """libvmaf VMAF of each ``(reference[i], distorted[i])`` pair, ``(B,)`` float32, one FFmpeg call.

    Parameters
    ----------
    reference, distorted : tensor or array, shape ``(B, 3, H, W)``
        RGB in ``[0, 1]``; equal shapes, sides ≥ 32.
    n_threads : int
        libvmaf threads (1 suits small patches: process start-up dominates).
    model : str
        libvmaf model option (default ``version=vmaf_v0.6.1``).
    """
    ref, dist = to_uint8_images(reference), to_uint8_images(distorted)
    scores = libvmaf(ref, dist, features=(), model=model, n_threads=n_threads)
    return torch.tensor([s["vmaf"] for s in scores], dtype=torch.float32)


def vmaf_labels_per_pair(reference: Any, distorted: Any, *, n_threads: int = 1, model: str = VMAF_MODEL) -> torch.Tensor:
    """The same labels with one FFmpeg call per pair (the reference point of the batching benchmark)."""
    ref, dist = to_uint8_images(reference), to_uint8_images(distorted)
    scores = [libvmaf(r, d, features=(), model=model, n_threads=n_threads)[0]["vmaf"] for r, d in zip(ref, dist)]
    return torch.tensor(scores, dtype=torch.float32)
