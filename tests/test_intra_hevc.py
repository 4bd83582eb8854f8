"""HEVC intra prediction against H.265 §8.4.4.2: known answers worked by hand, a scalar oracle, properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dlic_lib.errors import DlicError
from dlic_lib.intra import block_references, hevc_mode_errors, predict
from dlic_lib.intra.hevc import filter_flag

from intra_spec import spec_predict


def one(top, left, corner, mode, **kw):
    """Predict a single block given plain lists."""
    return predict(np.array([top]), np.array([left]), np.array([corner]), mode, **kw)[0]


# ---------------------------------------------------------------- known answers, worked by hand

def test_dc_4x4_with_edge_filter():
    top = [10, 20, 30, 40, 0, 0, 0, 0]
    left = [50, 60, 70, 80, 0, 0, 0, 0]
    # dc = (100 + 260 + 4) >> 3 = 45
    expected = np.array([[38, 39, 41, 44], [49, 45, 45, 45], [51, 45, 45, 45], [54, 45, 45, 45]])
    np.testing.assert_array_equal(one(top, left, 7, 1), expected)
    np.testing.assert_array_equal(one(top, left, 7, 1, boundary=False), np.full((4, 4), 45))


def test_planar_4x4():
    top = [10, 20, 30, 40, 50, 0, 0, 0]
    left = [50, 60, 70, 80, 90, 0, 0, 0]
    pred = one(top, left, 0, 0)
    # ((3-x)L[y] + (x+1)T[4] + (3-y)T[x] + (y+1)L[4] + 4) >> 3
    assert pred[0, 0] == 40 and pred[3, 3] == 70 and pred[1, 2] == 56


def test_mode2_4x4_reads_left_diagonal():
    left = list(range(1, 9))
    pred = one([0] * 8, left, 0, 2)
    y, x = np.mgrid[0:4, 0:4]
    np.testing.assert_array_equal(pred, np.array(left)[x + y + 1])


def test_mode18_4x4_inverse_angle_projection():
    top, left, corner = [110, 120, 130, 140, 0, 0, 0, 0], [90, 80, 70, 60, 0, 0, 0, 0], 100
    pred = one(top, left, corner, 18)
    # ref[-k] = left[k-1] through invAngle = -256; pred[y][x] = ref[x - y]
    expected = [[100, 110, 120, 130], [90, 100, 110, 120], [80, 90, 100, 110], [70, 80, 90, 100]]
    np.testing.assert_array_equal(pred, expected)


def test_mode19_4x4_fractional_inverse_angle():
    top, left, corner = [110, 120, 130, 140, 0, 0, 0, 0], [90, 80, 70, 60, 50, 0, 0, 0], 100
    pred = one(top, left, corner, 19)
    # y=0: iIdx=-1, iFact=6 -> (26*corner + 6*top[0] + 16) >> 5
    assert pred[0, 0] == (26 * 100 + 6 * 110 + 16) >> 5 == 102
    # y=3: iIdx=-4, iFact=24; ref[-3] = left[3] (invAngle -315 skips left[2]), ref[-2] = left[1]
    assert pred[3, 0] == (8 * 60 + 24 * 80 + 16) >> 5 == 75


def test_substitution_only_top_available():
    available = np.zeros(17, dtype=bool)
    available[9:13] = True  # top row x = 0..3
    pred = one([10, 20, 30, 40, 99, 99, 99, 99], [77] * 8, 77, 1, available=available[None])
    # left and corner become top[0] = 10; dc = (100 + 40 + 4) >> 3 = 18
    assert pred[0, 0] == (10 + 36 + 10 + 2) >> 2 == 14
    assert pred[0, 1] == (20 + 54 + 2) >> 2 and pred[1, 0] == (10 + 54 + 2) >> 2 and pred[2, 2] == 18
    # the top-right copies top[3]: mode 34 reads top[x + y + 1]
    pred34 = one([10, 20, 30, 40, 99, 99, 99, 99], [77] * 8, 77, 34, available=available[None])
    assert pred34[3, 3] == 40 and pred34[0, 0] == 20


def test_substitution_nothing_available_gives_half_range():
    pred = one([3] * 16, [200] * 16, 9, 0, available=np.zeros((1, 33), dtype=bool))
    np.testing.assert_array_equal(pred, np.full((8, 8), 128))


def test_substitution_left_only_8x8_vertical_boundary():
    left = [40, 50, 60, 70, 80, 90, 100, 110] + [0] * 8
    available = np.zeros(33, dtype=bool)
    available[8:16] = True  # p[-1][7..0]
    pred = one([0] * 16, left, 0, 26, available=available[None])
    # top and corner copy left[0] = 40; column 0: 40 + ((left[y] - 40) >> 1)
    np.testing.assert_array_equal(pred[:, 0], 40 + 5 * np.arange(8))
    np.testing.assert_array_equal(pred[:, 1:], np.full((8, 7), 40))
    # bottom-left copies left[7]: mode 2 at the last sample reads p[-1][14]
    assert one([0] * 16, left, 0, 2, available=available[None], filtering=False)[7, 7] == 110


def test_horizontal_boundary_filter_clips_and_floors():
    top = [255, 0, 255, 0, 0, 0, 0, 0]
    pred = one(top, [250, 1, 2, 3, 0, 0, 0, 0], 5, 10)
    # row 0: clip(250 + ((top[x] - 5) >> 1)): 250 + 125 -> 255, 250 + (-5 >> 1 = -3)
    np.testing.assert_array_equal(pred[0], [255, 247, 255, 247])
    np.testing.assert_array_equal(pred[1:, 0], [1, 2, 3])
    np.testing.assert_array_equal(one(top, [250, 1, 2, 3, 0, 0, 0, 0], 5, 10, boundary=False)[0], [250] * 4)


def test_planar_8x8_reference_filter():
    top = [140] + [100] * 15
    left = [100] * 16
    pred = one(top, left, 100, 0)
    # pF[0][-1] = (100 + 280 + 100 + 2) >> 2 = 120, pF[1][-1] = 110
    assert pred[0, 0] == (700 + 100 + 7 * 120 + 100 + 8) >> 4 == 109
    assert pred[0, 1] == (600 + 200 + 7 * 110 + 100 + 8) >> 4 == 104
    assert one(top, left, 100, 0, filtering=False)[0, 0] == (700 + 100 + 980 + 100 + 8) >> 4 == 118


def test_strong_smoothing_32x32():
    top = 64 + np.arange(64)
    top[10] += 3
    left = 64 - np.arange(64)
    # mode 34 reads pF[x + y + 1][-1]; bi-linear: ((63-k)*64 + (k+1)*127 + 32) >> 6
    assert one(top, left, 64, 34)[0, 9] == (53 * 64 + 11 * 127 + 32) >> 6 == 75
    assert one(top, left, 64, 34, strong=False)[0, 9] == (73 + 2 * 77 + 75 + 2) >> 2 == 76
    top[31] += 8  # the top half is no longer near-linear: [1 2 1] only
    assert one(top, left, 64, 34)[0, 9] == 76


def test_filter_flags_of_the_standard():
    assert not any(filter_flag(m, 4) for m in range(35))
    assert [m for m in range(35) if filter_flag(m, 8)] == [0, 2, 18, 34]
    assert [m for m in range(35) if not filter_flag(m, 32)] == [1, 10, 26]
    assert [m for m in range(35) if not filter_flag(m, 16)] == [1, 9, 10, 11, 25, 26, 27]


# ---------------------------------------------------------------- scalar oracle vs batched

def _random_refs(rng, n, b):
    smooth = rng.random(b) < 0.5
    ramp_t = rng.integers(0, 200, (b, 1)) + np.arange(2 * n) * rng.integers(-2, 3, (b, 1))
    ramp_l = rng.integers(0, 200, (b, 1)) + np.arange(2 * n) * rng.integers(-2, 3, (b, 1))
    top = np.where(smooth[:, None], np.clip(ramp_t + rng.integers(0, 3, (b, 2 * n)), 0, 255), rng.integers(0, 256, (b, 2 * n)))
    left = np.where(smooth[:, None], np.clip(ramp_l + rng.integers(0, 3, (b, 2 * n)), 0, 255), rng.integers(0, 256, (b, 2 * n)))
    corner = np.where(smooth, np.clip((top[:, 0] + left[:, 0]) // 2, 0, 255), rng.integers(0, 256, b))
    available = rng.random((b, 4 * n + 1)) < rng.random((b, 1))
    available[0] = True
    available[1] = False
    return top, left, corner, available


@pytest.mark.parametrize("n", [4, 8, 16, 32])
def test_batched_equals_scalar_oracle(n):
    rng = np.random.default_rng(n)
    b = 3
    top, left, corner, available = _random_refs(rng, n, b)
    for mode, (filtering, strong, boundary) in itertools.product(range(35), itertools.product([True, False], repeat=3)):
        if not filtering and strong:
            continue
        got = predict(top, left, corner, mode, available=available, filtering=filtering, strong=strong, boundary=boundary)
        for i in range(b):
            want = spec_predict(top[i], left[i], corner[i], mode, n, available[i], filtering, strong, boundary)
            np.testing.assert_array_equal(got[i], want, err_msg=f"n={n} mode={mode} block={i} f={filtering} s={strong} b={boundary}")


def test_per_block_modes_match_single_mode_calls():
    rng = np.random.default_rng(1)
    top, left, corner, available = _random_refs(rng, 8, 6)
    modes = np.array([0, 1, 26, 10, 18, 26])
    got = predict(top, left, corner, modes, available=available)
    for i, m in enumerate(modes):
        np.testing.assert_array_equal(got[i], predict(top[i : i + 1], left[i : i + 1], corner[i : i + 1], m, available=available[i : i + 1])[0])


# ---------------------------------------------------------------- properties

@pytest.mark.parametrize("n", [4, 8, 16, 32])
def test_mirror_symmetry(n):
    rng = np.random.default_rng(100 + n)
    top, left, corner, _ = _random_refs(rng, n, 4)
    for mode in range(35):
        partner = mode if mode < 2 else 36 - mode
        for filtering, strong, boundary in [(True, True, True), (True, False, True), (False, False, False)]:
            a = predict(top, left, corner, mode, filtering=filtering, strong=strong, boundary=boundary)
            b = predict(left, top, corner, partner, filtering=filtering, strong=strong, boundary=boundary)
            np.testing.assert_array_equal(a, b.transpose(0, 2, 1), err_msg=f"n={n} mode={mode}")


@pytest.mark.parametrize("n", [4, 8, 16, 32])
def test_constant_references_give_constant(n):
    values = np.array([0, 17, 128, 255])
    top = np.repeat(values[:, None], 2 * n, axis=1)
    for mode in range(35):
        pred = predict(top, top, values, mode)
        assert pred.dtype == np.int32
        np.testing.assert_array_equal(pred, np.broadcast_to(values[:, None, None], pred.shape))


def test_vertical_32x32_replicates_top_row():
    rng = np.random.default_rng(5)
    top, left = rng.integers(0, 256, (2, 64)), rng.integers(0, 256, (2, 64))
    pred = predict(top, left, np.array([3, 4]), 26)
    np.testing.assert_array_equal(pred, np.broadcast_to(top[:, None, :32], pred.shape))


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(DlicError, match="mode"):
        predict(np.zeros((1, 8)), np.zeros((1, 8)), np.zeros(1), 35)
    with pytest.raises(DlicError, match="2N"):
        predict(np.zeros((1, 10)), np.zeros((1, 10)), np.zeros(1), 0)
    with pytest.raises(DlicError, match="references must be"):
        predict(np.zeros((1, 8)), np.zeros((2, 8)), np.zeros(1), 0)


# ---------------------------------------------------------------- blocks of an image

def test_block_references_follow_raster_availability():
    rng = np.random.default_rng(3)
    plane = rng.integers(0, 256, (12, 16))
    refs = block_references(plane, 4)
    assert refs.top.shape == (12, 8) and refs.available.shape == (12, 17)
    by_pos = {(r, c): i for i, (r, c) in enumerate(zip(refs.rows, refs.cols))}
    for (r, c), i in by_pos.items():
        av = refs.available[i]
        assert not av[:4].any()  # bottom-left is decoded later
        assert av[4:8].all() == (c > 0) and av[8] == (r > 0 and c > 0)
        assert av[9:13].all() == (r > 0) and av[13:].all() == (r > 0 and c < 3)
        if r > 0:
            np.testing.assert_array_equal(refs.top[i, :4], plane[4 * r - 1, 4 * c : 4 * c + 4])
        if r > 0 and c < 3:
            np.testing.assert_array_equal(refs.top[i, 4:], plane[4 * r - 1, 4 * c + 4 : 4 * c + 8])
        if c > 0:
            np.testing.assert_array_equal(refs.left[i, :4], plane[4 * r : 4 * r + 4, 4 * c - 1])
            if r > 0:
                assert refs.corner[i] == plane[4 * r - 1, 4 * c - 1]
    # the first block has nothing: 128 in every mode
    assert (predict(refs.top[:1], refs.left[:1], refs.corner[:1], 0, available=refs.available[:1]) == 128).all()


def test_mode_errors_match_per_block_predictions():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (16, 24, 3))
    sse = hevc_mode_errors(image, 8)
    assert sse.shape == (6, 35)
    for c in range(3):
        refs = block_references(image[..., c], 8)
        for i, (r, cc) in enumerate(zip(refs.rows, refs.cols)):
            target = image[8 * r : 8 * r + 8, 8 * cc : 8 * cc + 8, c]
            pred = spec_predict(refs.top[i], refs.left[i], refs.corner[i], 13, 8, refs.available[i])
            sse[i, 13] -= int(((np.array(pred) - target) ** 2).sum())
    assert (sse[:, 13] == 0).all()


def test_image_must_be_whole_blocks():
    with pytest.raises(DlicError, match="whole number"):
        block_references(np.zeros((10, 16)), 4)
