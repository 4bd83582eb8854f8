"""The proxy's training pairs: true labels on the 0–100 scale (libvmaf VMAF, or the library's SSIM and
MS-SSIM ×100) and the JPEG/blur/noise distortions that pre-train the frozen proxy."""

from __future__ import annotations

import io

import numpy as np
import torch

__all__ = ["true_scores", "distort_batch"]


def true_scores(target: str, reference: torch.Tensor, distorted: torch.Tensor) -> torch.Tensor:
    """The label of each pair on the 0–100 scale: libvmaf VMAF, or 100·SSIM / 100·MS-SSIM (8-bit images)."""
    if target == "vmaf":
        from ...metrics.vmaf_batch import vmaf_labels

        return vmaf_labels(reference, distorted)
    from ...metrics import ms_ssim, ssim

    ref8 = reference.detach().float().mul(255).round().clamp(0, 255)
    dist8 = distorted.detach().float().mul(255).round().clamp(0, 255)
    metric = ssim if target == "ssim" else ms_ssim
    return 100.0 * metric(ref8.cpu(), dist8.cpu(), data_range=255.0).float()


def distort_batch(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Each patch distorted by one of JPEG (QF 5–90), Gaussian blur or Gaussian noise, drawn from ``rng``."""
    from PIL import Image, ImageFilter

    out = []
    for img in x.detach().cpu().float().clamp(0, 1):
        a = (img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        kind = int(rng.integers(3))
        if kind == 0:
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, format="JPEG", quality=int(rng.integers(5, 91)))
            a = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        elif kind == 1:
            a = np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 3.0)))))
        else:
            a = np.clip(a + rng.normal(0, float(rng.uniform(2, 30)), a.shape), 0, 255).round().astype(np.uint8)
        out.append(torch.from_numpy(np.array(a, dtype=np.uint8)).permute(2, 0, 1).float() / 255)
    return torch.stack(out)
