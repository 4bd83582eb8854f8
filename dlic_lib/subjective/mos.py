"""Mean opinion scores with confidence intervals, and the P.913 subject model (bias, inconsistency).

**Confidence-interval convention.** ``ci`` is the *half-width* δ: the interval is ``mos ± δ``
(ITU-R BT.500 Annex 2 §2.2.1 writes it as ``[ū − δ, ū + δ]``). ``ci_width = 2δ`` is the *full*
width, the convention of e.g. the T-Labs image-quality data (``ci`` there = full width).
``method="t"`` gives ``δ = t(1 − α/2, N − 1) · S / √N`` (Student-t); ``method="normal"`` gives
BT.500's ``δ = z(1 − α/2) · S / √N`` (1.96 for 95 %); S is the sample standard deviation (N − 1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import DlicError
from .scores import DESIGN_COLUMNS, score_matrix, validate_scores

__all__ = ["mos_table", "SubjectModelResult", "subject_model_mle"]

CI_METHODS = ("t", "normal")


def _ci_factor(method: str, confidence: float, n: np.ndarray) -> np.ndarray:
    if not 0 < confidence < 1:
        raise DlicError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    q = 1 - (1 - confidence) / 2
    if method == "t":
        with np.errstate(invalid="ignore"):
            return np.where(n > 1, sps.t.ppf(q, np.maximum(n - 1, 1)), np.nan)
    if method == "normal":
        return np.full(n.shape, sps.norm.ppf(q))
    raise DlicError(f"unknown confidence-interval method {method!r}; use 't' (Student-t) or 'normal' (1.96·σ/√N)")


def mos_table(
    scores: pd.DataFrame,
    *,
    method: str = "t",
    confidence: float = 0.95,
    scale: str | None = None,
    exclude_subjects=(),
) -> pd.DataFrame:
    """MOS and confidence interval per stimulus from a tidy raw-score table.

    Returns one row per stimulus (first-appearance order) with columns ``stimulus, n, mos, std``
    (ddof=1), ``ci`` (half-width), ``ci_width`` (full width), ``ci_low``, ``ci_high``,
    ``ci_method`` and ``confidence``, plus ``source``/``codec``/``rate`` when the input has them.
    ``exclude_subjects`` (e.g. the observers BT.500 screening rejected) are dropped first.
    """
    clean = validate_scores(scores, scale)
    if len(exclude_subjects):
        clean = clean[~clean["subject"].isin(list(exclude_subjects))]
        if clean.empty:
            raise DlicError("every subject is excluded; no votes are left for a MOS")
        clean = validate_scores(clean, scale)
    grouped = clean.groupby("stimulus", sort=False)["score"]
    n = grouped.size().to_numpy()
    mos = grouped.mean().to_numpy()
    std = grouped.std(ddof=1).to_numpy()
    half = _ci_factor(method, confidence, n) * std / np.sqrt(n)
    out = pd.DataFrame(
        {
            "stimulus": grouped.size().index.to_list(),
            "n": n,
            "mos": mos,
            "std": std,
            "ci": half,
            "ci_width": 2 * half,
            "ci_low": mos - half,
            "ci_high": mos + half,
            "ci_method": method,
            "confidence": confidence,
        }
    )
    design = [c for c in DESIGN_COLUMNS if c in clean.columns]
    if design:
        first = clean.groupby("stimulus", sort=False)[design].first().reset_index()
        out = out.merge(first, on="stimulus", how="left")
        out = out[["stimulus", *design, *[c for c in out.columns if c not in ("stimulus", *design)]]]
    return out


@dataclass
class SubjectModelResult:
    """Maximum-likelihood estimates of the P.913 subject model ``u_ij = ψ_j + Δ_i + υ_i·ε_ij``.

    ``stimuli``: ``stimulus, quality`` (ψ_j), ``quality_std`` (1/√Σ_i υ_i⁻²), ``ci`` (1.96·std,
    half-width); ``subjects``: ``subject, bias`` (Δ_i, zero mean over subjects),
    ``inconsistency`` (υ_i), ``bias_std``; ``log_likelihood`` (total), ``n_iter``, ``converged``.
    """

    stimuli: pd.DataFrame
    subjects: pd.DataFrame
    log_likelihood: float
    n_iter: int
    converged: bool


def subject_model_mle(
    scores: pd.DataFrame,
    *,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    min_inconsistency: float = 1e-4,
    scale: str | None = None,
) -> SubjectModelResult:
    """Fit the subject bias / inconsistency model of ITU-T P.913 (sureal's content-oblivious MLE).

    Each vote is ``u_ij = ψ_j + Δ_i + υ_i·ε``, ε ~ N(0, 1). The likelihood is maximised by the
    alternating-projection fixed point: Δ_i = mean_j(u_ij − ψ_j); υ_i = RMS of the residuals of
    subject i; ψ_j = Σ_i (u_ij − Δ_i)/υ_i² / Σ_i 1/υ_i². Missing votes are allowed. The biases are
    shifted to zero mean (ψ absorbs the shift). ``min_inconsistency`` floors υ_i so that a subject
    who always votes the consensus cannot take infinite weight.
    """
    clean = validate_scores(scores, scale)
    mat = score_matrix(clean)
    x = mat.to_numpy(dtype=float)
    mask = ~np.isnan(x)
    if mat.shape[1] < 2:
        raise DlicError("the subject model needs votes from at least 2 subjects")
    xz = np.where(mask, x, 0.0)
    cnt_j = mask.sum(axis=1)
    cnt_i = mask.sum(axis=0)
    psi = xz.sum(axis=1) / cnt_j
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        delta = np.where(mask, x - psi[:, None], 0.0).sum(axis=0) / cnt_i
        resid = np.where(mask, x - psi[:, None] - delta[None, :], 0.0)
        upsilon = np.maximum(np.sqrt((resid**2).sum(axis=0) / cnt_i), min_inconsistency)
        w = mask / upsilon[None, :] ** 2
        psi_new = (np.where(mask, x - delta[None, :], 0.0) * w).sum(axis=1) / w.sum(axis=1)
        change = float(np.max(np.abs(psi_new - psi)))
        psi = psi_new
        if change < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"subject model did not converge in {max_iter} iterations (last change {change:.2e})",
            RuntimeWarning,
            stacklevel=2,
        )
    # final consistent update of bias and inconsistency for the converged ψ
    delta = np.where(mask, x - psi[:, None], 0.0).sum(axis=0) / cnt_i
    resid = np.where(mask, x - psi[:, None] - delta[None, :], 0.0)
    upsilon = np.maximum(np.sqrt((resid**2).sum(axis=0) / cnt_i), min_inconsistency)
    shift = delta.mean()
    delta = delta - shift
    psi = psi + shift
    quality_std = 1.0 / np.sqrt((mask / upsilon[None, :] ** 2).sum(axis=1))
    bias_std = 1.0 / np.sqrt((mask / upsilon[None, :] ** 2).sum(axis=0))
    ll = float(
        np.sum(np.where(mask, sps.norm.logpdf(x, psi[:, None] + delta[None, :], upsilon[None, :]), 0.0))
    )
    z = sps.norm.ppf(0.975)
    stimuli = pd.DataFrame(
        {"stimulus": mat.index.to_list(), "quality": psi, "quality_std": quality_std, "ci": z * quality_std}
    )
    subjects = pd.DataFrame(
        {"subject": mat.columns.to_list(), "bias": delta, "inconsistency": upsilon, "bias_std": bias_std}
    )
    return SubjectModelResult(stimuli, subjects, ll, it, converged)
