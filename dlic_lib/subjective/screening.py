"""Observer screening per ITU-R BT.500 (Annex 2, §2.3.1): the β2 kurtosis test and the P/Q rule.

For every stimulus *j* with votes ``u_ij`` the mean ``ū_j``, the standard deviation ``S_j`` and the
kurtosis coefficient ``β2_j = m4 / m2²`` (moments about the mean, divided by N) are computed. If
``2 ≤ β2_j ≤ 4`` the votes are taken as normally distributed and the threshold is ``2·S_j``,
otherwise ``√20·S_j``. For each observer *i*, ``P_i`` counts votes ``≥ ū_j + threshold`` and
``Q_i`` votes ``≤ ū_j − threshold``. Observer *i* is rejected when

    (P_i + Q_i) / N_i > 0.05   and   |P_i − Q_i| / (P_i + Q_i) < 0.3,

where ``N_i`` is the number of the observer's votes. BT.500 defines ``S`` with ``N − 1`` (``ddof=1``,
the default); the Netflix *sureal* package uses ``N`` (``ddof=0``). Stimuli on which every observer
gave the same vote (``S = 0``) carry no information about deviation and are skipped (sureal instead
counts every vote there as both P and Q).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .scores import score_matrix, validate_scores

__all__ = ["ScreeningResult", "bt500_screening", "kurtosis_beta2"]


@dataclass
class ScreeningResult:
    """Outcome of BT.500 screening.

    ``subjects``: one row per observer with ``subject, n_votes, p, q, ratio_pq`` (``(P+Q)/N``),
    ``asymmetry`` (``|P−Q|/(P+Q)``, NaN when P+Q = 0), ``rejected`` (bool), ``reason`` (text) and
    ``ddof`` (the SD divisor used).
    ``stimuli``: one row per stimulus with ``stimulus, n, mean, std, beta2, normal, threshold``.
    """

    subjects: pd.DataFrame
    stimuli: pd.DataFrame
    ddof: int

    @property
    def rejected(self) -> list:
        """Ids of the rejected observers, in table order."""
        return self.subjects.loc[self.subjects["rejected"], "subject"].tolist()


def kurtosis_beta2(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """β2 = m4 / m2² with central moments divided by N, ignoring NaN (NaN when m2 = 0)."""
    x = np.asarray(values, dtype=float)
    mean = np.nanmean(x, axis=axis, keepdims=True)
    dev = x - mean
    m2 = np.nanmean(dev**2, axis=axis)
    m4 = np.nanmean(dev**4, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m2 > 0, m4 / np.where(m2 > 0, m2, 1.0) ** 2, np.nan)


def bt500_screening(
    scores: pd.DataFrame,
    *,
    ddof: int = 1,
    ratio_limit: float = 0.05,
    asymmetry_limit: float = 0.3,
    scale: str | None = None,
) -> ScreeningResult:
    """Screen observers of a tidy raw-score table (columns ``subject, stimulus, score``) per BT.500.

    ``ddof`` sets the standard deviation's divisor (``N − ddof``); 1 follows BT.500, 0 reproduces
    sureal. Missing votes are allowed (each observer's ratio uses their own vote count).
    """
    clean = validate_scores(scores, scale)
    mat = score_matrix(clean)
    x = mat.to_numpy(dtype=float)  # stimuli × subjects
    present = ~np.isnan(x)
    n = present.sum(axis=1)
    mean = np.nanmean(x, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.nanstd(x, axis=1, ddof=ddof)
    beta2 = kurtosis_beta2(x, axis=1)
    normal = (beta2 >= 2.0) & (beta2 <= 4.0)
    factor = np.where(normal, 2.0, np.sqrt(20.0))
    threshold = factor * std
    usable = (std > 0) & np.isfinite(std)
    upper = present & usable[:, None] & (x >= (mean + threshold)[:, None])
    lower = present & usable[:, None] & (x <= (mean - threshold)[:, None])
    p = upper.sum(axis=0)
    q = lower.sum(axis=0)
    n_votes = present.sum(axis=0)
    ratio = (p + q) / n_votes
    with np.errstate(invalid="ignore", divide="ignore"):
        asym = np.where(p + q > 0, np.abs(p - q) / np.where(p + q > 0, p + q, 1), np.nan)
    rejected = (ratio > ratio_limit) & (np.nan_to_num(asym, nan=1.0) < asymmetry_limit)
    reasons = []
    for r, a, rej in zip(ratio, asym, rejected):
        if rej:
            reasons.append(
                f"(P+Q)/N = {r:.3f} > {ratio_limit} and |P-Q|/(P+Q) = {a:.3f} < {asymmetry_limit}"
            )
        elif r > ratio_limit:
            reasons.append(f"kept: (P+Q)/N = {r:.3f} > {ratio_limit} but |P-Q|/(P+Q) = {a:.3f} >= {asymmetry_limit}")
        else:
            reasons.append(f"kept: (P+Q)/N = {r:.3f} <= {ratio_limit}")
    subjects = pd.DataFrame(
        {
            "subject": mat.columns.to_list(),
            "n_votes": n_votes,
            "p": p,
            "q": q,
            "ratio_pq": ratio,
            "asymmetry": asym,
            "rejected": rejected,
            "reason": reasons,
            "ddof": ddof,
        }
    )
    stimuli = pd.DataFrame(
        {
            "stimulus": mat.index.to_list(),
            "n": n,
            "mean": mean,
            "std": std,
            "beta2": beta2,
            "normal": normal,
            "threshold": np.where(usable, threshold, np.nan),
        }
    )
    return ScreeningResult(subjects=subjects, stimuli=stimuli, ddof=ddof)
