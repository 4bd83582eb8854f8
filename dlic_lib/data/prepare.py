"""Test-set preparation: down-scale and crop images to a size grid, cached as PNG files.

Seed 000 prepared the JPEG AI test set so that the longer side is at most 2048 pixels and both
sides are multiples of 16 (Section 5.1). :func:`fit_to_grid` does exactly that to one image:

1. down-scale with a Lanczos filter (Pillow) so that the longer side is at most ``max_side``
   (never up-scaled; aspect ratio kept, sides rounded to the nearest pixel);
2. centre-crop each side down to a multiple of ``multiple`` (at most ``multiple − 1`` pixels lost
   per side, split as evenly as possible, the extra pixel taken from the bottom/right).

:func:`prepare_images` applies it to a list of files and caches the results under
``<cache_dir>/prepared/<settings>/`` keyed by each source file's sha256, so the prepared set is
computed once and every later run codes exactly the same pixels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..config import cache_dir
from ..errors import DlicError
from ..outputs import write_text
from .describe import downscale
from .images import as_rgb_uint8, read_image, sha256_file, write_png

__all__ = ["fit_to_grid", "prepare_images"]


def _check_settings(max_side: int | None, multiple: int) -> None:
    if not isinstance(multiple, int) or isinstance(multiple, bool) or multiple < 1:
        raise DlicError(f"multiple must be a positive integer, got {multiple!r}")
    if max_side is not None and (not isinstance(max_side, int) or isinstance(max_side, bool) or max_side < multiple):
        raise DlicError(f"max_side must be an integer of at least {multiple} (or None), got {max_side!r}")


def fit_to_grid(image: np.ndarray, max_side: int | None = 2048, multiple: int = 16) -> np.ndarray:
    """``image`` down-scaled to a longer side ≤ ``max_side``, then centre-cropped to multiples of ``multiple``."""
    _check_settings(max_side, multiple)
    image = downscale(as_rgb_uint8(image), max_side)
    h, w = image.shape[:2]
    nh, nw = h - h % multiple, w - w % multiple
    if nh == 0 or nw == 0:
        raise DlicError(f"image of {w}×{h} pixels is smaller than one {multiple}×{multiple} block")
    top, left = (h - nh) // 2, (w - nw) // 2
    return np.ascontiguousarray(image[top:top + nh, left:left + nw])


def prepare_images(
    paths: Sequence[str | Path],
    *,
    max_side: int | None = 2048,
    multiple: int = 16,
    out_dir: str | Path | None = None,
) -> list[Path]:
    """Prepared copies (PNG) of ``paths`` via :func:`fit_to_grid`, in order; cached across runs.

    Each output is named after its source file's stem; ``out_dir`` defaults to
    ``<cache_dir>/prepared/side<max_side>-m<multiple>``. A JSON sidecar per image records the
    source file, its sha256 and the settings.
    """
    _check_settings(max_side, multiple)
    folder = Path(out_dir) if out_dir is not None else cache_dir() / "prepared" / f"side{max_side or 'native'}-m{multiple}"
    stems = [Path(p).stem for p in paths]
    if len(set(stems)) != len(stems):
        raise DlicError("prepare_images: two inputs have the same file name stem; rename one of them")
    out = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise DlicError(f"image file not found: {path}")
        digest = sha256_file(path)
        target = folder / f"{path.stem}.png"
        meta = folder / f"{path.stem}.json"
        record = {"source": path.name, "source_sha256": digest, "max_side": max_side, "multiple": multiple}
        if target.is_file() and meta.is_file():
            try:
                if json.loads(meta.read_text(encoding="utf-8")) == record:
                    out.append(target)
                    continue
            except (json.JSONDecodeError, UnicodeDecodeError):
                pass  # a broken sidecar: prepare again
        write_png(target, fit_to_grid(read_image(path), max_side, multiple))
        write_text(meta, json.dumps(record), what="image record")
        out.append(target)
    return out
