"""Descriptive statistics of test images (the columns a dataset chapter reports).

* ``si`` — spatial information, ITU-T P.910: standard deviation of the Sobel gradient magnitude of
  the luma plane (BT.601 Y', 0..255), computed on the interior (one-pixel border dropped).
* ``colorfulness`` — Hasler & Süsstrunk (2003) M3: ``σ_rgyb + 0.3·μ_rgyb`` with ``rg = R − G`` and
  ``yb = (R + G)/2 − B``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..color import rgb_to_y
from .images import read_image

__all__ = ["spatial_information", "colorfulness", "describe_images", "downscale"]


def spatial_information(image: np.ndarray) -> float:
    """ITU-T P.910 spatial information of an RGB ``uint8`` image."""
    from scipy import ndimage

    y = rgb_to_y(image)
    gx = ndimage.sobel(y, axis=1, mode="nearest")
    gy = ndimage.sobel(y, axis=0, mode="nearest")
    return float(np.hypot(gx, gy)[1:-1, 1:-1].std())


def colorfulness(image: np.ndarray) -> float:
    """Hasler–Süsstrunk colourfulness M3 of an RGB ``uint8`` image."""
    rgb = image.astype(np.float64)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def downscale(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Down-scale (Lanczos) so that the longest side is at most ``max_side``; never up-scales."""
    if not max_side or max(image.shape[:2]) <= max_side:
        return image
    from PIL import Image

    h, w = image.shape[:2]
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def describe_images(paths: list[Path], *, max_side: int | None = None, progress: bool = False):
    """One row per image: ``image, width, height, megapixels, si, colorfulness, mean_luma``.

    Width and height are the native size; the statistics are computed after :func:`downscale`.
    """
    import pandas as pd

    from ..progress import track

    rows = []
    for path in track(list(paths), "describing images", unit="img", enabled=progress):
        img = read_image(path)
        small = downscale(img, max_side)
        rows.append({
            "image": Path(path).name,
            "width": img.shape[1],
            "height": img.shape[0],
            "megapixels": img.shape[0] * img.shape[1] / 1e6,
            "si": spatial_information(small),
            "colorfulness": colorfulness(small),
            "mean_luma": float(rgb_to_y(small).mean()),
            "stats_side": max(small.shape[:2]),
        })
    return pd.DataFrame(rows)
