"""Verdict rules of the ProxIQA claims C40–C48 and the check of the paper's own tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlic_lib.claims import VERDICTS, published_table
from dlic_lib.studies import proxiqa_claims as pc


@pytest.fixture(scope="module")
def tables():
    return published_table("seed004_table1_kodak_bdrate"), published_table("seed004_table2_mean_bdrate")


def test_c40():
    assert pc.verdict_c40(-21.0, -15.0)[0] == "reproduced"
    assert "stand-in" in pc.verdict_c40(-21.0, -15.0)[1]
    assert pc.verdict_c40(-9.0)[0] == "partly reproduced"
    assert pc.verdict_c40(3.0)[0] == "not reproduced"
    assert pc.verdict_c40(None)[0] == "not testable here"


def _per_image(n_good: int, n: int = 24, mean_ok: bool = True) -> pd.DataFrame:
    good = {"psnr": 5.0, "ssim": -6.0, "msssim": -7.0, "vmaf": -20.0}
    bad = {"psnr": -1.0, "ssim": -6.0, "msssim": -7.0, "vmaf": -20.0 if mean_ok else 80.0}
    return pd.DataFrame([good] * n_good + [bad] * (n - n_good))


def test_c41():
    assert pc.verdict_c41(_per_image(22))[0] == "reproduced"
    assert pc.verdict_c41(_per_image(21))[0] == "partly reproduced"
    assert pc.verdict_c41(_per_image(2, mean_ok=False))[0] == "not reproduced"
    assert pc.verdict_c41(None)[0] == "not testable here"


def test_c41_holds_on_the_published_table(tables):
    t1 = tables[0]
    wide = t1[t1["target"] == "vmaf_p"].pivot(index="image", columns="bd_metric", values="value_pct")
    assert pc.verdict_c41(wide)[0] == "reproduced"


def test_c42_to_c47():
    assert pc.verdict_c42((-20.0, 12.0), (-23.0, 9.0))[0] == "reproduced"
    assert pc.verdict_c42((-11.0, 12.0), (-12.0, 9.0))[0] == "partly reproduced"
    assert pc.verdict_c42((-11.0, -1.0), (-12.0, 9.0))[0] == "not reproduced"
    assert pc.verdict_c42(None, None)[0] == "not testable here"
    assert pc.verdict_c43(-25.0, -40.0)[0] == "reproduced"
    assert pc.verdict_c43(-25.0, -30.0)[0] == "partly reproduced"
    assert pc.verdict_c43(-25.0, -20.0)[0] == "not reproduced"
    ssim = {"direct": -29.0, "direct+pixel": -22.0, "ssim_p": -19.0}
    psnr = {"direct": 130.0, "direct+pixel": 15.0, "ssim_p": 16.0}
    assert pc.verdict_c44(ssim, psnr)[0] == "reproduced"
    assert pc.verdict_c44({**ssim, "direct": -20.0}, psnr)[0] == "partly reproduced"
    assert pc.verdict_c44({**ssim, "direct": -10.0}, psnr)[0] == "not reproduced"
    assert pc.verdict_c44(None, None)[0] == "not testable here"
    assert pc.verdict_c45({"mse": 100.0, "vmaf_p": 105.0, "hevc": 400.0})[0] == "partly reproduced"
    assert pc.verdict_c45({"mse": 100.0, "vmaf_p": 125.0, "hevc": 400.0})[0] == "not reproduced"
    assert "8.00×" in pc.verdict_c45({"mse": 100.0, "vmaf_p": 100.0, "hevc": 400.0, "mse_probe": 50.0})[1]
    assert pc.verdict_c46(80.0, 2.0)[0] == "reproduced"
    assert pc.verdict_c46(35.0, 12.0)[0] == "partly reproduced"
    assert pc.verdict_c46(3.0, 1.0)[0] == "not reproduced"
    assert pc.verdict_c47({"mse": 30.0, "jpeg2000": 20.0, "hevc444": 25.0, "hevc420": -5.0})[0] == "reproduced"
    assert pc.verdict_c47({"mse": 5.0, "jpeg2000": 20.0, "hevc420": 1.0})[0] == "partly reproduced"
    assert pc.verdict_c47({"mse": -5.0, "jpeg2000": 20.0, "hevc420": 1.0})[0] == "not reproduced"
    assert pc.verdict_c47({"mse": 5.0})[0] == "not testable here"


def test_every_rule_returns_a_known_verdict_and_a_reason():
    outs = [pc.verdict_c40(-1.0), pc.verdict_c41(_per_image(24)), pc.verdict_c43(1.0, 2.0), pc.verdict_c46(None, None)]
    assert all(v in VERDICTS and why for v, why in outs)


def test_published_tables_are_consistent(tables):
    t1, t2 = tables
    check = pc.published_consistency(t1, t2)
    assert len(check) == 12 and (check["n"] == 24).all()
    kodak = check.dropna(subset=["mean_table2"])
    # notes on seed 004 (B0): Table I's column means reproduce Table II within 0.02 points, SDs within 0.06
    assert np.abs(kodak["mean_diff"]).max() <= 0.02 + 1e-9
    assert np.abs(kodak["sd_diff"]).max() <= 0.06 + 1e-9
    vmaf = check[(check["target"] == "vmaf_p") & (check["bd_metric"] == "vmaf")].iloc[0]
    assert vmaf["mean_table1"] == pytest.approx(-23.35, abs=0.02)


def test_c48_headline_31_is_a_per_image_maximum(tables):
    verdict, why, found = pc.verdict_c48(*tables, ours_max=-12.5)
    assert verdict == "reproduced"
    assert found["max_image"] == "kodim03" and found["max_saving"] == pytest.approx(33.2)
    assert found["table2_means"] == [21.97, 23.35, 23.78]
    assert "12.5" in why
    # a paper whose Table II reported 31 % would not show the inconsistency
    t2 = tables[1].copy()
    t2.loc[(t2["codec"] == "BLS VMAF_p") & (t2["bd_metric"] == "vmaf"), "mean_pct"] = -31.0
    assert pc.verdict_c48(tables[0], t2)[0] == "not reproduced"


def test_c42_to_c44_say_why_a_setting_is_absent_or_unmeasured():
    reason = "SSIM_p and MS-SSIM_p: not run at the smoke profile (runs at quick and full)"
    assert pc.verdict_c42(None, None, not_run=reason) == ("not testable here", reason)
    assert "no overlapping" in pc.verdict_c42((float("nan"), 3.0), (-12.0, 9.0))[1]
    assert pc.verdict_c43(-25.0, -40.0, not_run="BMSHJ: not run")[1] == "BMSHJ: not run"
    assert "no overlapping" in pc.verdict_c43(None, -40.0)[1]
    ssim = {"direct": -29.0, "direct+pixel": None, "ssim_p": -19.0}
    psnr = {"direct": 130.0, "direct+pixel": 15.0, "ssim_p": 16.0}
    assert "no overlapping" in pc.verdict_c44(ssim, psnr)[1]
    assert pc.verdict_c44(None, None, not_run="Table IV: not run")[1] == "Table IV: not run"
