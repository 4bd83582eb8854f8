"""HEVC (x265), VVC (vvenc), AV1 (libaom, SVT-AV1) and JPEG XL (libjxl) through the static FFmpeg.

Colour is handled here, not by FFmpeg: RGB is converted to Y'CbCr with :mod:`dlic_lib.color`
(BT.601, full range, as JPEG/BPG), chroma is averaged 2×2 for 4:2:0, and the planes are piped to
the encoder as ``rawvideo``; decoding returns raw planes that are converted back the same way
(bilinear, centre-sited chroma upsampling). So every video codec sees the same input.

Stored bytes of the video codecs = a 5-byte header + the raw elementary stream:

* header: ``width`` (uint16, big endian), ``height`` (uint16), ``flags`` (uint8: bit 0 = 4:4:4,
  bits 1–7 = an integrity check ``1 + crc32(stream) mod 127``; 0 in files written before the
  check existed). It carries what the bitstream alone does not: the true size before the padding
  to even / minimum dimensions, and whether the stream arrived whole — an Annex-B stream cut in
  half still decodes, to a damaged picture, without a word from the decoder. The colour
  convention is fixed (BT.601 full range). Like BPG's header, it is counted in the bpp.
* HEVC: Annex-B byte stream (``-f hevc``), one intra frame, no SEI/AUD (``info=0``).
* VVC: Annex-B byte stream (``-f vvc``), one intra frame, 10-bit 4:2:0 (vvenc's only input format).
* AV1 (libaom or SVT-AV1): low-overhead OBU stream (``-f obu``: temporal delimiter, sequence
  header, frame), no IVF or AVIF container.

JPEG XL stores the file FFmpeg's libjxl encoder writes (codestream with its own size and colour
signalling; libjxl converts RGB to XYB internally), without an extra header.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np

from ..color import planes_to_rgb, rgb_to_planes
from ..errors import DlicError
from .base import Codec, CodecUnavailableError, QualitySpec
from .ffmpeg import FFmpegError, ffmpeg_decoders, ffmpeg_encoders, ffmpeg_version, run_ffmpeg

__all__ = ["HevcCodec", "VvcCodec", "Av1Codec", "JpegXlCodec", "pack_header", "unpack_header"]

HEADER = struct.Struct(">HHB")
JXL_CODESTREAM = b"\xff\x0a"
JXL_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"


def stream_check(stream: bytes) -> int:
    """The header's 7-bit integrity check of an elementary stream: ``1 + crc32 mod 127`` (never 0)."""
    return 1 + zlib.crc32(stream) % 127


def pack_header(width: int, height: int, chroma444: bool, stream: bytes = b"") -> bytes:
    """The 5-byte header in front of ``stream`` (see the module docstring)."""
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise DlicError(f"image size {width}×{height} is outside 1..65535")
    return HEADER.pack(width, height, (stream_check(stream) << 1) | (1 if chroma444 else 0))


def unpack_header(data: bytes, codec: str) -> tuple[int, int, bool, bytes]:
    """``(width, height, is_444, stream)``; refuses data that is not whole (failed check)."""
    if len(data) <= HEADER.size:
        raise DlicError(f"{codec}: stored data is too short ({len(data)} bytes) to hold a header and a bitstream")
    width, height, flags = HEADER.unpack_from(data)
    if width == 0 or height == 0:
        raise DlicError(f"{codec}: stored data does not start with a valid dlic header (is it a {codec} file?)")
    stream = data[HEADER.size:]
    check = flags >> 1
    if check == 0:
        warnings.warn(f"{codec}: stored data has no integrity check (written by an older dlic); "
                      "a truncated file cannot be detected", stacklevel=3)
    elif check != stream_check(stream):
        raise DlicError(f"{codec}: stored data is truncated or corrupt, or was not written by the {codec} codec "
                        f"(integrity check of the {len(stream)}-byte stream failed)")
    return width, height, bool(flags & 1), stream


