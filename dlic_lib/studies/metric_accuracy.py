"""How well objective metrics predict subjective scores, per codec and per group of codecs.

The layout of seed 002's Tables I–II (and seed 000's Tables 6–7): per subset of stimuli, a logistic
mapping of each metric onto the subjective scale, then PLCC (with a percentile-bootstrap CI), |SROCC|
(with its CI), RMSE and the outlier ratio (|score − prediction| > the 95 % CI half-width, ITU-T
P.1401); and one-sided Fisher-z tests of the drop in correlation from one group to another.
Chapters 1 and 7 both call these functions on the JPEG AIC-4 data (:func:`aic4_table`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import stats
from ..errors import DlicError

__all__ = ["AIC4_METRICS", "aic4_table", "accuracy_table", "drop_tests"]

#: the metric columns of the AIC-4 release that this book analyses
AIC4_METRICS = ("PSNR-Y", "SSIM", "MS-SSIM", "IW-SSIM", "VMAF-neg", "SSIMULACRA2", "CVVDP")
_CODEC_NAME = re.compile(r"PTC_\d+_(.+)_\d+\.png$")


def aic4_table(paths: Mapping[str, Path]) -> pd.DataFrame:
    """The JPEG AIC-4 metric scores joined with their JND scores and 95 % CIs.

    ``paths`` maps the release's file names to local files (``ResolvedDataset.paths``). Adds
    ``codec_name`` (from the distorted file's name) and ``ci_half = (CI_max − CI_min)/2``.
    """
    scores = pd.read_csv(paths["JPEG-AIC_metric_scores.csv"])
    names = scores["img_distorted"].map(lambda s: (m := _CODEC_NAME.match(str(s))) and m.group(1))
    if names.isna().any():
        bad = scores.loc[names.isna(), "img_distorted"].head(3).tolist()
        raise DlicError(f"unexpected AIC-4 file names (no codec in them): {bad}")
    scores["codec_name"] = names
    ci_file = paths.get("JPEG_AIC_reconstructed_jnd_scores.csv")
    if ci_file is not None:
        ci = pd.read_csv(ci_file)[["img_distorted", "CI_min", "CI_max"]]
        scores = scores.merge(ci, on="img_distorted", how="left", validate="one_to_one")
        scores["ci_half"] = (scores["CI_max"] - scores["CI_min"]) / 2.0
    return scores


def accuracy_table(
    data: pd.DataFrame,
    metrics: Sequence[str],
    subsets: Mapping[str, Sequence[str]],
    *,
    target: str = "distortion",
    codec_column: str = "codec_name",
    ci_half: str | None = "ci_half",
    logistic: str = "5p",
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per metric and named subset of codecs: ``n, plcc, plcc_lo, plcc_hi, srocc, srocc_lo, srocc_hi, rmse,
    outlier_ratio`` (PLCC/RMSE/OR after a ``logistic`` fit in that subset; |SROCC| on the raw metric;
    percentile-bootstrap 95 % CIs from ``n_boot`` resamples).
    """
    for col in (*metrics, target, codec_column):
        if col not in data.columns:
            raise DlicError(f"table has no column {col!r}")
    rows = []
    for metric in metrics:
        for name, members in subsets.items():
            part = data[data[codec_column].isin(list(members))].dropna(subset=[metric, target])
            if len(part) < 5:
                raise DlicError(f"subset {name!r} has {len(part)} stimuli with {metric}; at least 5 are needed")
            x, y = part[metric].to_numpy(float), part[target].to_numpy(float)
            r_s, lo_s, hi_s = stats.bootstrap_ci(x, y, "srocc", n_resamples=n_boot, seed=seed)
            fit = stats.fit_logistic(x, y, logistic)
            pred = fit.predict(x)
            r_p, lo_p, hi_p = stats.bootstrap_ci(pred, y, "plcc", n_resamples=n_boot, seed=seed)
            ratio = (stats.outlier_ratio(y, pred, part[ci_half].to_numpy(float))
                     if ci_half is not None and ci_half in part.columns else float("nan"))
            rows.append({"metric": metric, "subset": name, "n": len(part), "plcc": r_p, "plcc_lo": lo_p, "plcc_hi": hi_p,
                         "srocc": abs(r_s), "srocc_lo": min(abs(lo_s), abs(hi_s)), "srocc_hi": max(abs(lo_s), abs(hi_s)),
                         "rmse": stats.rmse(y, pred), "outlier_ratio": ratio, "logistic": fit.model})
    return pd.DataFrame(rows)


def drop_tests(performance: pd.DataFrame, reference: str, test: str, coefficients: Sequence[str] = ("plcc", "srocc")) -> pd.DataFrame:
    """One-sided Fisher-z tests (H1: the correlation on ``reference`` exceeds that on ``test``) per metric.

    Columns: ``metric, coefficient, reference, test, drop, z, p, significant (p<0.05)``. The test
    treats the two subsets as independent samples.
    """
    rows = []
    for metric, grp in performance.groupby("metric", sort=False):
        by_subset = grp.set_index("subset")
        for name in (reference, test):
            if name not in by_subset.index:
                raise DlicError(f"no subset {name!r} for metric {metric}")
        ref, tst = by_subset.loc[reference], by_subset.loc[test]
        for coef in coefficients:
            r1, r2 = float(np.clip(ref[coef], -0.999999, 0.999999)), float(np.clip(tst[coef], -0.999999, 0.999999))
            res = stats.fisher_z_test(r1, int(ref["n"]), r2, int(tst["n"]), alternative="greater")
            rows.append({"metric": metric, "coefficient": coef, "reference": ref[coef], "test": tst[coef],
                         "drop": ref[coef] - tst[coef], "z": res.z, "p": res.p, "significant (p<0.05)": res.p < 0.05})
    return pd.DataFrame(rows)
