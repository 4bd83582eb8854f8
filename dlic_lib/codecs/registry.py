"""Codec names → classes (CompressAI-style registry) and the factory :func:`get_codec`."""

from __future__ import annotations

from typing import Any

from ..errors import DlicError
from .base import Codec
from .bls2017 import BLS_CODECS  # BLS of the ProxIQA chapter (seed 004)
from .ffmpeg_codecs import Av1Codec, HevcCodec, JpegXlCodec, VvcCodec
from .hybrid import HYBRID_CODECS  # luma JPEG wrapped in CNNs (seed 001)
from .learned import LEARNED_ARCHITECTURES, LearnedCodec
from .pillow_codecs import Jpeg2000Codec, JpegCodec, WebpCodec
from .predictive import PREDICTIVE_CODECS  # recursive codecs with intra prediction (seed 003)
from .rnn import RnnCodec
from .vae_intra import VAE_CODECS  # Table 4.3 VAE, with intra prediction (seed 003)

__all__ = ["CONVENTIONAL_CODECS", "LEARNED_CODECS", "CODECS", "get_codec", "codec_names", "list_codecs"]

CONVENTIONAL_CODECS: dict[str, type[Codec]] = {
    cls.name: cls for cls in (JpegCodec, Jpeg2000Codec, WebpCodec, HevcCodec, VvcCodec, Av1Codec, JpegXlCodec)
}
LEARNED_CODECS: tuple[str, ...] = (*LEARNED_ARCHITECTURES, RnnCodec.name, *PREDICTIVE_CODECS, *VAE_CODECS, *BLS_CODECS)
CODECS: tuple[str, ...] = (*CONVENTIONAL_CODECS, *LEARNED_CODECS, *HYBRID_CODECS)


def codec_names(kind: str | None = None) -> list[str]:
    """Registered codec names, optionally only ``"conventional"`` or ``"learned"`` ones."""
    if kind is None:
        return list(CODECS)
    if kind == "conventional":
        return list(CONVENTIONAL_CODECS)
    if kind == "learned":
        return list(LEARNED_CODECS)
    raise DlicError(f"unknown codec kind {kind!r}; expected 'conventional' or 'learned'")


def get_codec(name: str, **options: Any) -> Codec:
    """Build the codec called ``name`` with its options (e.g. ``get_codec("jpeg", chroma="444")``)."""
    key = str(name).strip().lower()
    try:
        if key in CONVENTIONAL_CODECS:
            return CONVENTIONAL_CODECS[key](**options)
        if key in LEARNED_ARCHITECTURES:
            return LearnedCodec(key, **options)
        if key == RnnCodec.name:
            return RnnCodec(**options)
        if key in PREDICTIVE_CODECS:
            return PREDICTIVE_CODECS[key](**options)
        if key in VAE_CODECS:
            return VAE_CODECS[key](**options)
        if key in BLS_CODECS:
            return BLS_CODECS[key](**options)
        if key in HYBRID_CODECS:
            return HYBRID_CODECS[key](**options)
    except TypeError as exc:
        raise DlicError(f"bad option for codec {key!r}: {exc}") from None
    raise DlicError(f"unknown codec {name!r}; known codecs: {', '.join(CODECS)}")


def list_codecs() -> list[dict[str, Any]]:
    """One info dict per registered codec (default options): name, kind, available, reason, version, ..."""
    return [get_codec(name).info() for name in CODECS]
