"""Bjøntegaard deltas: hand-computed cases, the `bjontegaard` package, seed 004's mean/SD convention."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dlic_lib
from dlic_lib import rd
from dlic_lib.errors import DlicError

PUBLISHED = Path(dlic_lib.__file__).parent / "reference" / "published"


def _curve(rng: np.random.Generator, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A realistic concave PSNR-rate curve with 4–8 points."""
    n = int(rng.integers(4, 9))
    rates = np.sort(rng.uniform(0.05, 2.0, n)) * (1 + shift)
    psnr = 24 + 4.5 * np.log2(rates / 0.05) ** 0.9 + rng.normal(0, 0.05, n).cumsum() * 0.1
    return rates, np.maximum.accumulate(psnr) + np.arange(n) * 1e-3


# ---------------------------------------------------------------- hand-computed


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_rate_scaling_gives_exact_bd(method):
    # PSNR = a + b·ln(rate); the test codec reaches each PSNR at 90 % of the rate:
    # BD-rate = −10 % exactly, BD-PSNR = b·ln(10/9) exactly (both methods reproduce a line)
    rates = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
    psnr = 30 + 4.0 * np.log(rates)
    anchor = pd.DataFrame({"bpp": rates, "psnr_y": psnr})
    test = pd.DataFrame({"bpp": 0.9 * rates, "psnr_y": psnr})
    assert rd.bd_rate(anchor, test, metric="psnr_y", method=method) == pytest.approx(-10.0, abs=1e-9)
    assert rd.bd_quality(anchor, test, metric="psnr_y", method=method) == pytest.approx(4.0 * math.log(10 / 9), abs=1e-9)


def test_cubic_bd_rate_hand_computed_on_cubic_curves():
    # anchor: ln r = c(q) cubic; test: ln r = c(q) + α + β·q. The VCEG-M33 cubic fits both exactly,
    # so BD-rate = exp(α + β·(q_lo + q_hi)/2) − 1 over the common quality range.
    q_a = np.array([30.0, 33.0, 36.0, 39.0, 42.0])
    q_t = np.array([31.0, 34.0, 37.0, 40.0, 43.0])
    c = lambda q: -9.0 + 0.12 * q + 0.002 * (q - 36) ** 2 + 1e-4 * (q - 36) ** 3  # noqa: E731
    alpha, beta = 0.3, -0.012
    r_a, r_t = np.exp(c(q_a)), np.exp(c(q_t) + alpha + beta * q_t)
    expect = (math.exp(alpha + beta * (31.0 + 42.0) / 2) - 1) * 100
    assert rd.bd_rate((r_a, q_a), (r_t, q_t), method="cubic") == pytest.approx(expect, abs=1e-8)


# ---------------------------------------------------------------- reference package


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_matches_bjontegaard_package(method):
    bjontegaard = pytest.importorskip("bjontegaard")
    rng = np.random.default_rng(2024)
    compared = 0
    for _ in range(25):
        ra, qa = _curve(rng)
        rt, qt = _curve(rng, shift=rng.uniform(-0.3, 0.3))
        kw = {"method": method, "min_overlap": 0, "require_matching_points": False}
        ours = rd.bd_rate((ra, qa), (rt, qt), method=method)
        assert ours == pytest.approx(bjontegaard.bd_rate(ra, qa, rt, qt, **kw), rel=1e-9, abs=1e-9)
        ref_q = bjontegaard.bd_psnr(ra, qa, rt, qt, **kw)
        assert rd.bd_quality((ra, qa), (rt, qt), method=method) == pytest.approx(ref_q, rel=1e-9, abs=1e-9)
        compared += 1
    assert compared == 25


def test_points_in_any_order_and_gain_signs():
    rates = np.array([0.8, 0.1, 0.4, 0.2])
    psnr = np.array([38.0, 29.0, 35.0, 32.0])
    better = (rates * 0.8, psnr + 0.0)
    assert rd.bd_rate((rates, psnr), better) < 0  # saving
    assert rd.bd_quality((rates, psnr), better) > 0  # gain
    assert rd.bd_rate(better, (rates, psnr)) > 0


# ---------------------------------------------------------------- bad curves


