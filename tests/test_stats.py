"""Logistic mappings, correlations, outlier ratio, Fisher-z and bootstrap, against references.

References: the T-Labs authors' own correlations (``correlations.csv``), seed 002 Table II and its
significance statement, scipy's least-squares and bootstrap as independent implementations.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy import stats as sps

from dlic_lib import stats
from dlic_lib.errors import DlicError


@pytest.fixture(scope="module")
def tlabs(mirror_dir) -> pd.DataFrame:
    base = mirror_dir / "tlabs-image-quality"
    mos = pd.read_csv(base / "mos_ci.csv")
    metrics = pd.read_csv(base / "objective_metrics.csv").rename(columns={"image": "image_name"})
    return mos.merge(metrics, on="image_name")


@pytest.fixture(scope="module")
def table2() -> pd.DataFrame:
    from pathlib import Path

    import dlic_lib

    return pd.read_csv(Path(dlic_lib.__file__).parent / "reference" / "published" / "seed002_table2.csv")


# ---------------------------------------------------------------- correlations


def test_correlations_reproduce_tlabs_published(tlabs, mirror_dir):
    published = pd.read_csv(mirror_dir / "tlabs-image-quality" / "correlations.csv")
    assert len(published) == 9
    for row in published.itertuples():
        x, y = tlabs[row.metric], tlabs["mos"]
        assert stats.plcc(x, y) == pytest.approx(row.pearson, abs=1e-12)
        assert stats.srocc(x, y) == pytest.approx(row.spearman, abs=1e-12)
        assert stats.krocc(x, y) == pytest.approx(row.kendall, abs=1e-12)


def test_rmse_and_outlier_ratio_by_hand():
    mos = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.5, 2.0, 2.0, 4.1])
    ci = np.array([0.4, 0.1, 1.0, 0.2])  # 95 % half-widths
    assert stats.rmse(mos, pred) == pytest.approx(math.sqrt((0.25 + 0 + 1 + 0.01) / 4))
    assert stats.outlier_ratio(mos, pred, ci) == 0.25  # only |1 - 1.5| > 0.4
    with pytest.raises(DlicError):
        stats.outlier_ratio(mos, pred, -ci)


def test_constant_metric_gives_nan_not_a_crash():
    mos = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 2.5])
    with pytest.warns(stats.LogisticFitWarning, match="constant"):
        res = stats.performance(np.full(6, 7.0), mos, ci_half=np.full(6, 0.5))
    assert math.isnan(res["plcc"]) and math.isnan(res["srocc"]) and math.isnan(res["krocc"])
    assert res["rmse"] == pytest.approx(np.std(mos))  # prediction = mean MOS
    assert res["logistic"] == "constant"


# ---------------------------------------------------------------- logistic fits


@pytest.mark.parametrize("model", ["5p", "4p"])
def test_logistic_fit_is_a_least_squares_optimum(tlabs, model):
    func = stats.logistic_5p if model == "5p" else stats.logistic_4p
    for metric in ("psnr", "ssim", "vmaf", "vif_scale2") if model == "5p" else ("psnr",):
        x, y = tlabs[metric].to_numpy(), tlabs["mos"].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("error", stats.LogisticFitWarning)
            fit = stats.fit_logistic(x, y, model)
        assert fit.converged and fit.model == model
        sse = np.sum((fit.predict(x) - y) ** 2)
        # an independent optimiser (trust-region reflective) started from our optimum finds no better
        ref = optimize.least_squares(lambda p: func(x, *p) - y, fit.params, method="trf", xtol=1e-14, ftol=1e-14)
        assert sse <= 2 * ref.cost * (1 + 1e-5) + 1e-9
        assert stats.plcc(fit.predict(x), y) >= stats.plcc(x, y) - 1e-9  # never worse than linear


def test_logistic_5p_recovers_known_parameters():
    rng = np.random.default_rng(0)
    x = np.linspace(20, 45, 80)
    true = (4.0, 0.35, 32.0, 0.02, 2.4)
    y = stats.logistic_5p(x, *true) + rng.normal(0, 0.02, x.size)
    fit = stats.fit_logistic(x, y, "5p")  # seed 000's start: β1=10, β2=0, β3=mean, β4=1, β5=0.1
    np.testing.assert_allclose(fit.predict(x), stats.logistic_5p(x, *true), atol=0.03)


def test_logistic_non_convergence_falls_back_to_linear_with_a_warning():
    x = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    y = np.array([1.0, 3.0, 2.0, 4.0, 3.0, 5.0, 4.0])
    with pytest.warns(stats.LogisticFitWarning, match="did not converge|failed"):
        fit = stats.fit_logistic(x, y, "4p", maxfev=1)
    assert not fit.converged and np.all(np.isfinite(fit.predict(x)))
    with pytest.warns(stats.LogisticFitWarning, match="using a linear mapping"):
        fit = stats.fit_logistic(x[:4], y[:4], "5p")  # 4 points cannot fix 5 parameters
    assert fit.model == "linear" and not fit.converged
    np.testing.assert_allclose(fit.params, np.polyfit(x[:4], y[:4], 1))


def test_fit_rejects_bad_input():
    with pytest.raises(DlicError, match="unknown logistic"):
        stats.fit_logistic([1, 2, 3], [1, 2, 3], "3p")
    with pytest.raises(DlicError, match="finite"):
        stats.fit_logistic([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(DlicError, match="length"):
        stats.fit_logistic([1, 2, 3], [1, 2])


# ---------------------------------------------------------------- per-subset table


@pytest.mark.filterwarnings("ignore::dlic_lib.stats.LogisticFitWarning")
def test_performance_table_per_codec_and_group(mirror_dir):
    base = mirror_dir / "jpeg-aic4"
    jnd = pd.read_csv(base / "JPEG_AIC_reconstructed_jnd_scores.csv")
    met = pd.read_csv(base / "JPEG-AIC_metric_scores.csv")
    names = {1: "AVIF", 2: "JPEG", 3: "JPEG 2000", 4: "JPEG XL", 5: "VVC", 6: "JPEG AI"}
    data = jnd.merge(met[["img_distorted", "PSNR-Y", "MS-SSIM", "CVVDP"]], on="img_distorted")
    data["codec"] = data["codec"].map(names)
    data["ci"] = (data["CI_max"] - data["CI_min"]) / 2
    groups = {"conventional": ["AVIF", "JPEG", "JPEG 2000", "JPEG XL", "VVC"], "learned": ["JPEG AI"]}
    table = stats.performance_table(data, ["PSNR-Y", "MS-SSIM", "CVVDP"], mos="distortion", ci="ci",
                                    by="codec", groups=groups, logistic="4p")
    assert len(table) == 3 * (1 + 6 + 2)
    assert set(table.columns) >= {"metric", "subset_by", "subset", "n", "plcc", "srocc", "krocc", "rmse", "outlier_ratio"}
    row = table.query("metric == 'PSNR-Y' and subset == 'JPEG AI'").iloc[0]
    part = data[data["codec"] == "JPEG AI"]
    assert row["n"] == 50
    fit = stats.fit_logistic(part["PSNR-Y"], part["distortion"], "4p")
    assert row["plcc"] == pytest.approx(sps.pearsonr(fit.predict(part["PSNR-Y"]), part["distortion"]).statistic)
    assert row["srocc"] == pytest.approx(sps.spearmanr(part["PSNR-Y"], part["distortion"]).statistic)
    # distortion (JND) falls as PSNR rises: a strong negative rank correlation
    assert table.query("metric == 'PSNR-Y' and subset == 'all'")["srocc"].iloc[0] < -0.8
    assert table.query("subset == 'learned'")["n"].eq(50).all()
    assert table.query("subset == 'conventional'")["n"].eq(250).all()
    assert table["outlier_ratio"].between(0, 1).all()
    # a subset whose 4p fit stalls is flagged, not dropped
    assert table["converged"].dtype == bool and table["plcc"].notna().all()


# ---------------------------------------------------------------- Fisher z


def test_fisher_z_hand_computed():
    res = stats.fisher_z_test(0.858, 60, 0.652, 53)
    z = (math.atanh(0.858) - math.atanh(0.652)) / math.sqrt(1 / 57 + 1 / 50)
    assert res.z == pytest.approx(z, rel=1e-12)
    assert res.p == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)), rel=1e-12)
    two = stats.fisher_z_test(0.858, 60, 0.652, 53, alternative="two-sided")
    assert two.p == pytest.approx(2 * res.p)
    assert stats.fisher_z_test(0.652, 53, 0.858, 60, alternative="less").p == pytest.approx(res.p)


def test_fisher_z_reproduces_seed002_significance(table2):
    """Seed 002: the PCC drop from conventional (n=60) to DL codecs (n=53) is significant
    (p < 0.05) for every metric except SSIM, VIF, UQI and IFC."""
    wide = table2.pivot(index="metric", columns="group", values="plcc").astype(float)
    p = {m: stats.fisher_z_test(r["conventional"], 60, r["dl"], 53).p for m, r in wide.iterrows()}
    significant = {m for m, v in p.items() if v < 0.05}
    assert significant == {"PSNR", "MS-SSIM", "VSNR", "NQM", "WSNR"}
    assert p["PSNR"] < 0.005  # 0.858 vs 0.652
    assert 0.05 < p["SSIM"] < 0.07  # 0.902 vs 0.829: not significant, one-sided


@pytest.mark.parametrize("args", [(1.0, 60, 0.5, 50), (0.5, 3, 0.4, 50), (0.5, 60, 0.4, 50.5)])
def test_fisher_z_rejects_bad_input(args):
    with pytest.raises(DlicError):
        stats.fisher_z_test(*args)


# ---------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("statistic", ["plcc", "srocc"])
def test_bootstrap_ci_agrees_with_scipy(tlabs, statistic):
    sub = tlabs.sample(120, random_state=1)
    x, y = sub["psnr"].to_numpy(), sub["mos"].to_numpy()
    est, lo, hi = stats.bootstrap_ci(x, y, statistic, n_resamples=4000, seed=5)
    func = (lambda a, b: sps.pearsonr(a, b).statistic) if statistic == "plcc" else (lambda a, b: sps.spearmanr(a, b).statistic)
    ref = sps.bootstrap((x, y), func, paired=True, vectorized=False, n_resamples=4000, method="percentile",
                        random_state=np.random.default_rng(11)).confidence_interval
    assert lo < est < hi
    assert lo == pytest.approx(ref.low, abs=0.015) and hi == pytest.approx(ref.high, abs=0.015)
    assert stats.bootstrap_ci(x, y, statistic, n_resamples=500, seed=2) == stats.bootstrap_ci(
        x, y, statistic, n_resamples=500, seed=2)


def test_bootstrap_rejects_bad_input():
    with pytest.raises(DlicError):
        stats.bootstrap_ci([1, 2], [1, 2])
    with pytest.raises(DlicError):
        stats.bootstrap_ci([1, 2, 3, 4], [1, 3, 2, 4], "rmse")


def test_4p_on_unsaturated_data_warns_and_still_beats_a_line(tlabs):
    # VMAF vs MOS never saturates, so the 4p asymptote runs off: a warning, never a crash
    x, y = tlabs["vmaf"].to_numpy(), tlabs["mos"].to_numpy()
    with pytest.warns(stats.LogisticFitWarning, match="did not converge"):
        fit = stats.fit_logistic(x, y, "4p", maxfev=2000)
    assert not fit.converged and fit.model == "4p"
    line = np.polyval(np.polyfit(x, y, 1), x)
    assert np.sum((fit.predict(x) - y) ** 2) < np.sum((line - y) ** 2)


def test_outlier_ratio_skips_missing_ci():
    mos, pred = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 3.5])
    assert stats.outlier_ratio(mos, pred, np.array([np.nan, 0.1, 0.1])) == 0.5
    assert math.isnan(stats.outlier_ratio(mos, pred, np.full(3, np.nan)))