def _padded(image: np.ndarray, multiple: int, minimum: int) -> np.ndarray:
    h, w = image.shape[:2]
    ph = max(minimum, -(-h // multiple) * multiple)
    pw = max(minimum, -(-w // multiple) * multiple)
    if (ph, pw) == (h, w):
        return image
    return np.pad(image, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")


class _FFmpegCodec(Codec):
    encoder: str
    decoder: str

    def available(self) -> tuple[bool, str]:
        try:
            if self.encoder not in ffmpeg_encoders():
                return False, f"the bundled FFmpeg has no {self.encoder} encoder"
            if self.decoder not in ffmpeg_decoders():
                return False, f"the bundled FFmpeg has no {self.decoder} decoder"
        except FFmpegError as exc:
            return False, str(exc)
        return True, ""

    def version(self) -> str:
        return f"FFmpeg {ffmpeg_version()} ({self.encoder}/{self.decoder})"

    def cache_token(self) -> str | None:
        return "integrity-check"


class _YuvVideoCodec(_FFmpegCodec):
    """Shared machinery of the one-intra-frame video codecs (header + elementary stream)."""

    demuxer: str
    bit_depth = 8
    min_size = 16
    chroma_formats: tuple[str, ...] = ("420", "444")

    def _check_chroma(self, chroma: str) -> str:
        if chroma not in self.chroma_formats:
            raise DlicError(f"{self.name}: chroma must be one of {list(self.chroma_formats)}, got {chroma!r}")
        return chroma

    @property
    def chroma(self) -> str:
        return "4:2:0" if self.options["chroma"] == "420" else "4:4:4"

    @property
    def colour(self) -> str:
        return f"BT.601 full range Y'CbCr ({self.bit_depth}-bit), converted by dlic_lib.color"

    def _pix_fmt(self, chroma: str) -> str:
        return f"yuv{chroma}p" + ("10le" if self.bit_depth == 10 else "")

    def _encoder_args(self, quality) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _input_rate(self) -> str:
        return "25"

    def _encode(self, image: np.ndarray, quality) -> bytes:
        h, w = image.shape[:2]
        chroma = self.options["chroma"]
        padded = _padded(image, 2 if chroma == "420" else 1, self.min_size)
        ph, pw = padded.shape[:2]
        planes = rgb_to_planes(padded, chroma=chroma, bit_depth=self.bit_depth)
        raw = b"".join(p.tobytes() for p in planes)
        args = [
            "-f", "rawvideo", "-pix_fmt", self._pix_fmt(chroma), "-s", f"{pw}x{ph}", "-r", self._input_rate(),
            "-i", "pipe:", "-frames:v", "1", *self._encoder_args(quality), "-f", self.demuxer, "pipe:",
        ]
        stream = run_ffmpeg(args, raw, what=f"{self.name} encoding", pixels=pw * ph)
        return pack_header(w, h, chroma == "444", stream) + stream

    def decode(self, data: bytes) -> np.ndarray:
        w, h, c444, stream = unpack_header(data, self.name)
        chroma = "444" if c444 else "420"
        fmt = self._pix_fmt(chroma)
        args = ["-f", self.demuxer, "-i", "pipe:", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", fmt, "pipe:"]
        dtype = np.dtype("<u2") if self.bit_depth == 10 else np.dtype(np.uint8)
        pw, ph = self._candidate_sizes(w, h, chroma)[-1]
        raw = run_ffmpeg(args, stream, what=f"{self.name} decoding", pixels=pw * ph,
                         max_output=3 * pw * ph * dtype.itemsize)
        # the decoder returns the padded frame: find its size among the candidates
        for pw, ph in self._candidate_sizes(w, h, chroma):
            cw, chh = (pw, ph) if chroma == "444" else ((pw + 1) // 2, (ph + 1) // 2)
            n = (pw * ph + 2 * cw * chh) * dtype.itemsize
            if len(raw) == n:
                buf = np.frombuffer(raw, dtype=dtype)
                y = buf[: pw * ph].reshape(ph, pw)
                cb = buf[pw * ph: pw * ph + cw * chh].reshape(chh, cw)
                cr = buf[pw * ph + cw * chh:].reshape(chh, cw)
                rgb = planes_to_rgb(y, cb, cr, bit_depth=self.bit_depth)
                return np.ascontiguousarray(rgb[:h, :w])
        raise DlicError(f"{self.name}: decoded frame has an unexpected size ({len(raw)} bytes) for a {w}×{h} image")

    def _candidate_sizes(self, w: int, h: int, chroma: str) -> list[tuple[int, int]]:
        m = 2 if chroma == "420" else 1
        ph = max(self.min_size, -(-h // m) * m)
        pw = max(self.min_size, -(-w // m) * m)
        return [(pw, ph)]


class HevcCodec(_YuvVideoCodec):
    """HEVC intra (x265), the BPG-equivalent anchor: one intra frame, 8-bit 4:2:0 or 4:4:4.

    ``mode``: ``"qp"`` (constant QP 0–51, whole numbers, like BPG) or ``"crf"`` (x265 constant
    rate factor 0–51, fractional allowed). x265 rounds the CRF of a single intra frame to a whole
    QP, so the fractional part is applied as a whole-frame quantiser offset (FFmpeg's ``addroi``
    filter → x265 per-block quant offsets, added before x265 rounds each block's QP): whole QPs
    are ~10 % apart in rate, fractional CRFs let :func:`~dlic_lib.codecs.encode_to_bpp` land
    within 2 % of a target.
    """

    name = "hevc"
    library = "x265 (FFmpeg)"
    encoder = "libx265"
    decoder = "hevc"
    demuxer = "hevc"
    bitstream = "5-byte dlic header + HEVC Annex-B elementary stream"

    _SPECS = {
        "qp": QualitySpec("qp", 0, 51, 32, integer=True, increasing=False, meaning="x265 constant QP"),
        "crf": QualitySpec("crf", 0, 51, 32, increasing=False,
                           meaning="x265 constant rate factor; fraction applied as a quantiser offset"),
    }

    def __init__(self, chroma: str = "420", mode: str = "qp", preset: str = "medium") -> None:
        if mode not in self._SPECS:
            raise DlicError(f"hevc: mode must be one of {list(self._SPECS)}, got {mode!r}")
        presets = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
        if preset not in presets:
            raise DlicError(f"hevc: preset must be one of {', '.join(presets)}, got {preset!r}")
        if mode == "crf" and preset in presets[:2]:
            raise DlicError(f"hevc: mode 'crf' needs preset 'veryfast' or slower (x265 {preset} ignores the fractional offset)")
        super().__init__(chroma=self._check_chroma(chroma), mode=mode, preset=str(preset))
        self.quality_spec = self._SPECS[mode]

    def _encoder_args(self, quality) -> list[str]:
        x265 = "keyint=1:info=0:log-level=error"
        args = ["-c:v", "libx265", "-preset", self.options["preset"]]
        if self.options["mode"] == "qp":
            return args + ["-x265-params", f"{x265}:qp={quality}"]
        whole = min(int(quality), 50)
        frac = quality - whole  # 0 ≤ frac ≤ 1; addroi's qoffset is in units of the 51-step QP range
        roi = ["-vf", f"addroi=0:0:iw:ih:qoffset={frac / 51.0:.6f}"] if frac > 0 else []
        return roi + args + ["-crf", str(whole), "-x265-params", x265]


class VvcCodec(_YuvVideoCodec):
    """VVC intra (vvenc), one intra frame, 10-bit 4:2:0.

    ``mode``: ``"qp"`` (constant QP 0–63, whole numbers) or ``"lambda"`` (QP 0–63, fractional
    allowed). Whole QPs are 10–20 % apart in rate, and vvenc's own rate control (``-b:v``, one or
    two passes) settles on a whole QP for a single intra frame, so it is no finer. In ``"lambda"``
    mode the whole part is vvenc's QP and the fractional part ``f`` scales the rate-distortion
    lambda of the intra picture by ``2**f`` (vvenc's ``LambdaModifierI``): the encoder's mode
    decisions and RDOQ trade rate for distortion continuously at that QP. The scale ``2**f`` is
    wide enough that QP ``n`` at ``f → 1`` codes fewer bits than QP ``n + 1`` (75–97 % of its rate
    on six Kodak images at QP 28–52), so the ranges of neighbouring QPs overlap and no rate between
    them is skipped; rate falls monotonically with ``f`` inside each whole QP and jumps back up
    at the next whole value, which :func:`~dlic_lib.codecs.encode_to_bpp`'s bracketing tolerates.
    At equal rate the lambda-scaled points are as efficient as whole QPs (PSNR-Y within ±0.1 dB
    on kodim01 around 0.1–0.2 bpp). Whole values give the same bitstream as ``mode="qp"``.
    """

    name = "vvc"
    library = "vvenc (FFmpeg)"
    encoder = "libvvenc"
    decoder = "vvc"
    demuxer = "vvc"
    bit_depth = 10
    min_size = 16
    chroma_formats = ("420",)
    bitstream = "5-byte dlic header + VVC Annex-B elementary stream"
    quality_spec = QualitySpec("qp", 0, 63, 32, integer=True, increasing=False, meaning="vvenc constant QP")

    _SPECS = {
        "qp": quality_spec,
        "lambda": QualitySpec(
            "qp", 0, 63, 32, increasing=False,
            meaning="vvenc QP; fractional part f scales the intra RD lambda by 2**f (LambdaModifierI)",
        ),
    }

    def __init__(self, chroma: str = "420", preset: str = "fast", qpa: bool = False, mode: str = "qp") -> None:
        if preset not in ("faster", "fast", "medium", "slow", "slower"):
            raise DlicError(f"vvc: preset must be faster|fast|medium|slow|slower, got {preset!r}")
        if mode not in self._SPECS:
            raise DlicError(f"vvc: mode must be one of {list(self._SPECS)}, got {mode!r}")
        # the default mode adds no option, so results cached before modes existed stay valid
        extra = {} if mode == "qp" else {"mode": mode}
        super().__init__(chroma=self._check_chroma(chroma), preset=preset, qpa=bool(qpa), **extra)
        self.quality_spec = self._SPECS[mode]

    @property
    def mode(self) -> str:
        return self.options.get("mode", "qp")

    def _encoder_args(self, quality) -> list[str]:
        whole = int(quality)
        args = ["-c:v", "libvvenc", "-preset", self.options["preset"], "-qp", str(whole),
                "-qpa", "1" if self.options["qpa"] else "0"]
        if self.mode == "lambda" and quality > whole:
            args += ["-vvenc-params", f"LambdaModifierI={2.0 ** (quality - whole):.6f}"]
        return args


class Av1Codec(_YuvVideoCodec):
    """AV1 intra, 8-bit: libaom (all-intra usage, still picture) or SVT-AV1 (its AVIF still-image mode).

    ``encoder="libaom"`` (default): 4:2:0 or 4:4:4, whole CRF 0–63 (libaom's cq-level; ~10 %
    apart in rate). ``encoder="svt-av1"``: 4:2:0 only, CRF 1–63 in quarter steps (SVT-AV1 maps
    the fraction to the quantiser index, 0–255, so neighbouring values are ~2 % apart in rate),
    ``preset`` 0–13. libaom offers nothing finer for a still picture: it exposes no quantiser
    index control, and its rate control (``-b:v``) for a single key frame stops at a floor far
    above the low targets whatever rate is requested (all-intra usage: 0.044 bpp on kodim03,
    0.20 bpp on kodim08; good usage: 0.065 bpp on kodim03), so finer targeting uses SVT-AV1.
    Both write the same kind of stream: a low-overhead OBU stream with one key frame.
    """

    name = "av1"
    library = "libaom (FFmpeg)"
    encoder = "libaom-av1"
    decoder = "libdav1d"
    demuxer = "obu"
    bitstream = "5-byte dlic header + AV1 low-overhead OBU stream"
    quality_spec = QualitySpec("crf", 0, 63, 32, integer=True, increasing=False, meaning="libaom cq-level")
    _SVT_SPEC = QualitySpec(
        "crf", 1, 63, 35, increasing=False, step=0.25,
        meaning="SVT-AV1 constant rate factor in quarter steps (fraction → quantiser index)",
    )

    def __init__(self, chroma: str = "420", cpu_used: int = 6, encoder: str = "libaom", preset: int = 6) -> None:
        if encoder not in ("libaom", "svt-av1"):
            raise DlicError(f"av1: encoder must be 'libaom' or 'svt-av1', got {encoder!r}")
        if encoder == "libaom":
            if int(cpu_used) not in range(10):
                raise DlicError(f"av1: cpu_used must be 0..9, got {cpu_used!r}")
            # libaom options keep their original form, so cached results stay valid
            super().__init__(chroma=self._check_chroma(chroma), cpu_used=int(cpu_used))
            return
        if chroma != "420":
            self._check_chroma(chroma)
            # a CodecUnavailableError (a DlicError): grid runs skip this setting with the reason
            raise CodecUnavailableError(
                f"av1: encoder 'svt-av1' codes 4:2:0 only, got chroma {chroma!r}; "
                "4:4:4 AV1 needs encoder='libaom'"
            )
        if int(preset) not in range(14):
            raise DlicError(f"av1: preset must be 0..13, got {preset!r}")
        super().__init__(chroma="420", encoder=encoder, preset=int(preset))
        self.encoder = "libsvtav1"
        self.library = "SVT-AV1 (FFmpeg)"
        self.quality_spec = self._SVT_SPEC

    def available(self) -> tuple[bool, str]:
        ok, reason = super().available()
        if not ok and "libdav1d" in reason and "av1" in ffmpeg_decoders():
            return True, ""
        return ok, reason

    def _encoder_args(self, quality) -> list[str]:
        if self.encoder == "libsvtav1":
            # avif=1: SVT-AV1's still-image mode (all-intra, one key frame)
            return ["-c:v", "libsvtav1", "-preset", str(self.options["preset"]),
                    "-svtav1-params", f"crf={quality:g}:avif=1"]
        return ["-c:v", "libaom-av1", "-usage", "allintra", "-still-picture", "1",
                "-cpu-used", str(self.options["cpu_used"]), "-crf", str(quality), "-b:v", "0"]


class JpegXlCodec(_FFmpegCodec):
    """JPEG XL (libjxl via FFmpeg), lossy VarDCT, Butteraugli distance 0–15 (0 = lossless)."""

    name = "jpegxl"
    library = "libjxl (FFmpeg)"
    encoder = "libjxl"
    decoder = "libjxl"
    bitstream = "JPEG XL file as written by FFmpeg's libjxl encoder"
    quality_spec = QualitySpec("distance", 0.0, 15.0, 1.0, increasing=False, meaning="Butteraugli distance")

    def __init__(self, effort: int = 7) -> None:
        if int(effort) not in range(1, 10):
            raise DlicError(f"jpegxl: effort must be 1..9, got {effort!r}")
        super().__init__(effort=int(effort))

    @property
    def colour(self) -> str:
        return "XYB inside libjxl (input: 8-bit sRGB)"

    def _encode(self, image: np.ndarray, quality) -> bytes:
        h, w = image.shape[:2]
        args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", "pipe:", "-frames:v", "1",
                "-c:v", "libjxl", "-distance", f"{quality:.6g}", "-effort", str(self.options["effort"]),
                "-f", "image2pipe", "pipe:"]
        return run_ffmpeg(args, image.tobytes(), what="jpegxl encoding", pixels=w * h)

    def decode(self, data: bytes) -> np.ndarray:
        from PIL import Image

        if not (data.startswith(JXL_CODESTREAM) or data.startswith(JXL_CONTAINER)):
            raise DlicError("jpegxl: stored data is not a JPEG XL file (no codestream or container signature)")
        args = ["-f", "jpegxl_pipe", "-i", "pipe:", "-frames:v", "1", "-pix_fmt", "rgb24",
                "-c:v", "png", "-f", "image2pipe", "pipe:"]
        png = run_ffmpeg(args, data, what="jpegxl decoding")
        with Image.open(io.BytesIO(png)) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
