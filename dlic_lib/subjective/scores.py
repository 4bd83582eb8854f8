"""Raw opinion scores as one tidy table, rating scales, and validation of bad input.

The tidy raw-score table has one row per vote:

| column | meaning |
|---|---|
| ``subject`` | observer id (any hashable; kept as given) |
| ``stimulus`` | stimulus id (one coded image shown against its reference) |
| ``source`` | source (reference) image the stimulus was made from *(optional)* |
| ``codec`` | codec name *(optional)* |
| ``rate`` | rate point, e.g. bpp *(optional)* |
| ``score`` | the vote, on the test's scale |
| ``session`` | session number, from 1 *(optional)* |
| ``order`` | presentation position within the subject's test, from 1 *(optional)* |

Only ``subject``, ``stimulus`` and ``score`` are required. One vote per subject and stimulus
(repetitions are not modelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DlicError

__all__ = [
    "SCORE_COLUMNS",
    "REQUIRED_COLUMNS",
    "DESIGN_COLUMNS",
    "Scale",
    "SCALES",
    "get_scale",
    "validate_scores",
    "score_matrix",
    "scores_from_wide",
]

SCORE_COLUMNS = ("subject", "stimulus", "source", "codec", "rate", "score", "session", "order")
REQUIRED_COLUMNS = ("subject", "stimulus", "score")
DESIGN_COLUMNS = ("source", "codec", "rate")


@dataclass(frozen=True)
class Scale:
    """A rating scale: closed interval ``[low, high]``; ``discrete`` scales accept integers only."""

    name: str
    low: float
    high: float
    discrete: bool
    labels: tuple[str, ...] = ()

    def describe(self) -> str:
        kind = "integer grades" if self.discrete else "continuous"
        return f"{self.name} ({kind} {self.low:g}..{self.high:g})"


SCALES: dict[str, Scale] = {
    # ITU-R BT.500 five-grade impairment scale used by DSIS (seed 000): 5 = imperceptible
    "5": Scale(
        "5-grade impairment",
        1,
        5,
        True,
        ("very annoying", "annoying", "slightly annoying", "perceptible, but not annoying", "imperceptible"),
    ),
    # continuous impairment slider, 100 = imperceptible, 0 = very annoying (seed 002)
    "100": Scale("continuous 0-100", 0, 100, False),
}


def get_scale(scale: str | int | Scale | None) -> Scale | None:
    """Look up a scale by name (``"5"`` or ``"100"``); ``None`` means "do not check the range"."""
    if scale is None or isinstance(scale, Scale):
        return scale
    key = str(scale).strip()
    if key not in SCALES:
        raise DlicError(f"unknown rating scale {scale!r}; use one of {', '.join(SCALES)}")
    return SCALES[key]


def validate_scores(
    scores: pd.DataFrame,
    scale: str | int | Scale | None = None,
    *,
    min_votes_per_subject: int = 1,
    min_votes_per_stimulus: int = 2,
    missing: str = "raise",
) -> pd.DataFrame:
    """Check a tidy raw-score table and return a clean copy (``score`` as float).

    Raises :class:`DlicError` for: missing required columns, non-numeric scores, missing scores
    (unless ``missing="drop"``), scores outside ``scale``, non-integer votes on a discrete scale,
    duplicate (subject, stimulus) votes, subjects with fewer than ``min_votes_per_subject`` votes
    and stimuli with fewer than ``min_votes_per_stimulus`` votes.
    """
    if not isinstance(scores, pd.DataFrame):
        raise DlicError("raw scores must be a table (pandas DataFrame) with columns subject, stimulus, score")
    absent = [c for c in REQUIRED_COLUMNS if c not in scores.columns]
    if absent:
        raise DlicError(
            f"raw scores lack column(s) {', '.join(absent)}; expected at least subject, stimulus, score"
        )
    if missing not in {"raise", "drop"}:
        raise DlicError(f"missing must be 'raise' or 'drop', not {missing!r}")
    df = scores.copy()
    if len(df) == 0:
        raise DlicError("raw scores table is empty")
    for col in ("subject", "stimulus"):
        if df[col].isna().any():
            raise DlicError(f"raw scores have {int(df[col].isna().sum())} row(s) without a {col} id")
    numeric = pd.to_numeric(df["score"], errors="coerce")
    bad_text = numeric.isna() & df["score"].notna()
    if bad_text.any():
        first = df.loc[bad_text, "score"].iloc[0]
        raise DlicError(f"raw scores hold {int(bad_text.sum())} non-numeric score(s), e.g. {first!r}")
    df["score"] = numeric.astype(float)
    nan = df["score"].isna() | ~np.isfinite(df["score"].to_numpy())
    if nan.any():
        if missing == "raise":
            row = df.loc[nan].iloc[0]
            raise DlicError(
                f"{int(nan.sum())} vote(s) have no score (e.g. subject {row['subject']!r}, "
                f"stimulus {row['stimulus']!r}); remove them or pass missing='drop'"
            )
        df = df.loc[~nan].copy()
    sc = get_scale(scale)
    if sc is not None:
        out = (df["score"] < sc.low) | (df["score"] > sc.high)
        if out.any():
            row = df.loc[out].iloc[0]
            raise DlicError(
                f"{int(out.sum())} score(s) lie outside the {sc.describe()} scale, e.g. {row['score']:g} "
                f"by subject {row['subject']!r} on stimulus {row['stimulus']!r}"
            )
        if sc.discrete:
            frac = df["score"] != np.round(df["score"])
            if frac.any():
                raise DlicError(
                    f"{int(frac.sum())} score(s) are not whole grades on the {sc.describe()} scale, "
                    f"e.g. {df.loc[frac, 'score'].iloc[0]:g}"
                )
    dup = df.duplicated(["subject", "stimulus"], keep=False)
    if dup.any():
        row = df.loc[dup].iloc[0]
        raise DlicError(
            f"subject {row['subject']!r} voted more than once on stimulus {row['stimulus']!r}; "
            "repeated votes are not supported (average or drop them first)"
        )
    per_subject = df.groupby("subject", sort=False)["score"].size()
    few = per_subject[per_subject < min_votes_per_subject]
    if len(few):
        raise DlicError(
            f"subject {few.index[0]!r} has only {int(few.iloc[0])} vote(s), fewer than the "
            f"{min_votes_per_subject} required ({len(few)} subject(s) affected)"
        )
    per_stimulus = df.groupby("stimulus", sort=False)["score"].size()
    few = per_stimulus[per_stimulus < min_votes_per_stimulus]
    if len(few):
        raise DlicError(
            f"stimulus {few.index[0]!r} has only {int(few.iloc[0])} vote(s), fewer than the "
            f"{min_votes_per_stimulus} needed for a mean and a confidence interval"
        )
    return df.reset_index(drop=True)


def score_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Votes as a stimulus × subject matrix (rows and columns in first-appearance order, NaN = no vote)."""
    stimuli = pd.unique(scores["stimulus"])
    subjects = pd.unique(scores["subject"])
    mat = scores.pivot(index="stimulus", columns="subject", values="score")
    return mat.reindex(index=stimuli, columns=subjects).astype(float)


def scores_from_wide(
    table: pd.DataFrame, stimulus_column: str, subject_columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Turn a wide table (one row per stimulus, one column per subject) into the tidy raw-score table.

    ``subject_columns`` defaults to every column except ``stimulus_column``; empty cells are dropped.
    """
    if stimulus_column not in table.columns:
        raise DlicError(f"wide score table has no column {stimulus_column!r}")
    cols = list(subject_columns) if subject_columns is not None else [c for c in table.columns if c != stimulus_column]
    absent = [c for c in cols if c not in table.columns]
    if absent:
        raise DlicError(f"wide score table lacks subject column(s) {', '.join(map(str, absent))}")
    long = table.melt(id_vars=[stimulus_column], value_vars=cols, var_name="subject", value_name="score")
    long = long.rename(columns={stimulus_column: "stimulus"}).dropna(subset=["score"])
    return long[["subject", "stimulus", "score"]].reset_index(drop=True)
