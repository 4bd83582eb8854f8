"""Significance of correlation differences (Fisher z) and percentile bootstrap confidence intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from ..errors import DlicError
from .correlation import _pair, plcc, srocc

__all__ = ["FisherZResult", "fisher_z_test", "bootstrap_ci"]


@dataclass(frozen=True)
class FisherZResult:
    """Fisher-z test result: ``z`` statistic and ``p`` value for the stated ``alternative``."""

    z: float
    p: float
    alternative: str


def fisher_z_test(r1: float, n1: int, r2: float, n2: int, alternative: str = "greater") -> FisherZResult:
    """Test whether two correlations from independent samples differ (Fisher's z transform).

    ``z = (atanh r1 − atanh r2) / √(1/(n1 − 3) + 1/(n2 − 3))``. ``alternative``: ``"greater"``
    (one-sided, H1: ρ1 > ρ2), ``"less"`` (one-sided, H1: ρ1 < ρ2) or ``"two-sided"``.
    """
    for r in (r1, r2):
        if not -1 < r < 1:
            raise DlicError(f"a correlation must lie strictly between -1 and 1, not {r}")
    for n in (n1, n2):
        if int(n) != n or n < 4:
            raise DlicError(f"a Fisher-z test needs sample sizes of at least 4, not {n}")
    se = math.sqrt(1.0 / (n1 - 3) + 1.0 / (n2 - 3))
    z = (math.atanh(r1) - math.atanh(r2)) / se
    if alternative == "greater":
        p = float(sps.norm.sf(z))
    elif alternative == "less":
        p = float(sps.norm.cdf(z))
    elif alternative == "two-sided":
        p = float(2 * sps.norm.sf(abs(z)))
    else:
        raise DlicError(f"alternative must be 'greater', 'less' or 'two-sided', not {alternative!r}")
    return FisherZResult(float(z), p, alternative)


def _rank(a: np.ndarray) -> np.ndarray:
    return sps.rankdata(a, axis=-1)


def _row_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    den = np.sqrt((xc**2).sum(axis=-1) * (yc**2).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (xc * yc).sum(axis=-1) / np.where(den > 0, den, 1.0), np.nan)


def bootstrap_ci(
    x,
    y,
    statistic: str = "plcc",
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap CI of ``plcc`` or ``srocc`` between paired samples.

    Pairs are resampled with replacement; resamples with an undefined correlation (constant) are
    dropped. Returns ``(estimate, low, high)``. For a PLCC after logistic mapping, pass the mapped
    predictions as ``x``.
    """
    a, b = _pair(x, y)
    if a.size < 3:
        raise DlicError("a bootstrap confidence interval needs at least 3 pairs")
    if statistic not in {"plcc", "srocc"}:
        raise DlicError(f"bootstrap statistic must be 'plcc' or 'srocc', not {statistic!r}")
    if not 0 < confidence < 1:
        raise DlicError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    if n_resamples < 100:
        raise DlicError("use at least 100 bootstrap resamples")
    est = plcc(a, b) if statistic == "plcc" else srocc(a, b)
    rng = np.random.default_rng(seed)
    values = []
    chunk = max(1, min(n_resamples, 2_000_000 // a.size))
    done = 0
    while done < n_resamples:
        m = min(chunk, n_resamples - done)
        idx = rng.integers(0, a.size, size=(m, a.size))
        xa, yb = a[idx], b[idx]
        if statistic == "srocc":
            xa, yb = _rank(xa), _rank(yb)
        values.append(_row_pearson(xa, yb))
        done += m
    vals = np.concatenate(values)
    vals = vals[np.isfinite(vals)]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(vals, [alpha, 1 - alpha])
    return float(est), float(low), float(high)
