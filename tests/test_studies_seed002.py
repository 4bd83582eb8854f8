"""Chapter 7 (seed 002): published-table checks, content statistics and selection, rate search, verdict rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dlic_lib.data.describe import colorfulness, spatial_information
from dlic_lib.studies import claims_summary, seed002
from dlic_lib.studies import seed002_contents as contents
from dlic_lib.studies import seed002_published as published
from dlic_lib.studies.metric_accuracy import accuracy_table, drop_tests


# -- the published tables ---------------------------------------------------------------------------
def test_outlier_ratios_imply_the_papers_113_stimuli():
    sizes = published.implied_group_sizes().set_index("codec")
    assert 30 in sizes.loc["BPG", "sizes"] and 25 in sizes.loc["Balle2017", "sizes"] and 28 in sizes.loc["Toderici2017", "sizes"]
    assert sizes.loc["JPEG2000", "sizes"] == [] and sizes.loc["JPEG2000", "misfits"] == ["PSNR"]
    assert 30 + 30 + 25 + 28 == 113


def test_implied_mos_spread_is_constant_but_for_the_misprinted_row():
    spread = published.implied_mos_spread()
    off = spread[spread["off"]]
    assert off[["table", "subset", "metric"]].values.tolist() == [["I", "JPEG2000", "PSNR"]]
    medians = spread.groupby(["table", "subset"])["sigma"].median()
    assert medians[("II", "conventional")] == pytest.approx(30.54, abs=0.01)
    assert medians[("II", "dl")] == pytest.approx(26.58, abs=0.01)
    # pooled variance of Ballé (25) and Toderici (28) equals the DL group's (53)
    pooled = math.sqrt((25 * medians[("I", "Balle2017")] ** 2 + 28 * medians[("I", "Toderici2017")] ** 2) / 53)
    assert pooled == pytest.approx(medians[("II", "dl")], rel=0.01)


def test_only_a_one_sided_fisher_z_reproduces_the_significance_statement():
    plcc = published.published_drop_tests().query("coefficient == 'plcc'").set_index("metric")
    assert (plcc["significant_one_sided"] == plcc["paper_says_significant"]).all()
    assert not (plcc["significant_two_sided"] == plcc["paper_says_significant"]).all()
    assert not plcc.loc["NQM", "significant_two_sided"] and plcc.loc["NQM", "significant_one_sided"]
    # z from the closed form for PSNR: (atanh .858 − atanh .652)/sqrt(1/57 + 1/50)
    z = (math.atanh(0.858) - math.atanh(0.652)) / math.sqrt(1 / 57 + 1 / 50)
    assert plcc.loc["PSNR", "z"] == pytest.approx(z, rel=1e-12)


def test_c27_to_c30_hold_in_the_published_tables():
    result = published.published_table_claims()
    assert all(result[c]["holds"] for c in ("C27", "C28", "C29", "C30"))
    assert "PSNR 0.206" in result["C27"]["detail"]


def test_published_checks_detect_a_changed_table():
    t2 = published.table2()
    t2.loc[(t2["metric"] == "VSNR") & (t2["group"] == "dl"), "plcc"] = 0.5  # VSNR now drops most
    assert not published.published_table_claims(t2=t2)["C27"]["holds"]


# -- content statistics -----------------------------------------------------------------------------
def test_spatial_information_of_a_step_edge_by_hand():
    image = np.zeros((8, 8, 3), np.uint8)
    image[:, 4:] = 255
    # Sobel x: (255 − 0)·(1 + 2 + 1) = 1020 in columns 3 and 4, 0 elsewhere; interior 6×6 → 12 of 36 values
    assert spatial_information(image) == pytest.approx(1020 * math.sqrt((1 / 3) * (2 / 3)), rel=1e-9)


def test_colourfulness_by_hand():
    image = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)
    rg, yb = np.array([255.0, 0.0]), np.array([127.5, -255.0])
    expected = math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())
    assert colorfulness(image) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(272.62, abs=0.01)


def test_key_orders_dark_and_bright_images():
    def image(level):
        img = np.full((100, 100, 3), level, np.uint8)
        img[:2] = 0  # 2 % black and 2 % white: the 1 %/99 % percentiles are black and white
        img[-2:] = 255
        return img

    # key = (mean log L − log L_min)/(log L_max − log L_min) with L = sRGB-linear luminance + 1e-4
    def expected(level):
        c = level / 255
        lin = c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        logs = np.array([math.log(1e-4)] * 2 + [math.log(lin + 1e-4)] * 96 + [math.log(1 + 1e-4)] * 2)
        return (logs.mean() - math.log(1e-4)) / (math.log(1 + 1e-4) - math.log(1e-4))

    assert contents.key(image(5)) == pytest.approx(expected(5), rel=1e-9)
    assert contents.key(image(5)) < 0.4 < 0.9 < contents.key(image(220))
    assert contents.key(np.full((8, 8, 3), 77, np.uint8)) == 0.5


def test_best_crop_equals_a_brute_force_search(kodim_crop):
    from scipy import ndimage

    from dlic_lib.color import rgb_to_y

    y = rgb_to_y(kodim_crop)
    g = np.hypot(ndimage.sobel(y, axis=1, mode="nearest"), ndimage.sobel(y, axis=0, mode="nearest"))
    h, w, step = 64, 96, 16
    best = max(((g[r:r + h, c:c + w].std(), (r, c)) for r in range(0, g.shape[0] - h + 1, step)
                for c in range(0, g.shape[1] - w + 1, step)))
    assert contents.best_crop(kodim_crop, (h, w), step=step) == best[1]
    with pytest.raises(Exception, match="smaller than"):
        contents.best_crop(kodim_crop, (300, 300))


def test_synthetic_screen_is_deterministic():
    from dlic_lib.data import sha256_array

    a, b = contents.synthetic_screen(), contents.synthetic_screen()
    assert a.shape == (736, 960, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, contents.synthetic_screen(seed=1))
    assert np.array_equal(contents.synthetic_screen((192, 256)), a[:192, :256])
    assert sha256_array(a) == "7226aa8b8d4ade9b57b27710c927fe767437478698cca951665270d9cd4e18d6"


def test_selection_fills_the_slots_far_apart():
    stats = pd.DataFrame({"content": list("abcdef"), "semantics": ["people", "people", "people", "nature", "nature", "synthetic"],
                          "si": [10.0, 11.0, 50.0, 30.0, 31.0, 90.0], "key": [0.5, 0.5, 0.4, 0.6, 0.6, 0.9],
                          "colorfulness": [20.0, 21.0, 60.0, 40.0, 40.0, 10.0]})
    chosen = contents.select_contents(stats, {"people": 2, "nature": 1, "synthetic": 1})
    assert chosen["content"].iloc[0] == "f"  # farthest from the centroid
    assert sorted(chosen["content"]) in (["a", "c", "d", "f"], ["b", "c", "d", "f"], ["a", "c", "e", "f"], ["b", "c", "e", "f"])
    assert "c" in set(chosen["content"])  # the people candidate unlike the others is always picked
    with pytest.raises(Exception, match="not enough candidates"):
        contents.select_contents(stats, {"man-made": 1})
    stats.loc[1, "semantics"] = "unknown"  # a candidate of unknown class fills a slot nobody else can
    fallback = contents.select_contents(stats, {"man-made": 1, "synthetic": 1})
    assert fallback.set_index("slot").loc["man-made", "content"] == "b"


# -- rate search and verdict rules ------------------------------------------------------------------
class _FakeCodec:
    """Quality parameter p → an image whose MS-SSIM grows with p (noise of σ = 60/p)."""

    def __init__(self, spec):
        self.quality_spec = spec

    def encode(self, image, p, use_cache=True):
        rng = np.random.default_rng(0)
        noise = rng.normal(0, 60.0 / max(p, 1e-3), image.shape)
        decoded = np.clip(image + noise, 0, 255).astype(np.uint8)
        return type("Coded", (), {"decoded": decoded, "quality": p, "bpp": float(p), "n_bytes": 1})()


@pytest.mark.parametrize("integer", [True, False])
def test_rate_search_lands_closest_to_the_msssim_target(kodim_crop, integer):
    from dlic_lib.codecs.base import QualitySpec

    spec = QualitySpec("p", 1, 40, 10, integer=integer)
    codec = _FakeCodec(spec)
    coded, value = seed002.stimulus_for_msssim(codec, kodim_crop, 0.95, max_encodes=12)
    assert abs(value - 0.95) < 0.02
    if integer:
        others = [seed002._msssim(kodim_crop, codec.encode(kodim_crop, q).decoded) for q in (coded.quality - 1, coded.quality + 1)]
        assert all(abs(o - 0.95) >= abs(value - 0.95) for o in others)


def test_c32_and_c33_rules():
    table = pd.DataFrame({"content": ["a", "b"], "PSNR_rnn": [20.0, 21.0], "PSNR_j2k": [21.0, 22.0],
                          "PSNR_prefers_rnn": [False, False], "MS-SSIM_prefers_rnn": [True, False],
                          "VIF_prefers_rnn": [False, False], "NIQE_prefers_rnn": [False, True]})
    assert seed002.c32_verdict(table)["verdict"] == "partly reproduced"
    table["PSNR_prefers_rnn"] = True
    assert seed002.c32_verdict(table)["verdict"] == "not reproduced"
    assert seed002.c32_verdict(pd.DataFrame())["verdict"] == "not testable here"
    scores = pd.DataFrame({
        "content": ["a"] * 5, "codec": ["JPEG2000", "JPEG2000", "Ballé (factorized prior)", "Toderici 2017 (rnn)", "Toderici 2017 (rnn)"],
        "group": ["conventional", "conventional", "DL", "DL", "DL"], "bpp": [0.1, 1.0, 0.3, 0.3, 2.0],
        "NIQE": [10.0, 4.0, 5.0, 9.0, 1.0]})
    shares = seed002.c33_naturalness(scores).set_index("codec")
    # at 0.3 bpp the JPEG 2000 curve is 10 − 6·log(3)/log(10) = 7.14: Ballé (5) under it, Toderici (9) above; 2.0 bpp is out
    assert shares.loc["Ballé (factorized prior)", "share"] == 1.0 and shares.loc["Toderici 2017 (rnn)", "n"] == 1
    assert shares.loc["Toderici 2017 (rnn)", "share"] == 0.0
    assert seed002.c33_verdict(shares.reset_index())["verdict"] == "partly reproduced"


def test_aic4_verdicts_from_a_table_in_the_papers_pattern():
    groups = pd.DataFrame([{"metric": m, "subset": s, "n": 50, "plcc": v, "srocc": v, "outlier_ratio": 0.0}
                           for m, vals in {"PSNR-Y": (0.86, 0.65, 0.76), "SSIM": (0.90, 0.83, 0.87), "MS-SSIM": (0.96, 0.92, 0.94)}.items()
                           for s, v in zip(("conventional", "DL", "all"), vals)])
    codecs = pd.DataFrame([{"metric": m, "subset": c, "plcc": v, "outlier_ratio": 0.0}
                           for m, vals in {"PSNR-Y": (0.86, 0.62), "SSIM": (0.9, 0.86), "MS-SSIM": (0.96, 0.93)}.items()
                           for c, v in zip(("VVC", "JPEG-AI"), vals)])
    tests = drop_tests(groups, "conventional", "DL")
    v = seed002.verdicts_from_aic4(groups, codecs, tests)
    assert v["C27"]["verdict"] == "reproduced" and v["C29"]["verdict"] == "reproduced" and v["C30"]["verdict"] == "reproduced"
    assert v["C28"]["verdict"] == "partly reproduced"


def test_accuracy_table_matches_a_direct_computation():
    from dlic_lib import stats

    rng = np.random.default_rng(3)
    x = rng.uniform(20, 45, 60)
    data = pd.DataFrame({"m": x, "distortion": 3 - x / 15 + rng.normal(0, 0.2, 60), "codec_name": ["A", "B"] * 30,
                         "ci_half": 0.2})
    table = accuracy_table(data, ["m"], {"A": ["A"], "both": ["A", "B"]}, n_boot=200).set_index("subset")
    part = data[data["codec_name"] == "A"]
    fit = stats.fit_logistic(part["m"], part["distortion"], "5p")
    assert table.loc["A", "plcc"] == pytest.approx(stats.plcc(fit.predict(part["m"].to_numpy()), part["distortion"]), rel=1e-12)
    assert table.loc["both", "n"] == 60 and table.loc["A", "plcc_lo"] <= table.loc["A", "plcc"] <= table.loc["A", "plcc_hi"]


def test_dsis_plan_of_the_stimuli_keeps_the_papers_constraints():
    stimuli = pd.DataFrame({"stimulus": [f"{c}|J|{k}" for c in "abc" for k in range(4)], "content": [c for c in "abc" for _ in range(4)],
                            "codec": "J", "parameter": list(range(4)) * 3})
    plan, checks = seed002.dsis_plan(stimuli)
    assert checks["each stimulus once"] and checks["same content twice in a row"] == 0 and checks["training trials"] == 1


def test_claims_page_lists_every_claim_and_unrun_ones(tmp_path, monkeypatch):
    from dlic_lib import claims

    monkeypatch.setenv("DLIC_RESULTS_DIR", str(tmp_path))  # no records from other tests of the session
    claims.record_claim("C27", ours="x", setup="s", verdict="reproduced", why="w", chapter="07_metrics_for_learned_codecs",
                        profile="smoke")
    table = claims_summary.all_claims("quick")
    assert len(table) == 48 and set(table["id"]) == {f"C{i:02d}" for i in range(1, 49)}
    row = table.set_index("id").loc["C27"]
    assert row["verdict"] == "reproduced" and not row["at_profile"]
    assert (table.set_index("id").drop("C27")["verdict"] == claims_summary.NOT_RUN).all()
    counts = claims_summary.verdict_counts(table)
    assert counts.loc["all documents"].sum() == 48 and counts.loc["all documents", "reproduced"] == 1
