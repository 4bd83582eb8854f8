"""The context-adaptive binary arithmetic coder and its bit-plane context model."""

import math

import numpy as np
import pytest

from dlic_lib.entropy import (AdaptiveBinaryModel, BinaryArithmeticDecoder, BinaryArithmeticEncoder,
                              decode_bitplanes, encode_bitplanes, ideal_bitplane_bits)
from dlic_lib.errors import DlicError


def _structured(rng, k=4, c=8, h=24, w=32, flip=0.05):
    yy, xx = np.indices((h, w))
    base = ((yy // 6 + xx // 5) % 2).astype(np.uint8)
    planes = [[base ^ (rng.random(base.shape) < flip) ^ (ch % 2) for ch in range(c)] for _ in range(k)]
    return np.array(planes, dtype=np.uint8)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 1, 1, 9), (2, 3, 5, 7), (3, 32, 4, 6)])
def test_round_trip_random(shape):
    rng = np.random.default_rng(sum(shape))
    codes = rng.integers(0, 2, shape).astype(np.uint8)
    data = encode_bitplanes(codes)
    assert np.array_equal(decode_bitplanes(data, shape), codes)


def test_round_trip_extremes_and_empty():
    for codes in (np.zeros((3, 4, 6, 6), np.uint8), np.ones((3, 4, 6, 6), np.uint8)):
        data = encode_bitplanes(codes)
        assert len(data) <= 8  # 432 equal bits: about 1 + ½·log2(n) bits per context used
        assert np.array_equal(decode_bitplanes(data, codes.shape), codes)
    assert encode_bitplanes(np.zeros((0, 2, 2, 2), np.uint8)) == b""
    assert decode_bitplanes(b"", (0, 2, 2, 2)).shape == (0, 2, 2, 2)


def test_structured_planes_compress_and_random_ones_do_not_expand_much():
    rng = np.random.default_rng(1)
    codes = _structured(rng)
    data = encode_bitplanes(codes)
    assert np.array_equal(decode_bitplanes(data, codes.shape), codes)
    assert 8 * len(data) < 0.5 * codes.size
    noise = rng.integers(0, 2, (4, 8, 24, 32)).astype(np.uint8)
    assert 8 * len(encode_bitplanes(noise)) < 1.02 * noise.size


def test_exact_size_accounting_against_information_content():
    rng = np.random.default_rng(2)
    for codes in (_structured(rng), rng.integers(0, 2, (2, 4, 16, 16)).astype(np.uint8)):
        ideal = ideal_bitplane_bits(codes)
        bits = 8 * len(encode_bitplanes(codes))
        # the range coder stays within its arithmetic precision (< 0.5 %) and a flush of ≤ 2 bytes
        assert ideal - 8 <= bits <= 1.005 * ideal + 16


def test_raw_coder_with_known_probabilities():
    """A skewed i.i.d. source reaches its entropy; contexts keep their own statistics."""
    rng = np.random.default_rng(3)
    n = 20_000
    ctx = rng.integers(0, 2, n)
    bits = np.where(ctx == 0, rng.random(n) < 0.1, rng.random(n) < 0.8).astype(np.uint8)
    enc = BinaryArithmeticEncoder()
    enc.encode_run(bits[: n // 2], ctx[: n // 2], AdaptiveBinaryModel(2))
    data = enc.finish()
    dec = BinaryArithmeticDecoder(data)
    assert np.array_equal(dec.decode_run(ctx[: n // 2], AdaptiveBinaryModel(2)), bits[: n // 2])
    h = lambda p: -(p * math.log2(p) + (1 - p) * math.log2(1 - p))  # noqa: E731
    entropy = (n // 2) * (h(0.1) + h(0.8)) / 2
    assert 8 * len(data) < 1.02 * entropy + 64


def test_bad_input_is_a_clear_error():
    with pytest.raises(DlicError, match="only 0 and 1"):
        encode_bitplanes(np.full((1, 1, 2, 2), 2))
    with pytest.raises(DlicError, match=r"\(K, C, H, W\)"):
        encode_bitplanes(np.zeros((2, 2), np.uint8))
    with pytest.raises(DlicError, match=r"\(K, C, H, W\)"):
        decode_bitplanes(b"", (1, 0, 2, 2))
