"""Performance of a metric against MOS: PLCC, SROCC, KROCC, RMSE, outlier ratio, and tables of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import DlicError
from .logistic import fit_logistic

__all__ = ["plcc", "srocc", "krocc", "rmse", "outlier_ratio", "performance", "performance_table"]


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    if x.shape != y.shape:
        raise DlicError(f"the two samples differ in length ({x.size} vs {y.size})")
    return x, y


def _constant(x: np.ndarray) -> bool:
    return x.size < 2 or bool(np.ptp(x) == 0)


def plcc(a, b) -> float:
    """Pearson linear correlation; NaN when either sample is constant or shorter than 2."""
    x, y = _pair(a, b)
    if _constant(x) or _constant(y):
        return float("nan")
    return float(sps.pearsonr(x, y).statistic)


def srocc(a, b) -> float:
    """Spearman rank-order correlation (average ranks for ties); NaN for constant samples."""
    x, y = _pair(a, b)
    if _constant(x) or _constant(y):
        return float("nan")
    return float(sps.spearmanr(x, y).statistic)


def krocc(a, b) -> float:
    """Kendall rank-order correlation τ-b; NaN for constant samples."""
    x, y = _pair(a, b)
    if _constant(x) or _constant(y):
        return float("nan")
    return float(sps.kendalltau(x, y).statistic)


def rmse(mos, predicted) -> float:
    """Root-mean-square error ``√(Σ(mos − predicted)²/N)``."""
    x, y = _pair(mos, predicted)
    return float(np.sqrt(np.mean((x - y) ** 2)))


def outlier_ratio(mos, predicted, ci_half) -> float:
    """ITU-T P.1401 outlier ratio: share of stimuli with ``|mos − predicted| > ci_half``.

    ``ci_half`` is each stimulus' 95 % confidence-interval *half-width* (e.g. ``1.96·σ/√N``).
    Stimuli whose CI is missing (NaN, e.g. left empty for unanimous votes) are left out of both
    counts; NaN when no stimulus has a CI.
    """
    x, y = _pair(mos, predicted)
    ci = np.broadcast_to(np.asarray(ci_half, dtype=float), x.shape)
    known = ~np.isnan(ci)
    if np.any(np.isinf(ci)) or np.any(ci[known] < 0):
        raise DlicError("confidence-interval half-widths must be finite and non-negative")
    if not known.any():
        return float("nan")
    return float(np.mean(np.abs(x - y)[known] > ci[known]))


def performance(metric, mos, ci_half=None, logistic: str | None = "5p") -> dict:
    """PLCC/SROCC/KROCC/RMSE/outlier ratio of a metric against MOS.

    PLCC, RMSE and the outlier ratio use the logistic-mapped metric (``logistic=None``: raw
    metric); SROCC and KROCC are invariant to the monotone mapping and use the raw metric. The
    outlier ratio is NaN without ``ci_half``.
    """
    x, y = _pair(metric, mos)
    if logistic is None:
        fit = None
        pred = x
    else:
        fit = fit_logistic(x, y, logistic)
        pred = fit.predict(x)
    return {
        "n": int(x.size),
        "plcc": plcc(pred, y),
        "srocc": srocc(x, y),
        "krocc": krocc(x, y),
        "rmse": rmse(y, pred),
        "outlier_ratio": outlier_ratio(y, pred, ci_half) if ci_half is not None else float("nan"),
        "logistic": "none" if fit is None else fit.model,
        "converged": True if fit is None else fit.converged,
    }


def performance_table(
    data: pd.DataFrame,
    metrics: Sequence[str],
    *,
    mos: str = "mos",
    ci: str | None = "ci",
    by: str | Sequence[str] | None = "codec",
    groups: Mapping[str, Sequence] | None = None,
    group_column: str | None = None,
    logistic: str | None = "5p",
) -> pd.DataFrame:
    """One tidy table of metric performance per subset.

    Subsets: ``all``; every value of each ``by`` column (``subset_by`` names the column); and each
    named group of ``groups`` (e.g. ``{"conventional": ["JPEG2000", "BPG"], "learned": [...]}``),
    matched on ``group_column`` (default: the first ``by`` column). The logistic is fitted
    separately in each subset (as seeds 000 and 002 report per-subset figures).

    Columns: ``metric, subset_by, subset, n, plcc, srocc, krocc, rmse, outlier_ratio, logistic,
    converged``. Rows with NaN metric or MOS are dropped per metric.
    """
    if mos not in data.columns:
        raise DlicError(f"table has no MOS column {mos!r}")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    for col in [*metrics, *by_cols]:
        if col not in data.columns:
            raise DlicError(f"table has no column {col!r}")
    use_ci = ci if ci is not None and ci in data.columns else None
    subsets: list[tuple[str, str, pd.Series]] = [("all", "all", pd.Series(True, index=data.index))]
    for col in by_cols:
        for value in pd.unique(data[col].dropna()):
            subsets.append((col, str(value), data[col] == value))
    if groups:
        gcol = group_column or (by_cols[0] if by_cols else None)
        if gcol is None or gcol not in data.columns:
            raise DlicError("groups need a group_column (or a by column) to match their members on")
        for name, members in groups.items():
            subsets.append(("group", str(name), data[gcol].isin(list(members))))
    rows = []
    for metric in metrics:
        values = pd.to_numeric(data[metric], errors="coerce")
        for subset_by, name, sel in subsets:
            ok = sel & values.notna() & data[mos].notna()
            part = data.loc[ok]
            if len(part) < 3:
                rows.append({"metric": metric, "subset_by": subset_by, "subset": name, "n": int(len(part)),
                             "plcc": np.nan, "srocc": np.nan, "krocc": np.nan, "rmse": np.nan,
                             "outlier_ratio": np.nan, "logistic": "none", "converged": False})
                continue
            res = performance(values[ok].to_numpy(float), part[mos].to_numpy(float),
                              part[use_ci].to_numpy(float) if use_ci else None, logistic)
            rows.append({"metric": metric, "subset_by": subset_by, "subset": name, **res})
    return pd.DataFrame(rows)