@pytest.mark.parametrize(
    "anchor, test, kwargs, error, match",
    [
        (([0.1, 0.2, 0.4], [30, 32, 34]), ([0.1, 0.2, 0.4, 0.8], [30, 32, 34, 36]), {}, rd.RDCurveError, "at least 4"),
        (([0.1, 0.2, 0.4, 0.8], [30, 33, 32, 36]), ([0.1, 0.2, 0.4, 0.8], [30, 32, 34, 36]), {}, rd.NonMonotoneCurveError, "not monotone"),
        (([0.1, 0.2, 0.4, 0.8], [30, 33, 32, 36]), ([0.1, 0.2, 0.4, 0.8], [30, 32, 34, 36]),
         {"method": "pchip", "check_monotone": False}, rd.NonMonotoneCurveError, "not monotone"),
        (([0.1, 0.2, 0.4, 0.8], [20, 22, 24, 26]), ([0.1, 0.2, 0.4, 0.8], [30, 32, 34, 36]), {}, rd.NoOverlapError, "do not overlap"),
        (([0, 0.2, 0.4, 0.8], [30, 32, 34, 36]), ([0.1, 0.2, 0.4, 0.8], [30, 32, 34, 36]), {}, rd.RDCurveError, "non-positive"),
        (([0.1, 0.2, 0.4, 0.8], [30, np.nan, 34, 36]), ([0.1, 0.2, 0.4, 0.8], [30, 32, 34, 36]), {}, rd.RDCurveError, "missing"),
        (([0.1, 0.2, 0.4, 0.8], [30, 32, 34, 36]), ([0.1, 0.2, 0.4, 0.8], [30, 32, 34, 36]), {"method": "akima"}, DlicError, "unknown"),
    ],
)
def test_bad_curves_raise_specific_errors(anchor, test, kwargs, error, match):
    with pytest.raises(error, match=match):
        rd.bd_rate(anchor, test, **kwargs)


def test_non_monotone_cubic_allowed_on_request():
    a = ([0.1, 0.2, 0.4, 0.8], [30, 33, 32.9, 36])
    t = ([0.1, 0.2, 0.4, 0.8], [30.5, 33, 34, 36.5])
    assert np.isfinite(rd.bd_rate(a, t, check_monotone=False))


def test_rate_range_overlap_for_bd_quality():
    a = ([0.1, 0.2, 0.3, 0.4], [30, 32, 34, 36])
    t = ([1.0, 2.0, 3.0, 4.0], [31, 33, 35, 37])
    with pytest.raises(rd.NoOverlapError, match="rate ranges"):
        rd.bd_quality(a, t)


# ---------------------------------------------------------------- per-image tables


def test_bd_table_reports_failures_as_nan_rows():
    rows = []
    for image, scale in (("kodim01", 0.9), ("kodim02", 0.8)):
        for r in (0.1, 0.2, 0.4, 0.8):
            rows.append({"image": image, "codec": "anchor", "bpp": r, "psnr": 30 + 4 * np.log(r)})
            rows.append({"image": image, "codec": "new", "bpp": scale * r, "psnr": 30 + 4 * np.log(r)})
    rows.append({"image": "kodim03", "codec": "anchor", "bpp": 0.1, "psnr": 30.0})
    rows.append({"image": "kodim03", "codec": "new", "bpp": 0.1, "psnr": 31.0})
    table = rd.bd_table(pd.DataFrame(rows), anchor="anchor", metrics=["psnr"], method="pchip")
    assert table["bd_rate"].iloc[:2].round(9).tolist() == [-10.0, -20.0]
    assert math.isnan(table["bd_rate"].iloc[2]) and "at least 4" in table["status"].iloc[2]
    summary = rd.summarize_bd(table)
    assert summary.loc[0, "n"] == 2 and summary.loc[0, "n_failed"] == 1
    assert summary.loc[0, "mean"] == pytest.approx(-15.0) and summary.loc[0, "sd"] == pytest.approx(5.0)  # population
    assert rd.summarize_bd(table, ddof=1).loc[0, "sd"] == pytest.approx(5.0 * math.sqrt(2))
    with pytest.raises(DlicError, match="anchor codec"):
        rd.bd_table(pd.DataFrame(rows), anchor="jpeg", metrics=["psnr"])


def test_seed004_table2_is_mean_and_population_sd_of_table1():
    per_image = pd.read_csv(PUBLISHED / "seed004_table1_kodak_bdrate.csv")
    means = pd.read_csv(PUBLISHED / "seed004_table2_mean_bdrate.csv")
    names = {"ssim_p": "BLS SSIM_p", "msssim_p": "BLS MS-SSIM_p", "vmaf_p": "BLS VMAF_p"}
    table = per_image.assign(codec=per_image["target"].map(names), metric=per_image["bd_metric"])
    summary = rd.summarize_bd(table, value="value_pct", by=("codec", "metric"))
    merged = summary.merge(means.query("dataset == 'Kodak'"), left_on=["codec", "metric"],
                           right_on=["codec", "bd_metric"])
    assert len(merged) == 12 and (merged["n"] == 24).all()
    assert np.abs(merged["mean"] - merged["mean_pct"]).max() <= 0.02
    assert np.abs(merged["sd"] - merged["sd_pct"]).max() <= 0.06  # population SD, as printed
    sample = rd.summarize_bd(table, value="value_pct", by=("codec", "metric"), ddof=1)
    assert np.abs(sample["sd"].to_numpy() - summary["sd"].to_numpy()).max() > 0.06  # the sample SD is not it
