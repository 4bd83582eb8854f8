"""Predictive recursive codecs: thresholds, allocation rules, decoding orders, bitstreams, bit-exact decoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlic_lib.errors import DlicError
from dlic_lib.models import build_model
from dlic_lib.predictive import allocation as al
from dlic_lib.predictive.bitstream import Header, accounting, pack, unpack
from dlic_lib.predictive.predictors import AE1, AE2, NONE
from dlic_lib.predictive.schedule import waves


# --- bit-allocation thresholds and rules -------------------------------------------------------
def test_closed_form_thresholds_reproduce_the_printed_list():
    assert al.thresholds() == list(al.PUBLISHED_THRESHOLDS)
    # each threshold is the largest integer MSE at or above its PSNR
    for p, t in zip(al.THRESHOLD_PSNRS, al.PUBLISHED_THRESHOLDS):
        assert 10 * np.log10(255**2 / t) >= p > 10 * np.log10(255**2 / (t + 1))
    assert al.count_bits(10) == 4 and al.count_bits(16) == 4 and al.count_bits(17) == 5


def test_ratio_rule_stops_at_the_threshold_or_when_saturating():
    e = np.array([
        [900.0, 500, 300, 200],   # reaches 325 at k = 3
        [900.0, 880, 870, 860],   # second iteration gains < 30 %: keeps 1
        [900.0, 600, 590, 100],   # saturates after 2 (590/600 > 0.7)
        [2000.0, 1300, 900, 600],  # never reaches, never saturates: k_max
    ])
    assert al.allocate_ratio(e, 325).tolist() == [3, 1, 2, 4]


def test_sequential_rule_freezes_patches_far_from_a_stage_threshold():
    e = np.array([[700.0, 400, 250, 150, 100], [5000.0, 4000, 3000, 2000, 1000], [100.0, 50, 40, 30, 20],
                  [1000.0, 900, 850, 800, 790]])
    ks = al.allocate_sequential(e, [818, 650, 516])
    # 0 grows when needed; 1 is frozen at once (5000 > 818/0.7); 2 never needs more than one;
    # 3 reaches 818 with 4, runs out at k_max = 5 for 650, then is frozen (790 > 516/0.7)
    assert ks.T.tolist() == [[1, 2, 2], [1, 1, 1], [1, 1, 1], [4, 5, 5]]
    assert al.allocate(e, 21, "A").tolist() == ks[2].tolist()  # 21 dB ↔ 516
    assert al.allocate(e, 21, "B").tolist() == al.allocate_ratio(e, 516).tolist()
    with pytest.raises(DlicError):
        al.allocate(e, 23.5, "A")
    with pytest.raises(DlicError):
        al.allocate(e, 23, "C")


# --- decoding orders --------------------------------------------------------------------------
def test_wavefront_decodes_every_neighbour_first_in_54_steps_on_kodak():
    rows, cols = 16, 24
    steps = waves(rows, cols, "wavefront")
    assert len(steps) == 54 and len(waves(rows, cols, "raster")) == 384
    when = np.empty(rows * cols, int)
    for s, idx in enumerate(steps):
        when[idx] = s
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        for dr, dc in ((-1, -1), (-1, 0), (-1, 1), (0, -1)):
            if 0 <= r + dr < rows and 0 <= c + dc < cols:
                assert when[(r + dr) * cols + c + dc] < when[i]
    assert sorted(np.concatenate(steps).tolist()) == list(range(rows * cols))


# --- bitstream --------------------------------------------------------------------------------
def test_bitstream_round_trip_and_side_information_accounting():
    rng = np.random.default_rng(0)
    n, k = 6, 10
    modes = rng.integers(0, 38, n)
    counts = rng.integers(1, k + 1, n)
    codes = rng.integers(0, 2, (n, k, 32, 2, 2)).astype(np.uint8)
    codes *= (np.arange(k)[None, :] < counts[:, None])[:, :, None, None, None].astype(np.uint8)
    head = Header(96, 64, k, 2, "0123456789abcdef", True, True, "wavefront")
    data = pack(head, modes, counts, codes)
    h2, m2, c2, x2 = unpack(data)
    assert h2 == head and (m2 == modes).all() and (c2 == counts).all() and (x2 == codes).all()
    acc = accounting(data)
    assert acc["modes"] == 6 * n and acc["counts"] == 4 * n and acc["codes"] == 128 * counts.sum()
    assert acc["side"] == 10 * n and 0 <= acc["padding"] < 8
    assert sum(acc[key] for key in ("header", "modes", "counts", "codes", "padding")) == 8 * len(data)
    for bad in (data[:-1], data + b"\0", b"XX" + data[2:], data[:10]):
        with pytest.raises(DlicError, match="predictive"):
            unpack(bad)


# --- codecs -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return {"residual": build_model("toderici2017-rnn", width=0.125, iterations=3),
            "ae1": build_model("intra-ae1", width=0.125), "ae2": build_model("intra-ae2", width=0.125)}


@pytest.fixture(scope="module")
def image(kodim01):
    return np.ascontiguousarray(kodim01[200:250, 300:360])  # 50×60: 2×2 patches, padded


@pytest.mark.parametrize("variant, quality", [("rnn-single", 2), ("rnn-multi", 2), ("rnn-ba", 30.0), ("rnn-multi-ba", 25.0)])
def test_decoding_the_file_reproduces_the_encoders_reconstruction(nets, image, variant, quality):
    from dlic_lib.codecs import get_codec

    codec = get_codec(variant, k_max=3, **nets) if variant.endswith("ba") else get_codec(variant, **nets)
    coded, data = codec.encode_patches(image, quality)
    decoded = codec.decode(data)
    assert np.array_equal(decoded, coded.reconstruction[:50, :60])
    acc = codec.accounting(data)
    assert acc["codes"] == 128 * coded.counts.sum() and 8 * len(data) == sum(
        acc[key] for key in ("header", "modes", "counts", "codes", "padding"))
    assert acc["modes"] == (24 if "multi" in variant else 0)
    assert acc["counts"] == (4 * 2 if variant.endswith("ba") else 0)  # ⌈log₂ 3⌉ bits per patch at k_max = 3
    if variant == "rnn-single":
        assert (coded.modes == AE1).all() and (coded.counts == 2).all()
    if variant == "rnn-ba":
        assert (coded.modes == NONE).all()
    # the same file decoded in raster order: same dependencies, same image
    assert np.array_equal(codec.decode(data, order="raster"), decoded)
    if variant == "rnn-multi-ba":
        result = codec.encode(image, quality, use_cache=False)
        assert result.bpp == pytest.approx(8 * len(data) / (50 * 60)) and np.array_equal(result.decoded, decoded)


def test_multi_mode_picks_the_best_candidate_and_beats_each_single_prediction(nets, image):
    from dlic_lib.codecs.predictive import PredictiveRnnCodec

    multi = PredictiveRnnCodec("rnn-multi", **nets)
    coded, _ = multi.encode_patches(image, 1)
    assert set(np.unique(coded.modes)) <= set(range(35)) | {AE1, AE2, NONE}
    from dlic_lib.predictive.closed_loop import patch_grid

    padded, _, _ = patch_grid(image)
    mse_multi = np.mean((coded.reconstruction.astype(float) - padded) ** 2)
    single = PredictiveRnnCodec("rnn-single", **nets).encode_patches(image, 1)[0]
    assert mse_multi <= np.mean((single.reconstruction.astype(float) - padded) ** 2) + 1e-9


def test_bad_files_and_options_are_one_line_errors(nets, image):
    from dlic_lib.codecs.predictive import PredictiveRnnCodec

    single = PredictiveRnnCodec("rnn-single", **nets)
    _, data = single.encode_patches(image, 1)
    with pytest.raises(DlicError, match="another predictive codec"):
        PredictiveRnnCodec("rnn-multi", **nets).decode(data)
    other = dict(nets, residual=build_model("toderici2017-rnn", width=0.125, iterations=3))
    with pytest.raises(DlicError, match="weights"):
        PredictiveRnnCodec("rnn-single", **other).decode(data)
    with pytest.raises(DlicError, match="truncated"):
        single.decode(data[:-3])
    with pytest.raises(DlicError):
        PredictiveRnnCodec("rnn-multi", order="spiral")
    with pytest.raises(DlicError, match="threshold_psnr"):
        PredictiveRnnCodec("rnn-ba", **nets).encode(image, 31.5)
