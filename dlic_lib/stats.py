"""Metric–MOS statistics: logistic mappings, correlations, outlier ratio, significance, bootstrap.

Pure functions on arrays and DataFrames (no file I/O).

* Logistic mappings: seed 000's 5-parameter function (Farid et al.)
  ``f(x) = β1·(0.5 − 1/(1 + exp(β2·(x − β3)))) + β4·x + β5`` with initial values β1 = 10, β2 = 0,
  β3 = mean(x), β4 = 1, β5 = 0.1, and the VQEG 4-parameter function
  ``f(x) = (β1 − β2) / (1 + exp(−(x − β3)/|β4|)) + β2``. Both are fitted by Levenberg–Marquardt
  (``scipy.optimize.curve_fit(method="lm")``); when that fails, other starting points are tried,
  and as a last resort a straight line is fitted, with a :class:`LogisticFitWarning`.
* Performance: PLCC, SROCC, KROCC (τ-b), RMSE, and the ITU-T P.1401 outlier ratio (share of stimuli
  whose prediction error exceeds the stimulus' 95 % CI half-width).
* Fisher-z test of the difference of two independent correlations; percentile bootstrap CIs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps

from .errors import DlicError

__all__ = [
    "LogisticFitWarning",
    "logistic_5p",
    "logistic_4p",
    "LogisticFit",
    "fit_logistic",
    "plcc",
    "srocc",
    "krocc",
    "rmse",
    "outlier_ratio",
    "performance",
    "performance_table",
    "FisherZResult",
    "fisher_z_test",
    "bootstrap_ci",
]


class LogisticFitWarning(UserWarning):
    """The logistic fit did not converge and a fallback mapping was used."""


def logistic_5p(x, b1, b2, b3, b4, b5):
    """Seed 000 (eq. 6.1): ``β1·(0.5 − 1/(1 + exp(β2·(x − β3)))) + β4·x + β5``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore"):
        return b1 * (0.5 - 1.0 / (1.0 + np.exp(b2 * (x - b3)))) + b4 * x + b5


