"""The codec interface: :class:`Codec` turns an RGB ``uint8`` image into stored bytes and back.

A codec's :meth:`Codec.encode` returns a :class:`CodedImage`: the **bytes it would store** (the
bitstream plus any minimal header the codec documents, all counted), the image obtained by
**decoding those bytes** (never the encoder's own reconstruction), the bitrate
``bpp = 8·len(bytes)/(H·W)`` of the original image, timings and provenance. Results are cached
on disk (see :mod:`dlic_lib.codecs.cache`), keyed by image hash, codec, parameters and library
version.

Each codec has one scalar rate parameter, described by its :class:`QualitySpec` (e.g. JPEG
quality, HEVC QP, JPEG 2000 requested bpp, JPEG XL distance), plus fixed options chosen when the
codec is built (chroma format, preset, ...).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..data.images import as_rgb_uint8
from ..errors import DlicError

__all__ = ["QualitySpec", "CodedImage", "Codec", "CodecUnavailableError"]


class CodecUnavailableError(DlicError):
    """The codec's library (or its weights) is not available on this machine."""


@dataclass(frozen=True)
class QualitySpec:
    """The rate parameter of a codec.

    ``increasing``: a larger value gives more bytes (JPEG quality) or fewer (HEVC QP).
    ``integer``: only whole values are meaningful. ``values``: an explicit list of allowed values
    (learned codecs' quality levels), overriding ``low``/``high`` for searching. ``step``: only
    ``low + k·step`` are meaningful (e.g. SVT-AV1's quarter-step CRF).
    """

    name: str
    low: float
    high: float
    default: float
    integer: bool = False
    increasing: bool = True
    values: tuple[float, ...] | None = None
    meaning: str = ""
    step: float | None = None

    def grid(self) -> list[float] | None:
        """All allowed values in increasing order, or ``None`` for a continuous parameter."""
        if self.values is not None:
            return sorted(self.values)
        if self.integer:
            return [float(v) for v in range(int(self.low), int(self.high) + 1)]
        if self.step:
            n = int(round((self.high - self.low) / self.step))
            return [float(f"{self.low + k * self.step:.10g}") for k in range(n + 1)]
        return None

    def check(self, value: Any, codec: str) -> float | int:
        """Validate ``value`` and return it as int (integer specs) or float."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise DlicError(f"{codec}: {self.name} must be a number, got {value!r}") from None
        if not np.isfinite(v):
            raise DlicError(f"{codec}: {self.name} must be finite, got {value!r}")
        if self.values is not None:
            if v not in self.values:
                raise DlicError(f"{codec}: {self.name} must be one of {list(self.values)}, got {value!r}")
        elif not (self.low <= v <= self.high):
            raise DlicError(f"{codec}: {self.name} must be in [{self.low:g}, {self.high:g}], got {value!r}")
        if self.integer:
            if v != int(v):
                raise DlicError(f"{codec}: {self.name} must be a whole number, got {value!r}")
            return int(v)
        if self.step:
            k = (v - self.low) / self.step
            if abs(k - round(k)) > 1e-9:
                raise DlicError(f"{codec}: {self.name} must be a multiple of {self.step:g}, got {value!r}")
            return float(f"{self.low + round(k) * self.step:.10g}")
        return v


@dataclass
class CodedImage:
    """One coded image: stored bytes, the image decoded from them, and how they were made."""

    codec: str
    quality: float | int
    params: dict[str, Any]
    data: bytes = field(repr=False)
    decoded: np.ndarray = field(repr=False)
    width: int
    height: int
    chroma: str
    library: str
    version: str
    encode_s: float
    decode_s: float
    weights: str | None = None
    cached: bool = False

    @property
    def n_bytes(self) -> int:
        return len(self.data)

    @property
    def bpp(self) -> float:
        """Bits per pixel of the original image: ``8·len(data)/(width·height)``."""
        return 8.0 * len(self.data) / (self.width * self.height)

    def record(self) -> dict[str, Any]:
        """A flat dict for a results table (no arrays, no bytes)."""
        rec = {
            "codec": self.codec,
            "quality": self.quality,
            "bytes": self.n_bytes,
            "bpp": self.bpp,
            "width": self.width,
            "height": self.height,
            "chroma": self.chroma,
            "library": self.library,
            "version": self.version,
            "encode_s": self.encode_s,
            "decode_s": self.decode_s,
            "weights": self.weights,
            "cached": self.cached,
        }
        rec.update({f"param_{k}": v for k, v in self.params.items() if k != "quality"})
        return rec


class Codec(ABC):
    """Base class: subclasses set the class attributes and implement ``_encode`` / ``decode``."""

    name: ClassVar[str]
    kind: ClassVar[str] = "conventional"
    library: ClassVar[str]
    quality_spec: ClassVar[QualitySpec]
    #: what the stored bytes are (container, header), for the codec's documentation
    bitstream: ClassVar[str] = ""
    #: True when the file of a lower quality is a prefix of a higher one's (one pass codes every rate)
    progressive: ClassVar[bool] = False

    def __init__(self, **options: Any) -> None:
        self.options: dict[str, Any] = dict(options)

    # --- description -------------------------------------------------------------------------
    @property
    def chroma(self) -> str:
        """Chroma format of the coded representation, e.g. ``"4:2:0"``."""
        return "4:4:4"

    @property
    def colour(self) -> str:
        """How RGB is turned into the coded colour space (matrix and range)."""
        return ""

    def available(self) -> tuple[bool, str]:
        """``(True, "")`` when this codec can run here, else ``(False, reason)``."""
        return True, ""

    @abstractmethod
    def version(self) -> str:
        """The library version (part of the cache key)."""

    def params(self, quality: float | int) -> dict[str, Any]:
        """All parameters that determine the bytes, for the cache key and result tables."""
        return {"quality": quality, **self.options}

    def cache_token(self) -> str | None:
        """Extra cache-key text (e.g. weights hash); ``None`` disables caching."""
        return ""

    def info(self) -> dict[str, Any]:
        ok, reason = self.available()
        q = self.quality_spec
        try:
            version = self.version() if ok else ""
        except DlicError as exc:  # pragma: no cover - defensive
            ok, reason, version = False, str(exc), ""
        return {
            "name": self.name,
            "kind": self.kind,
            "library": self.library,
            "available": ok,
            "reason": reason,
            "version": version,
            "chroma": self.chroma,
            "colour": self.colour,
            "quality_name": q.name,
            "quality_range": list(q.values) if q.values is not None else [q.low, q.high],
            "quality_default": q.default,
            "quality_step": 1 if q.integer else q.step,
            "quality_increases_rate": q.increasing,
            "bitstream": self.bitstream,
            "options": dict(self.options),
        }

    # --- coding ------------------------------------------------------------------------------
    @abstractmethod
    def _encode(self, image: np.ndarray, quality: float | int) -> bytes:
        """Encode a validated RGB ``uint8`` image; return the bytes to store."""

    @abstractmethod
    def decode(self, data: bytes) -> np.ndarray:
        """Decode stored bytes to RGB ``uint8`` ``(H, W, 3)``."""

    def weights_label(self, quality: float | int) -> str | None:
        return None

    def require_available(self) -> None:
        ok, reason = self.available()
        if not ok:
            raise CodecUnavailableError(f"codec {self.name!r} is not available: {reason}")

    def encode(self, image: np.ndarray, quality: float | int | None = None, *, use_cache: bool = True) -> CodedImage:
        """Encode ``image`` at ``quality`` (default: the codec's default), decode the bytes, time both."""
        from .cache import cache_key, load_cached, store_cached

        image = as_rgb_uint8(image)
        q = self.quality_spec.check(self.quality_spec.default if quality is None else quality, self.name)
        self.require_available()
        key = cache_key(self, image, q) if use_cache else None
        if key is not None:
            hit = load_cached(self, key)
            if hit is not None:
                return CodedImage(**hit)
        t0 = time.perf_counter()
        data = self._encode(image, q)
        t1 = time.perf_counter()
        decoded = self.decode(data)
        t2 = time.perf_counter()
        coded = self._record(image, q, data, decoded, t1 - t0, t2 - t1)
        if key is not None:
            store_cached(self, key, coded)
        return coded

    def encode_many(self, images: list[np.ndarray], quality: float | int, *, use_cache: bool = True) -> list[CodedImage]:
        """Code several images at one quality (learned codecs batch them)."""
        return [self.encode(im, quality, use_cache=use_cache) for im in images]

    def encode_qualities(self, image: np.ndarray, qualities: list[float | int], *,
                         use_cache: bool = True) -> list[CodedImage]:
        """Code one image at several qualities (a :attr:`progressive` codec does it in one pass)."""
        return [self.encode(image, q, use_cache=use_cache) for q in qualities]

    def _record(self, image, q, data, decoded, enc_s, dec_s) -> CodedImage:
        if decoded.shape != image.shape:
            raise DlicError(f"{self.name}: decoded size {decoded.shape} differs from input {image.shape}")
        return CodedImage(
            codec=self.name,
            quality=q,
            params=self.params(q),
            data=bytes(data),
            decoded=decoded,
            width=image.shape[1],
            height=image.shape[0],
            chroma=self.chroma,
            library=self.library,
            version=self.version(),
            encode_s=enc_s,
            decode_s=dec_s,
            weights=self.weights_label(q),
        )

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"
