"""Grayscale (luma) JPEG as the thesis ran it (§4.1–4.2, eqs. 3.9–3.10, 4.1–4.2).

The thesis codes the Y plane alone with the JPEG reference software's defaults: sequential
(baseline) coding, the IJG luminance table scaled by the quality factor and the **standard
Huffman tables of ITU-T T.81 Annex K** (optimisation is opt-in there). Here libjpeg-turbo
(through Pillow) writes the file; ``optimize=True`` gives the optimised-table variant.

Y is Pillow's ``convert("L")``: ``(19595·R + 38470·G + 7471·B + 2^15) >> 16`` in integers.
"""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np

from ..errors import DlicError

__all__ = [
    "rgb_to_luma",
    "luma_to_rgb",
    "luma_quant_table",
    "encode_luma",
    "decode_luma",
    "read_quantised",
]


def rgb_to_luma(rgb: np.ndarray) -> np.ndarray:
    """Y of an RGB ``uint8`` image exactly as Pillow's ``convert("L")`` computes it (``uint8``, H×W).

    A 2-D ``uint8`` array is returned unchanged (already luma).
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        raise DlicError(f"luma conversion needs a uint8 image, got {rgb.dtype}")
    if rgb.ndim == 2:
        return rgb
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise DlicError(f"luma conversion needs an H×W×3 RGB image, got shape {rgb.shape}")
    c = rgb.astype(np.uint32)
    return ((19595 * c[..., 0] + 38470 * c[..., 1] + 7471 * c[..., 2] + 0x8000) >> 16).astype(np.uint8)


def luma_to_rgb(y: np.ndarray) -> np.ndarray:
    """A gray RGB image ``(Y, Y, Y)``; :func:`rgb_to_luma` maps it back to ``y`` exactly."""
    y = np.asarray(y, dtype=np.uint8)
    return np.repeat(y[..., None], 3, axis=2)


def luma_quant_table(quality: float) -> np.ndarray:
    """The 8×8 luminance table libjpeg uses at IJG ``quality`` (natural order, entries 1..255).

    ``S = ⌊5000/QF⌋`` below 50 else ``200 − 2·QF``; ``Q_s = clip(⌊(S·Q + 50)/100⌋, 1, 255)`` —
    eqs. 3.9–3.10 with libjpeg's floor and clip.
    """
    from ..codecs.pillow_codecs import ijg_quant_tables  # lazy: the codecs package imports this module

    q = float(quality)
    if not (1 <= q <= 100):
        raise DlicError(f"JPEG quality must be in [1, 100], got {quality!r}")
    return np.asarray(ijg_quant_tables(q)[0], dtype=np.int64).reshape(8, 8)


def encode_luma(y: np.ndarray, quality: float, *, optimize: bool = False) -> bytes:
    """A baseline grayscale JFIF file of ``y`` (``uint8`` H×W) at IJG ``quality``.

    ``optimize=False`` (default, the thesis' setting) writes the Annex K Huffman tables;
    ``optimize=True`` lets libjpeg build optimal tables for this image (two passes).
    """
    from PIL import Image

    y = np.asarray(y)
    if y.dtype != np.uint8 or y.ndim != 2 or min(y.shape) < 1:
        raise DlicError(f"luma JPEG needs a non-empty uint8 H×W plane, got {y.dtype} {y.shape}")
    if y.shape[0] > 65500 or y.shape[1] > 65500:
        raise DlicError(f"JPEG frames are limited to 65500×65500, got {y.shape[1]}×{y.shape[0]}")
    table = [int(v) for v in luma_quant_table(quality).ravel()]
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(y), "L").save(buf, "JPEG", qtables=[table], optimize=bool(optimize))
    return buf.getvalue()


def decode_luma(data: bytes) -> np.ndarray:
    """The ``uint8`` H×W plane libjpeg decodes from a grayscale JPEG file."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if im.mode != "L":
                raise DlicError(f"expected a grayscale JPEG, got mode {im.mode}")
            return np.asarray(im, dtype=np.uint8).copy()
    except DlicError:
        raise
    except Exception as exc:  # Pillow raises many types for corrupt data
        raise DlicError(f"cannot decode luma JPEG data: {exc}") from None


def read_quantised(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The quantised luma coefficients stored in a JPEG file and its luma table, read by ``jpeglib``.

    Returns ``(coefficients, table)``: ``int16`` array ``(H/8, W/8, 8, 8)`` of blocks (row, column,
    u, v) as libjpeg entropy-coded them, and the 8×8 table from the file's DQT segment.
    """
    try:
        import jpeglib
    except ImportError:  # pragma: no cover - dev dependency
        raise DlicError("reading JPEG coefficients needs the 'jpeglib' package (pip install jpeglib)") from None
    fd, path = tempfile.mkstemp(suffix=".jpg")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        jpeg = jpeglib.read_dct(path)
        coefficients = np.array(jpeg.Y, dtype=np.int16)
        table = np.array(jpeg.qt[0], dtype=np.int64).reshape(8, 8)
    finally:
        os.unlink(path)
    return coefficients, table
