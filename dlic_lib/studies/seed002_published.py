"""Checks of seed 002's published tables (Valenzise et al. 2018, Tables I–II) that need no MOS data.

* :func:`implied_group_sizes` — the stimulus counts that the outlier ratios (multiples of 1/n, printed
  with two decimals) allow per codec;
* :func:`implied_mos_spread` — at a least-squares logistic fit with a free affine output,
  ``RMSE = σ_pop(MOS)·√(1 − PLCC²)``, so ``RMSE/√(1 − PLCC²)`` must be the same for the nine metrics
  of one subset; a row that departs from its subset's median is a probable typo;
* :func:`published_drop_tests` — Fisher-z tests of the drop in correlation from the conventional to
  the DL group, from the published coefficients and group sizes, one- and two-sided, for PLCC and SROCC
  (SROCC with the Fieller variance 1.06/(n − 3));
* :func:`published_table_claims` — C27–C30 read from the tables.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.stats as sps

from ..claims import published_table
from ..stats import fisher_z_test

__all__ = ["METRICS", "CODECS", "table1", "table2", "implied_group_sizes", "implied_mos_spread", "published_drop_tests",
           "srocc_z_test", "published_table_claims", "SIGNIFICANCE_STATEMENT"]

#: the nine full-reference metrics of Tables I–II, in the paper's order
METRICS = ("PSNR", "SSIM", "MS-SSIM", "VSNR", "VIF", "UQI", "IFC", "NQM", "WSNR")
CODECS = ("JPEG2000", "BPG", "Balle2017", "Toderici2017")
#: §IV-A: the PLCC drop from conventional to DL is significant (p < 0.05) for all metrics but these
SIGNIFICANCE_STATEMENT = frozenset({"SSIM", "VIF", "UQI", "IFC"})


def table1() -> pd.DataFrame:
    """Table I: ``metric, codec, plcc, srocc, rmse, or`` (36 rows)."""
    return published_table("seed002_table1")


def table2() -> pd.DataFrame:
    """Table II: ``metric, group (conventional, dl, all), plcc, srocc, rmse`` (27 rows)."""
    return published_table("seed002_table2")


def implied_group_sizes(t1: pd.DataFrame | None = None, candidates: range = range(10, 61)) -> pd.DataFrame:
    """Per codec, the stimulus counts ``n`` for which every printed outlier ratio equals ``round(k/n, 2)``.

    Columns: ``codec, sizes`` (list of every consistent n), ``misfits`` (for the smallest-residual n
    when none fits all rows: the metrics whose ratio fits no k/n).
    """
    t1 = table1() if t1 is None else t1
    rows = []
    for codec, part in t1.groupby("codec", sort=False):
        ratios = part["or"].to_numpy(float)
        fits = {n: [m for m, r in zip(part["metric"], ratios) if abs(round(round(r * n) / n, 2) - r) > 1e-9]
                for n in candidates}
        sizes = [n for n, bad in fits.items() if not bad]
        best = min(fits, key=lambda n: (len(fits[n]), n != 30))
        rows.append({"codec": codec, "sizes": sizes, "closest": best, "misfits": [] if sizes else fits[best]})
    return pd.DataFrame(rows)


def implied_mos_spread(t1: pd.DataFrame | None = None, t2: pd.DataFrame | None = None, tolerance: float = 0.012) -> pd.DataFrame:
    """``σ = RMSE/√(1 − PLCC²)`` per row of Tables I and II, with the subset median and outlying rows.

    Columns: ``table, subset, metric, plcc, rmse, sigma, subset_median, rel_dev, off`` (``off``:
    ``|σ/median − 1| > tolerance``).
    """
    t1 = table1() if t1 is None else t1
    t2 = table2() if t2 is None else t2
    parts = [t1.assign(table="I", subset=t1["codec"]), t2.assign(table="II", subset=t2["group"])]
    frame = pd.concat(parts, ignore_index=True)[["table", "subset", "metric", "plcc", "rmse"]]
    frame["sigma"] = frame["rmse"] / np.sqrt(1.0 - frame["plcc"] ** 2)
    frame["subset_median"] = frame.groupby(["table", "subset"])["sigma"].transform("median")
    frame["rel_dev"] = frame["sigma"] / frame["subset_median"] - 1.0
    frame["off"] = frame["rel_dev"].abs() > tolerance
    return frame


def srocc_z_test(r1: float, n1: int, r2: float, n2: int, alternative: str = "greater") -> tuple[float, float]:
    """Fisher-z test for two Spearman coefficients with the Fieller–Hartley–Pearson variance 1.06/(n − 3)."""
    z = (math.atanh(r1) - math.atanh(r2)) / math.sqrt(1.06 / (n1 - 3) + 1.06 / (n2 - 3))
    if alternative == "greater":
        return z, float(sps.norm.sf(z))
    return z, float(2 * sps.norm.sf(abs(z)))


def published_drop_tests(t2: pd.DataFrame | None = None, n_conventional: int = 60, n_dl: int = 53) -> pd.DataFrame:
    """Fisher-z tests of conventional > DL from the published Table II, per metric and coefficient.

    Columns: ``metric, coefficient, conventional, dl, drop, z, p_one_sided, p_two_sided,
    significant_one_sided, significant_two_sided, paper_says_significant``.
    """
    t2 = table2() if t2 is None else t2
    rows = []
    for metric in METRICS:
        part = t2[t2["metric"] == metric].set_index("group")
        for coef in ("plcc", "srocc"):
            r1, r2 = float(part.loc["conventional", coef]), float(part.loc["dl", coef])
            if coef == "plcc":
                one = fisher_z_test(r1, n_conventional, r2, n_dl, "greater")
                two = fisher_z_test(r1, n_conventional, r2, n_dl, "two-sided")
                z, p1, p2 = one.z, one.p, two.p
            else:
                z, p1 = srocc_z_test(r1, n_conventional, r2, n_dl, "greater")
                p2 = srocc_z_test(r1, n_conventional, r2, n_dl, "two-sided")[1]
            rows.append({"metric": metric, "coefficient": coef, "conventional": r1, "dl": r2, "drop": r1 - r2, "z": z,
                         "p_one_sided": p1, "p_two_sided": p2, "significant_one_sided": p1 < 0.05,
                         "significant_two_sided": p2 < 0.05,
                         "paper_says_significant": metric not in SIGNIFICANCE_STATEMENT})
    return pd.DataFrame(rows)


def published_table_claims(t1: pd.DataFrame | None = None, t2: pd.DataFrame | None = None) -> dict[str, dict]:
    """C27–C30 evaluated on the published tables: ``{claim: {"holds": bool, "detail": str}}``."""
    t1 = table1() if t1 is None else t1
    t2 = table2() if t2 is None else t2
    wide = t2.pivot(index="metric", columns="group", values="plcc")
    drops = (wide["conventional"] - wide["dl"]).sort_values(ascending=False)
    c27 = drops.index[0] == "PSNR"
    best = {g: wide[g].idxmax() for g in ("conventional", "dl", "all")}
    c28 = best == {"conventional": "MS-SSIM", "dl": "VIF", "all": "VIF"}
    per_codec_best = {c: t1[t1["codec"] == c].set_index("metric")["plcc"].idxmax() for c in CODECS}
    per_codec_worst = {c: t1[t1["codec"] == c].set_index("metric")["plcc"].idxmin() for c in ("Balle2017", "Toderici2017")}
    c29 = per_codec_best == {"JPEG2000": "MS-SSIM", "BPG": "MS-SSIM", "Balle2017": "MS-SSIM", "Toderici2017": "IFC"} and \
        set(per_codec_worst.values()) == {"PSNR"}
    ms_or = t1[t1["metric"] == "MS-SSIM"]["or"]
    c30 = bool((ms_or == 0).all())
    return {
        "C27": {"holds": bool(c27), "detail": f"largest PLCC drop: {drops.index[0]} {drops.iloc[0]:.3f} "
                                              f"(next {drops.index[1]} {drops.iloc[1]:.3f})"},
        "C28": {"holds": bool(c28), "detail": "best PLCC: " + ", ".join(f"{g} {m}" for g, m in best.items())},
        "C29": {"holds": bool(c29), "detail": "best per codec: " + ", ".join(f"{c} {m}" for c, m in per_codec_best.items())
                + "; worst for DL: " + ", ".join(f"{c} {m}" for c, m in per_codec_worst.items())},
        "C30": {"holds": c30, "detail": "MS-SSIM outlier ratios: " + ", ".join(f"{v:.2f}" for v in ms_or)},
    }
