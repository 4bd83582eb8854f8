"""The luma JPEG path: Pillow's integer luma, IJG tables, standard vs optimised Huffman tables."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dlic_lib.errors import DlicError
from dlic_lib.jpeg import decode_luma, encode_luma, luma_quant_table, luma_to_rgb, read_quantised, rgb_to_luma

# ITU-T T.81 Annex K.3: luminance DC table (BITS, HUFFVAL) and the first BITS of the AC table
ANNEX_K_DC_BITS = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
ANNEX_K_DC_VALS = bytes(range(12))
ANNEX_K_AC_BITS = bytes([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D])
ANNEX_K_LUMA_Q = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24,
                           40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77,
                           24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95,
                           98, 112, 100, 103, 99]).reshape(8, 8)


def segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the scan data."""
    out, pos = [], 2
    assert data[:2] == b"\xff\xd8"
    while pos < len(data):
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        out.append((marker, data[pos + 4:pos + 2 + length]))
        if marker == 0xDA:
            break
        pos += 2 + length
    return out


@pytest.fixture(scope="module")
def luma(kodim_crop) -> np.ndarray:
    return rgb_to_luma(kodim_crop)


def test_luma_is_pillows_convert_l(kodim01, kodak_dir):
    assert np.array_equal(rgb_to_luma(kodim01), np.asarray(Image.fromarray(kodim01).convert("L")))
    from dlic_lib.data import read_image

    # check value of the notes (A0): Y sum of kodim23
    assert int(rgb_to_luma(read_image(kodak_dir / "kodim23.png")).sum(dtype=np.int64)) == 43_007_465
    y = rgb_to_luma(kodim01)
    assert np.array_equal(rgb_to_luma(luma_to_rgb(y)), y)


@pytest.mark.parametrize("qf", [1, 5, 10, 25, 49, 50, 55, 75, 90, 100])
def test_quant_table_follows_libjpeg_scaling(qf):
    s = 5000 // qf if qf < 50 else 200 - 2 * qf
    expected = np.clip((ANNEX_K_LUMA_Q * s + 50) // 100, 1, 255)
    assert np.array_equal(luma_quant_table(qf), expected)


@pytest.mark.parametrize("qf", [5, 10, 25, 55, 75, 90])
def test_file_is_baseline_grayscale_with_the_scaled_table(luma, qf):
    data = encode_luma(luma, qf)
    segs = dict(segments(data))
    sof = segs[0xC0]  # SOF0: baseline sequential
    assert sof[5] == 1  # one component
    assert (int.from_bytes(sof[1:3], "big"), int.from_bytes(sof[3:5], "big")) == luma.shape
    _, table = read_quantised(data)
    assert np.array_equal(table, luma_quant_table(qf))
    # identical to what Pillow writes for quality=qf without optimisation
    ref = io.BytesIO()
    Image.fromarray(luma, "L").save(ref, "JPEG", quality=qf)
    assert data == ref.getvalue()


def test_standard_huffman_tables_unless_optimised(luma):
    standard = encode_luma(luma, 10)
    optimised = encode_luma(luma, 10, optimize=True)
    dht = b"".join(p for m, p in segments(standard) if m == 0xC4)
    assert bytes([0x00]) + ANNEX_K_DC_BITS + ANNEX_K_DC_VALS in dht
    assert bytes([0x10]) + ANNEX_K_AC_BITS in dht
    dht_opt = b"".join(p for m, p in segments(optimised) if m == 0xC4)
    assert bytes([0x00]) + ANNEX_K_DC_BITS + ANNEX_K_DC_VALS not in dht_opt
    assert len(optimised) < 0.9 * len(standard)  # optimisation saves most at low quality
    assert np.array_equal(decode_luma(standard), decode_luma(optimised))  # same coefficients


def test_higher_quality_more_bytes_less_error(luma):
    sizes, errors = [], []
    for qf in (5, 25, 55, 90):
        data = encode_luma(luma, qf)
        sizes.append(len(data))
        errors.append(np.mean((decode_luma(data).astype(float) - luma) ** 2))
    assert sizes == sorted(sizes) and errors == sorted(errors, reverse=True)


def test_bad_input_is_a_dlic_error(luma):
    with pytest.raises(DlicError):
        encode_luma(luma.astype(np.float32), 50)
    with pytest.raises(DlicError):
        encode_luma(luma, 0)
    with pytest.raises(DlicError):
        decode_luma(b"not a jpeg")
    with pytest.raises(DlicError):
        rgb_to_luma(np.zeros((4, 4, 2), np.uint8))
