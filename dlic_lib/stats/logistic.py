"""Logistic mappings from metric values to MOS (seed 000's 5-parameter function, VQEG's 4-parameter one)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ..errors import DlicError

__all__ = ["LogisticFitWarning", "logistic_5p", "logistic_4p", "LogisticFit", "fit_logistic"]


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
