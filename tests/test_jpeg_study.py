"""Chapter 3 study logic: settings, tables and the verdicts of claims C15–C26 on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlic_lib.claims import VERDICTS, published_table
from dlic_lib.errors import DlicError
from dlic_lib.studies import cnn_jpeg as study
from dlic_lib.studies import cnn_jpeg_claims as cl


def bd(rows):
    return pd.DataFrame(rows, columns=["image", "codec", "anchor", "bd_rate"])


def test_settings_and_overrides():
    cfg = study.chapter_settings("quick", width=0.25)
    assert cfg["width"] == 0.25 and cfg["profile"] == "quick"
    full = study.chapter_settings("full")
    assert full["width"] == 1.0 and full["fake_patch"] == 48 and full["hr_patch"] == 96 and full["lr"] == 1e-4
    assert set(full["fc_variants"]) == {"frame", "block-pixel", "block-dct"}
    with pytest.raises(DlicError):
        study.chapter_settings("quick", bogus=1)
    with pytest.raises(DlicError):
        study.chapter_settings("huge")
    assert study._milestones(cfg, 400) == (200, 300)
    assert study._milestones(full, 221_072)[:2] == (73_690, 147_380)  # every 10 epochs of 7,369 updates


def test_c15_rules():
    assert cl.verdict_c15({"frame": 30.9, "block-pixel": 31.8, "block-dct": 36.0}).verdict == "reproduced"
    assert cl.verdict_c15({"frame": 30.9, "block-pixel": 31.8, "block-dct": 33.0}).verdict == "partly reproduced"
    assert cl.verdict_c15({"frame": 32.0, "block-pixel": 31.8, "block-dct": 33.0}).verdict == "not reproduced"


def test_c16_c17_rules():
    assert cl.verdict_c16(31.8, 31.4, 36.0, 35.2).verdict == "reproduced"
    assert cl.verdict_c16(31.8, 31.79, 36.0, 35.2).verdict == "partly reproduced"
    assert cl.verdict_c16(31.0, 31.4, 35.0, 35.2).verdict == "not reproduced"
    assert cl.verdict_c16(31.0, np.nan, 35.0, np.nan).verdict == "not testable here"
    assert cl.verdict_c17({"patch": 0.028, "depth": 0.013}).verdict == "reproduced"
    assert cl.verdict_c17({"patch": 0.3}).verdict == "not reproduced"
    assert cl.verdict_c17({}).verdict == "not testable here"


def test_c18_c19_rules():
    roles = {"a": "Bike", "b": "Cactus"}
    t = bd([("a", "cnn-fc-block-dct", "cnn-yl", -3.0), ("b", "cnn-fc-block-dct", "cnn-yl", -5.0),
            ("a", "cnn-fc-block-dct", "jpeg-y", 2.0), ("b", "cnn-fc-block-dct", "jpeg-y", -30.0)])
    assert cl.verdict_c18(t, ["cnn-fc-block-dct"]).verdict == "reproduced"
    assert cl.verdict_c19(t, ["cnn-fc-block-dct"], roles).verdict == "partly reproduced"
    t.loc[3, "bd_rate"] = -10.0
    assert cl.verdict_c19(t, ["cnn-fc-block-dct"], roles).verdict == "not reproduced"
    t.loc[0, "bd_rate"] = 4.0
    assert cl.verdict_c18(t, ["cnn-fc-block-dct"]).verdict == "partly reproduced"
    assert cl.verdict_c18(t, []).verdict == "not testable here"


def test_c20_c24_check_the_published_prose():
    table41, table42 = published_table("seed001_table4_1_bd"), published_table("seed001_table4_2_bd")
    v20 = cl.verdict_published(table41, "CNN-FC-Frame", "p08", "JPEG", -23.52, 1.759)
    v24 = cl.verdict_published(table42, "CNN-RD", "Cactus", "JPEG", -31.35, 2.193)
    for v in (v20, v24):
        assert v.verdict == "not testable here" and "agrees" in v.why
    assert "disagree" in cl.verdict_published(table42, "CNN-RD", "Cactus", "JPEG", -30.0, 2.193).why


def test_c21_selection_rule():
    study_t = pd.DataFrame({"qf": [25] * 3 + [90] * 3, "lmbda": [1e-6, 1e-7, 1e-8] * 2,
                            "bpp": [0.5, 0.8, 0.95, 1.5, 1.9, 2.0], "psnr": [28.0, 30.0, 30.2, 35.0, 36.8, 37.0]})
    chosen = cl.select_lambda(study_t, {25: (1.0, 30.2), 90: (2.05, 37.0)})
    assert chosen == {25: 1e-7, 90: 1e-7}
    v = cl.verdict_c21(study_t, chosen)
    assert v.verdict == "partly reproduced" and "yes" in v.ours  # QF 90 picks 1e-7, not 5e-8
    assert cl.verdict_c21(study_t, {25: 1e-7, 55: 1e-7, 75: 1e-7, 90: 5e-8}).verdict == "reproduced"


def test_c22_c23_c25_rules():
    detail = pd.Series({"bike": 29.0, "mid": 32.0, "smooth": 38.0})
    t = bd([("bike", "cnn-rd", "cnn-yl", -20.0), ("mid", "cnn-rd", "cnn-yl", 1.0), ("smooth", "cnn-rd", "cnn-yl", 2.0),
            ("bike", "cnn-rd", "jpeg-y", -10.0), ("bike", "cnn-rdv2", "jpeg-y", -12.0),
            ("bike", "cnn-rd", "cnn-mse", -5.0), ("bike", "cnn-rdv2", "cnn-mse", -4.0)])
    assert cl.verdict_c22(t, detail).verdict == "partly reproduced"
    assert cl.verdict_c23(t).verdict == "partly reproduced"
    assert cl.verdict_c25(t).verdict == "reproduced"
    t.loc[2, "bd_rate"] = -30.0
    assert cl.verdict_c22(t, detail).verdict == "not reproduced"


def test_c26_at_a_common_rate():
    rows = []
    for codec, offset in (("jpeg-y", 0.0), ("bicubic-jpeg", 1.0), ("cnn-yl", 2.0)):
        for bpp in (0.1, 0.2, 0.4, 0.8):
            rows.append({"image": "044", "codec": codec, "bpp": bpp, "psnr": 30 + offset + 3 * np.log2(bpp / 0.1)})
    rd = pd.DataFrame(rows)
    assert cl.verdict_c26(rd, {"044": "Johnny"}).verdict == "partly reproduced"
    rd.loc[rd.codec == "cnn-yl", "psnr"] -= 5
    assert cl.verdict_c26(rd, {"044": "Johnny"}).verdict == "not reproduced"
    assert cl.psnr_at_bpp(rd[rd.codec == "jpeg-y"], 0.2) == pytest.approx(33.0)
    assert np.isnan(cl.psnr_at_bpp(rd[rd.codec == "jpeg-y"], 2.0))


def test_every_verdict_is_allowed():
    v = [cl.verdict_c15({"frame": 1, "block-pixel": 2, "block-dct": 3}), cl.verdict_c17({}), cl.verdict_c18(bd([]), ["x"])]
    assert all(x.verdict in VERDICTS for x in v)


def test_proxy_and_detail_tables(kodim_crop):
    images = {"k": kodim_crop}
    t = study.proxy_table(images, 6, qualities=(10, 55))
    assert len(t) == 12 and (t.soft <= t.hard + 0.5).all() and (t.hard <= t.libjpeg + 2).all()
    d = study.detail_table(images)
    assert 25 < d["k"] < 45


def test_bd_tables_against_three_anchors():
    rows = []
    for codec, gain in (("jpeg-y", 0.0), ("cnn-yl", 1.0), ("cnn-mse", 0.5), ("cnn-rd", 1.5)):
        for bpp in (0.1, 0.2, 0.4, 0.8, 1.6):
            rows.append({"image": "x", "codec": codec, "bpp": bpp, "psnr": 28 + gain + 4 * np.log2(bpp / 0.1)})
    t = study.bd_tables(pd.DataFrame(rows))
    rd_vs_jpeg = t[(t.codec == "cnn-rd") & (t.anchor == "jpeg-y")].bd_quality.iloc[0]
    assert rd_vs_jpeg == pytest.approx(1.5, abs=1e-6)
    assert set(t.anchor) == {"jpeg-y", "cnn-yl", "cnn-mse"}
