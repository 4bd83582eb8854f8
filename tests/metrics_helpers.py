"""Distorted versions of Kodak images made with Pillow (JPEG 4:2:0 at several qualities, WebP)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

CODINGS = (("jpeg", 10), ("jpeg", 35), ("jpeg", 80), ("webp", 30))


def code(rgb: np.ndarray, kind: str, quality: int) -> np.ndarray:
    """Encode and decode ``rgb`` with Pillow; JPEG uses 4:2:0 chroma subsampling."""
    buf = io.BytesIO()
    im = Image.fromarray(rgb)
    if kind == "jpeg":
        im.save(buf, "JPEG", quality=quality, subsampling=2)
    elif kind == "webp":
        im.save(buf, "WEBP", quality=quality)
    else:  # pragma: no cover
        raise ValueError(kind)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def coded_pairs(rgb: np.ndarray) -> list[tuple[str, np.ndarray]]:
    return [(f"{k}{q}", code(rgb, k, q)) for k, q in CODINGS]
