"""Conventional codecs: real bitstreams, decoded from the stored bytes, bpp, cache, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from dlic_lib.codecs import CODECS, CodecUnavailableError, get_codec, list_codecs
from dlic_lib.codecs.pillow_codecs import ijg_quant_tables
from dlic_lib.codecs.ffmpeg_codecs import stream_check
from dlic_lib.errors import DlicError, ImageReadError

# (name, options, low-rate quality, high-rate quality) — fast settings for tests
CONVENTIONAL = [
    ("jpeg", {}, 20, 80),
    ("jpeg", {"chroma": "444"}, 20, 80),
    ("webp", {}, 20, 80),
    ("jpeg2000", {}, 0.25, 1.0),
    ("hevc", {"preset": "ultrafast"}, 42, 30),
    ("hevc", {"chroma": "444", "mode": "crf", "preset": "veryfast"}, 40.5, 30.25),
    ("vvc", {"preset": "faster"}, 42, 30),
    ("av1", {"cpu_used": 8}, 50, 30),
    ("av1", {"chroma": "444", "cpu_used": 8}, 50, 30),
    ("av1", {"encoder": "svt-av1", "preset": 8}, 50.25, 30.5),
    ("vvc", {"mode": "lambda", "preset": "faster"}, 42.5, 30.25),
    ("jpegxl", {"effort": 3}, 6.0, 1.0),
]
IDS = [f"{n}-{'-'.join(f'{k}{v}' for k, v in o.items()) or 'default'}" for n, o, *_ in CONVENTIONAL]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


@pytest.mark.parametrize(("name", "options", "q_low", "q_high"), CONVENTIONAL, ids=IDS)
def test_round_trip_rate_and_quality(kodim_crop, name, options, q_low, q_high):
    codec = get_codec(name, **options)
    low = codec.encode(kodim_crop, q_low)
    high = codec.encode(kodim_crop, q_high)
    for coded in (low, high):
        assert coded.decoded.shape == kodim_crop.shape and coded.decoded.dtype == np.uint8
        assert coded.bpp == pytest.approx(8 * len(coded.data) / (192 * 256))
        # the decoded image is what decoding the stored bytes gives, deterministically
        np.testing.assert_array_equal(codec.decode(coded.data), coded.decoded)
        assert coded.encode_s > 0 and coded.decode_s > 0
        assert coded.version and coded.library and coded.chroma in ("4:2:0", "4:4:4")
    assert high.bpp > low.bpp
    p_low, p_high = psnr(kodim_crop, low.decoded), psnr(kodim_crop, high.decoded)
    assert 20 < p_low < p_high < 50


def test_full_kodak_image_round_trip(kodim01):
    coded = get_codec("hevc", preset="ultrafast").encode(kodim01, 32)
    assert coded.decoded.shape == (512, 768, 3)
    assert coded.data[:4] == bytes([3, 0, 2, 0])  # header: 768, 512, then flags
    assert coded.data[4] == stream_check(coded.data[5:]) << 1  # 4:2:0 + the stream's integrity check
    assert 28 < psnr(kodim01, coded.decoded) < 40


def test_jpeg_fractional_quality_matches_libjpeg_at_whole_values(kodim_crop):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(kodim_crop).save(buf, "JPEG", quality=37, optimize=True, subsampling=2)
    assert get_codec("jpeg").encode(kodim_crop, 37).data == buf.getvalue()
    assert ijg_quant_tables(37) == [list(t) for t in Image.open(buf).quantization.values()]
    sizes = [get_codec("jpeg").encode(kodim_crop, q).n_bytes for q in (10, 10.5, 11)]
    assert sizes[0] < sizes[1] < sizes[2]


def test_jpeg2000_hits_requested_rate(kodim_crop):
    coded = get_codec("jpeg2000").encode(kodim_crop, 0.5)
    assert coded.bpp == pytest.approx(0.5, rel=0.03)


def test_hevc_fractional_crf_is_monotone(kodim_crop):
    codec = get_codec("hevc", mode="crf", preset="veryfast")
    bpps = [codec.encode(kodim_crop, q).bpp for q in (36.0, 36.5, 37.0)]
    assert bpps[0] > bpps[1] > bpps[2]


def test_cache_hit_on_rerun(kodim_crop, tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CACHE_DIR", str(tmp_path))
    codec = get_codec("av1", cpu_used=8)
    first = codec.encode(kodim_crop, 40)
    assert not first.cached
    assert list((tmp_path / "codecs" / "av1").rglob("*.npz"))
    again = get_codec("av1", cpu_used=8).encode(kodim_crop, 40)
    assert again.cached and again.data == first.data
    np.testing.assert_array_equal(again.decoded, first.decoded)
    assert (again.encode_s, again.decode_s) == (first.encode_s, first.decode_s)
    # other parameters or another image → a different entry
    assert not codec.encode(kodim_crop, 41).cached
    assert not codec.encode(kodim_crop[:, :128], 40).cached
    # a corrupt entry is ignored and recomputed
    for f in (tmp_path / "codecs" / "av1").rglob("*.npz"):
        f.write_bytes(b"garbage")
    assert not codec.encode(kodim_crop, 40).cached


@pytest.mark.parametrize("name", ["jpeg", "webp", "jpeg2000", "hevc", "vvc", "av1", "jpegxl"])
@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (33, 2)])
def test_tiny_and_odd_sizes(name, shape):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.stack([(yy * 20) % 256, (xx * 15) % 256, ((yy + xx) * 9) % 256], axis=-1).astype(np.uint8)
    opts = {"hevc": {"preset": "ultrafast"}, "vvc": {"preset": "faster"}, "av1": {"cpu_used": 8},
            "jpegxl": {"effort": 3}}.get(name, {})
    codec = get_codec(name, **opts)
    coded = codec.encode(img, use_cache=False)
    assert coded.decoded.shape == img.shape
    assert coded.bpp == 8 * len(coded.data) / (shape[0] * shape[1])


def test_option_forms_and_cache_entries(kodim_crop, tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CACHE_DIR", str(tmp_path))
    # default options keep their original form (cached results of earlier runs stay valid)
    assert get_codec("av1").params(40) == {"quality": 40, "chroma": "420", "cpu_used": 6}
    assert get_codec("vvc").params(40) == {"quality": 40, "chroma": "420", "preset": "fast", "qpa": False}
    # another encoder or mode is another cache entry, even at the same parameter value
    aom = get_codec("av1", cpu_used=8).encode(kodim_crop, 40)
    svt = get_codec("av1", encoder="svt-av1", preset=8).encode(kodim_crop, 40)
    assert not svt.cached and svt.data != aom.data and svt.library != aom.library
    assert get_codec("av1", encoder="svt-av1", preset=8).encode(kodim_crop, 40).cached
    qp = get_codec("vvc", preset="faster").encode(kodim_crop, 40)
    lam = get_codec("vvc", mode="lambda", preset="faster").encode(kodim_crop, 40)
    assert not lam.cached and lam.data == qp.data  # a whole QP codes the same in both modes


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (33, 2)])
def test_svt_av1_tiny_and_odd_sizes(shape):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.stack([(yy * 20) % 256, (xx * 15) % 256, ((yy + xx) * 9) % 256], axis=-1).astype(np.uint8)
    coded = get_codec("av1", encoder="svt-av1", preset=8).encode(img, use_cache=False)
    assert coded.decoded.shape == img.shape


@pytest.mark.parametrize(
    ("name", "quality"),
    [("jpeg", 0), ("jpeg", 101), ("jpeg", "high"), ("webp", -1), ("jpeg2000", 0), ("hevc", 52), ("hevc", 30.5),
     ("vvc", 64), ("av1", -1), ("jpegxl", 16), ("jpeg", float("nan"))],
)
def test_quality_out_of_range(kodim_crop, name, quality):
    with pytest.raises(DlicError, match="must be"):
        get_codec(name).encode(kodim_crop, quality)


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((8, 8, 4), np.uint8), "shape"),
        (np.zeros((8, 8, 3), np.uint16), "uint8"),
        (np.zeros((8, 8, 3), np.float32), "uint8"),
        (np.zeros((0, 8, 3), np.uint8), "empty"),
        ("not an array", "numpy"),
    ],
)
def test_bad_images_rejected(image, match):
    with pytest.raises(ImageReadError, match=match):
        get_codec("jpeg").encode(image, 50)


def test_grayscale_array_is_expanded():
    gray = np.tile(np.arange(64, dtype=np.uint8) * 4, (32, 1))
    coded = get_codec("jpeg").encode(gray, 90)
    assert coded.decoded.shape == (32, 64, 3)


@pytest.mark.parametrize("name", ["jpeg", "webp", "jpeg2000", "hevc", "vvc", "av1", "jpegxl"])
def test_corrupt_bitstream_is_a_clear_error(name):
    with pytest.raises(DlicError):
        get_codec(name).decode(b"\x00\x10\x00\x10\x00" + b"not a bitstream" * 4)


def test_header_checks():
    with pytest.raises(DlicError, match="too short"):
        get_codec("hevc").decode(b"\x00\x01")
    with pytest.raises(DlicError, match="header"):
        get_codec("av1").decode(b"\x00\x00\x00\x10\x07abcdef")


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [("jpeg", {"chroma": "422"}, "chroma"), ("vvc", {"chroma": "444"}, "chroma"), ("hevc", {"mode": "abc"}, "mode"),
     ("webp", {"method": 9}, "method"),
     ("hevc", {"mode": "crf", "preset": "ultrafast"}, "veryfast"), ("hevc", {"preset": "quick"}, "preset"), ("jpeg", {"bogus": 1}, "bad option"), ("bpg", {}, "unknown codec")],
)
def test_bad_codec_options(name, options, match):
    with pytest.raises(DlicError, match=match):
        get_codec(name, **options)


def test_registry_lists_every_codec():
    rows = list_codecs()
    assert [r["name"] for r in rows] == list(CODECS)
    kinds = {r["name"]: r["kind"] for r in rows}
    assert kinds["jpeg"] == "conventional" and kinds["mbt2018"] == "learned"
    for r in rows:
        if r["kind"] == "conventional":
            assert r["available"] and r["version"], r
        else:  # offline in tests and no checkpoint registered: unavailable, with the reason
            assert not r["available"] and "dlic train" in r["reason"]


def test_unavailable_codec_is_a_clear_error(kodim_crop):
    # offline, no pretrained download, no checkpoint for this quality: says how to get one
    with pytest.raises(CodecUnavailableError, match="dlic train"):
        get_codec("mbt2018-mean").encode(kodim_crop, 3)
