"""The codec zoo: conventional and learned image codecs with real bitstreams and rate targeting.

>>> from dlic_lib.codecs import get_codec, encode_to_bpp
>>> coded = get_codec("jpeg").encode(image, 50)          # CodedImage: data, decoded, bpp, ...
>>> hit = encode_to_bpp(image, "hevc", 0.25)             # RateResult: coded, encodes, rel_error

Conventional: ``jpeg``, ``jpeg2000``, ``webp`` (Pillow); ``hevc``, ``vvc``, ``av1``, ``jpegxl``
(the static FFmpeg of imageio-ffmpeg; AV1 also through SVT-AV1). Learned (CompressAI): ``bmshj2018-factorized``,
``bmshj2018-hyperprior``, ``mbt2018-mean``, ``mbt2018``, ``cheng2020-anchor``.
"""

from .base import Codec, CodecUnavailableError, CodedImage, QualitySpec
from .ffmpeg_codecs import Av1Codec, HevcCodec, JpegXlCodec, VvcCodec
from .learned import LEARNED_ARCHITECTURES, LearnedCodec
from .pillow_codecs import Jpeg2000Codec, JpegCodec, WebpCodec
from .rate import KODAK_UNREACHABLE, RATE_FLOORS, SEED000_TARGETS, TARGETING_OPTIONS, RateResult, encode_to_bpp, targeting_options
from .registry import CODECS, CONVENTIONAL_CODECS, LEARNED_CODECS, codec_names, get_codec, list_codecs

__all__ = [
    "Codec", "CodedImage", "QualitySpec", "CodecUnavailableError",
    "JpegCodec", "WebpCodec", "Jpeg2000Codec", "HevcCodec", "VvcCodec", "Av1Codec", "JpegXlCodec",
    "LearnedCodec", "LEARNED_ARCHITECTURES",
    "encode_to_bpp", "targeting_options", "RateResult", "TARGETING_OPTIONS", "SEED000_TARGETS", "RATE_FLOORS", "KODAK_UNREACHABLE",
    "CODECS", "CONVENTIONAL_CODECS", "LEARNED_CODECS", "get_codec", "codec_names", "list_codecs",
]
