"""JPEG (libjpeg-turbo), WebP (libwebp) and JPEG 2000 (OpenJPEG) through Pillow.

The stored bytes are the files Pillow writes: a baseline JFIF JPEG with optimised Huffman tables,
a lossy WebP (RIFF container, counted), a raw JPEG 2000 codestream (``.j2k``, no JP2 box).

Decoding refuses bytes of another format (Pillow alone would decode any image it knows) and
files that are not whole: a JPEG must end with its EOI marker, a JPEG 2000 codestream with EOC,
and a WebP file must be as long as its RIFF header says.
"""

from __future__ import annotations

import io
import math

import numpy as np

from ..errors import DlicError
from .base import Codec, QualitySpec

__all__ = ["JpegCodec", "WebpCodec", "Jpeg2000Codec", "ijg_quant_tables"]

# ITU-T T.81 Annex K tables (natural order), which libjpeg scales by its quality setting.
_LUMA = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
     14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.float64)
_CHROMA = np.array(
    [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
     47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32, dtype=np.float64)


def ijg_quant_tables(quality: float) -> list[list[int]]:
    """libjpeg's quality scaling of the Annex K tables, extended to fractional ``quality`` in [1, 100].

    For whole numbers this equals libjpeg's ``jpeg_set_quality`` (baseline, entries 1..255), so
    ``quality=q`` and ``qtables=ijg_quant_tables(q)`` give identical files; fractional values give
    the intermediate tables that rate targeting needs.
    """
    # libjpeg: scale = 5000 / q (integer division) below 50, 200 − 2q above
    scale = math.floor(5000.0 / quality) if quality < 50 else 200.0 - 2.0 * quality
    tables = []
    for base in (_LUMA, _CHROMA):
        t = np.floor((base * scale + 50.0) / 100.0)
        tables.append([int(v) for v in np.clip(t, 1, 255)])
    return tables


def _pillow_version() -> str:
    import PIL

    return PIL.__version__


def _open(data: bytes, what: str, pil_format: str) -> np.ndarray:
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pil_format]) as im:
                im.load()
                return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except Exception as exc:  # Pillow raises many types for corrupt data
        raise DlicError(f"cannot decode {what} data: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def _require(ok: bool, codec: str, problem: str) -> None:
    if not ok:
        raise DlicError(f"{codec}: stored data {problem}")


class JpegCodec(Codec):
    """JPEG (libjpeg-turbo via Pillow), quality 1–100 (fractional allowed), 4:2:0 or 4:4:4.

    Stands in for the JPEG XT base layer (a JPEG XT decoder reads it as is).
    """

    name = "jpeg"
    library = "libjpeg-turbo (Pillow)"
    quality_spec = QualitySpec(
        "quality", 1, 100, 75, increasing=True,
        meaning="IJG quality; fractional values scale the Annex K tables continuously",
    )
    bitstream = "JFIF file, baseline, optimised Huffman tables"

    def __init__(self, chroma: str = "420") -> None:
        if chroma not in ("420", "444"):
            raise DlicError(f"jpeg: chroma must be '420' or '444', got {chroma!r}")
        super().__init__(chroma=chroma)

    @property
    def chroma(self) -> str:
        return "4:2:0" if self.options["chroma"] == "420" else "4:4:4"

    @property
    def colour(self) -> str:
        return "BT.601 full range (JFIF), converted inside libjpeg"

    def version(self) -> str:
        from PIL import features

        return f"libjpeg-turbo {features.version('jpg')} / Pillow {_pillow_version()}"

    def _encode(self, image: np.ndarray, quality: float) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(image, "RGB").save(
            buf, "JPEG", qtables=ijg_quant_tables(quality), optimize=True,
            subsampling=2 if self.options["chroma"] == "420" else 0,
        )
        return buf.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        _require(data[:3] == b"\xff\xd8\xff", self.name, "is not a JPEG file (no SOI marker)")
        _require(data.rstrip(b"\x00")[-2:] == b"\xff\xd9", self.name, "is truncated (no EOI marker at the end)")
        return _open(data, "JPEG", "JPEG")


class WebpCodec(Codec):
    """Lossy WebP (libwebp via Pillow), quality 0–100 (fractional allowed), method 6, 4:2:0."""

    name = "webp"
    library = "libwebp (Pillow)"
    quality_spec = QualitySpec("quality", 0, 100, 75, increasing=True, meaning="libwebp quality factor")
    bitstream = "WebP file (RIFF container, VP8 key frame)"

    def __init__(self, method: int = 6) -> None:
        if method not in range(7):
            raise DlicError(f"webp: method must be 0..6, got {method!r}")
        super().__init__(method=int(method))

    @property
    def chroma(self) -> str:
        return "4:2:0"

    @property
    def colour(self) -> str:
        return "BT.601 limited range, converted inside libwebp"

    def version(self) -> str:
        from PIL import features

        return f"libwebp {features.version('webp')} / Pillow {_pillow_version()}"

    def _encode(self, image: np.ndarray, quality: float) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(image, "RGB").save(buf, "WEBP", quality=float(quality), method=self.options["method"])
        return buf.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        _require(len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP", self.name,
                 "is not a WebP file (no RIFF/WEBP signature)")
        size = 8 + int.from_bytes(data[4:8], "little")
        _require(len(data) >= size, self.name, f"is truncated ({len(data)} of {size} bytes)")
        _require(len(data) == size, self.name, f"has {len(data) - size} bytes after the end of the WebP file")
        return _open(data, "WebP", "WEBP")


class Jpeg2000Codec(Codec):
    """JPEG 2000 (OpenJPEG via Pillow): 9/7 irreversible wavelet + ICT, rate given as a target bpp.

    The quality parameter is the bpp requested from OpenJPEG's rate allocation (compression
    ratio ``24/bpp`` of the 24-bit original); the achieved bpp of the stored codestream is
    reported separately and is usually within a fraction of a percent of it.
    """

    name = "jpeg2000"
    library = "OpenJPEG (Pillow)"
    quality_spec = QualitySpec(
        "bpp", 0.005, 24.0, 0.5, increasing=True, meaning="requested bits per pixel (OpenJPEG rate allocation)",
    )
    bitstream = "raw JPEG 2000 codestream (.j2k), one quality layer"

    @property
    def colour(self) -> str:
        return "irreversible colour transform (BT.601 YCbCr) inside OpenJPEG"

    def version(self) -> str:
        from PIL import features

        return f"openjpeg {features.version('jpg_2000')} / Pillow {_pillow_version()}"

    def _encode(self, image: np.ndarray, quality: float) -> bytes:
        from PIL import Image

        h, w = image.shape[:2]
        # OpenJPEG needs each resolution level to keep at least one sample
        levels = max(1, min(6, int(math.floor(math.log2(min(h, w)))) + 1))
        buf = io.BytesIO()
        Image.fromarray(image, "RGB").save(
            buf, "JPEG2000", quality_mode="rates", quality_layers=[24.0 / quality],
            irreversible=True, mct=1, no_jp2=True, num_resolutions=levels,
        )
        return buf.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        _require(data[:4] == b"\xff\x4f\xff\x51", self.name, "is not a JPEG 2000 codestream (no SOC/SIZ markers)")
        _require(data[-2:] == b"\xff\xd9", self.name, "is truncated (no EOC marker at the end)")
        return _open(data, "JPEG 2000", "JPEG2000")