def logistic_4p(x, b1, b2, b3, b4):
    """VQEG 4-parameter logistic: ``(β1 − β2) / (1 + exp(−(x − β3)/|β4|)) + β2``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore"):
        return (b1 - b2) / (1.0 + np.exp(-(x - b3) / (np.abs(b4) + 1e-12))) + b2


_MODELS: dict[str, Callable] = {"5p": logistic_5p, "4p": logistic_4p}


@dataclass
class LogisticFit:
    """A fitted metric → MOS mapping.

    ``model``: ``"5p"``, ``"4p"``, ``"linear"`` (fallback) or ``"constant"`` (constant metric);
    ``params``: fitted coefficients; ``converged``: whether the requested logistic converged;
    ``message``: what happened (start values used, or why a fallback was taken).
    """

    model: str
    params: np.ndarray
    converged: bool
    message: str = ""
    requested: str = "5p"
    extra: dict = field(default_factory=dict)

    def predict(self, x) -> np.ndarray:
        """Map metric values to predicted MOS."""
        x = np.asarray(x, dtype=float)
        if self.model == "linear":
            return self.params[0] * x + self.params[1]
        if self.model == "constant":
            return np.full(x.shape, self.params[0], dtype=float)
        return _MODELS[self.model](x, *self.params)


def _start_values(model: str, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    mx, sx = float(np.mean(x)), float(np.std(x)) or 1.0
    lo, hi = float(np.min(y)), float(np.max(y))
    sign = 1.0 if np.corrcoef(x, y)[0, 1] >= 0 else -1.0
    if model == "5p":
        slope, icpt = np.polyfit(x, y, 1)
        return [
            np.array([10.0, 0.0, mx, 1.0, 0.1]),  # seed 000's stated initial values
            np.array([hi - lo, sign / sx, mx, 0.0, (hi + lo) / 2]),
            np.array([0.0, sign / sx, mx, slope, icpt]),
        ]
    a, b = (hi, lo) if sign > 0 else (lo, hi)
    return [
        np.array([a, b, mx, sx]),
        np.array([a, b, float(np.median(x)), sx / 4]),
        np.array([a, b, mx, 4 * sx]),
    ]


def fit_logistic(metric, mos, model: str = "5p", p0: Sequence[float] | None = None, maxfev: int = 2000) -> LogisticFit:
    """Fit ``model`` (``"5p"`` or ``"4p"``) mapping ``metric`` to ``mos`` by Levenberg–Marquardt.

    Tries ``p0`` (default: seed 000's values for 5p, data-driven values for 4p), then alternative
    starts; keeps the converged fit with the smallest squared error. If none converges within
    ``maxfev`` evaluations (e.g. the 4p curve's asymptote running off to infinity on data that
    never saturates), warns with :class:`LogisticFitWarning` and returns the better of the last
    iterate (``converged=False``) and a least-squares straight line (``model="linear"``). A constant metric gives
    ``model="constant"`` (prediction = mean MOS, correlations NaN). Never raises for numeric trouble.
    """
    if model not in _MODELS:
        raise DlicError(f"unknown logistic model {model!r}; use '5p' or '4p'")
    x = np.asarray(metric, dtype=float).ravel()
    y = np.asarray(mos, dtype=float).ravel()
    if x.shape != y.shape:
        raise DlicError(f"metric and MOS differ in length ({x.size} vs {y.size})")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise DlicError("metric and MOS values must be finite (drop NaN rows first)")
    npar = 5 if model == "5p" else 4
    if np.ptp(x) == 0 or x.size < 2:
        warnings.warn("the metric is constant; its prediction is the mean MOS and its correlations are NaN",
                      LogisticFitWarning, stacklevel=2)
        return LogisticFit("constant", np.array([float(np.mean(y))]), False, "constant metric", model)
    starts = ([np.asarray(p0, dtype=float)] if p0 is not None else []) + _start_values(model, x, y)
    func = _MODELS[model]
    converged: tuple[float, np.ndarray, int] | None = None
    stalled: tuple[float, np.ndarray, int] | None = None
    errors = []
    if x.size > npar:
        for k, start in enumerate(starts):
            try:
                with np.errstate(all="ignore"):
                    res = optimize.least_squares(
                        lambda p: func(x, *p) - y, start, method="lm", max_nfev=maxfev, xtol=1e-12, ftol=1e-12
                    )
            except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                errors.append(f"start {k}: {str(exc).splitlines()[0]}")
                continue
            params = np.asarray(res.x, dtype=float)
            pred = func(x, *params)
            if not (np.all(np.isfinite(pred)) and np.all(np.isfinite(params))):
                errors.append(f"start {k}: non-finite parameters")
                continue
            sse = float(np.sum((pred - y) ** 2))
            if res.status > 0:
                if converged is None or sse < converged[0] - 1e-12 * max(1.0, converged[0]):
                    converged = (sse, params, k)
            else:
                errors.append(f"start {k}: no convergence in {maxfev} evaluations")
                if stalled is None or sse < stalled[0]:
                    stalled = (sse, params, k)
    else:
        errors.append(f"{x.size} points cannot determine {npar} parameters")
    if converged is not None:
        _, params, k = converged
        return LogisticFit(model, params, True, f"converged from start {k}", model)
    slope, icpt = np.polyfit(x, y, 1)
    linear_sse = float(np.sum((slope * x + icpt - y) ** 2))
    reason = "; ".join(errors) or "no start converged"
    if stalled is not None and stalled[0] < linear_sse:
        msg = (f"{model} logistic fit did not converge ({reason}); using its last iterate, "
               "which fits better than a straight line")
        warnings.warn(msg, LogisticFitWarning, stacklevel=2)
        return LogisticFit(model, stalled[1], False, msg, model)
    msg = f"{model} logistic fit failed ({reason}); using a linear mapping"
    warnings.warn(msg, LogisticFitWarning, stacklevel=2)
    return LogisticFit("linear", np.array([slope, icpt]), False, msg, model)


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
