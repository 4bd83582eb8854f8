"""The ProxIQA chapter's library: settings, real bitstreams of BLS, BD tables and kodim19 savings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from dlic_lib.errors import DlicError
from dlic_lib.models.bls2017 import BLS2017
from dlic_lib.studies import proxiqa as study


def test_settings_per_profile_and_overrides():
    assert study.settings("quick")["N"] == 32 and study.settings("full")["N"] == 192
    assert study.settings("quick", kodak=3, highres=None)["kodak"] == 3
    with pytest.raises(DlicError, match="unknown setting .colour. for chapter 06_proxiqa"):
        study.settings("quick", colour=1)
    with pytest.raises(DlicError, match="unknown profile"):
        study.settings("huge")


def test_code_image_writes_real_bytes_that_decode_to_the_reconstruction(kodim_crop):
    torch.manual_seed(0)
    net = BLS2017(8).eval()
    net.update(force=True)
    image = kodim_crop[:70, :90]  # not a multiple of 16: padded, then cropped back
    data, decoded, enc_s, dec_s = study.code_image(net, image)
    assert decoded.shape == image.shape and decoded.dtype == np.uint8 and enc_s > 0 and dec_s > 0
    from dlic_lib.codecs.learned import unpack_strings

    w, h, strings = unpack_strings(data)
    assert (w, h) == (90, 70) and len(strings) == 1
    with torch.no_grad():  # the decoder alone, from the stored bytes
        again = net.decompress([strings], (5, 6))["x_hat"][0, :, :70, :90]
    assert np.array_equal(again.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy(), decoded)


def _curves() -> pd.DataFrame:
    rows = []
    for image, shift in (("kodim19", 0.0), ("kodim01", 1.0)):
        for codec, factor in (("BLS-MSE", 1.0), ("BLS VMAF_p", 0.8), ("x265 420", 1.25)):
            for bpp in (0.1, 0.2, 0.4, 0.8):
                r = bpp * factor
                rows.append({"dataset": "Kodak", "image": image, "codec": codec, "bpp": r,
                             "vmaf": 30 + 20 * np.log2(bpp / 0.1) + shift, "psnr": 25 + 3 * np.log2(r / 0.1),
                             "ssim": 0.8 + 0.04 * np.log2(bpp / 0.1), "msssim": 0.9 + 0.02 * np.log2(bpp / 0.1)})
    return pd.DataFrame(rows)


def test_bd_summary_is_per_image_then_population_sd():
    rd = _curves()
    rd = rd[rd["codec"] != "x265 420"]
    per_image, summary = study.bd_summary(rd)
    vm = per_image[per_image["metric"] == "vmaf"]
    # VMAF_p reaches each VMAF at 0.8× the rate: BD-rate −20 % on both images
    assert np.allclose(vm["bd_rate"], -20.0, atol=1e-6)
    row = summary[summary["metric"] == "vmaf"].iloc[0]
    assert row["n"] == 2 and row["ddof"] == 0 and row["sd"] == pytest.approx(0.0, abs=1e-9)


def test_kodim19_savings_interpolate_the_other_codecs_at_equal_vmaf():
    savings = study.kodim19_savings(_curves())
    assert savings["mse"] == pytest.approx(20.0, abs=1e-6)
    assert savings["hevc420"] == pytest.approx(36.0, abs=1e-6)  # 1 − 0.8/1.25
    assert "jpeg2000" not in savings


def test_tiles_and_agreement_table():
    image = np.arange(40 * 70 * 3, dtype=np.uint8).reshape(40, 70, 3)
    tiles = study._tiles(image, 16)
    assert tiles.shape == (2 * 4, 16, 16, 3)
    assert np.array_equal(tiles[5], image[16:32, 16:32])
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 100, 50)
    pairs = pd.DataFrame({"predictor": ["a"] * 50 + ["b"] * 50, "predicted": np.r_[truth + 2.0, -truth],
                          "libvmaf": np.r_[truth, truth]})
    table = study.agreement_table(pairs).set_index("predictor")
    assert table.loc["a", "plcc"] == pytest.approx(1.0) and table.loc["a", "rmse"] == pytest.approx(2.0)
    assert table.loc["b", "srocc"] == pytest.approx(-1.0) and table.loc["a", "tiles"] == 50
