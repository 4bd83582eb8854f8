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

from .correlation import krocc, outlier_ratio, performance, performance_table, plcc, rmse, srocc
from .logistic import LogisticFit, LogisticFitWarning, fit_logistic, logistic_4p, logistic_5p
from .significance import FisherZResult, bootstrap_ci, fisher_z_test

__all__ = [
    "LogisticFitWarning", "logistic_5p", "logistic_4p", "LogisticFit", "fit_logistic", "plcc", "srocc", "krocc", "rmse",
    "outlier_ratio", "performance", "performance_table", "FisherZResult", "fisher_z_test", "bootstrap_ci",
]
