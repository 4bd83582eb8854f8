"""Subjective tests: DSIS session design, raw-score tables, BT.500 screening, MOS/CI, subject model.

Modules: :mod:`~dlic_lib.subjective.scores` (tidy raw-score table, scales, validation),
:mod:`~dlic_lib.subjective.design` (randomised DSIS sessions), :mod:`~dlic_lib.subjective.screening`
(ITU-R BT.500 observer screening) and :mod:`~dlic_lib.subjective.mos` (MOS, confidence intervals,
ITU-T P.913 subject model).
"""

from .design import plan_sessions
from .mos import SubjectModelResult, mos_table, subject_model_mle
from .scores import SCALES, SCORE_COLUMNS, Scale, get_scale, score_matrix, scores_from_wide, validate_scores
from .screening import ScreeningResult, bt500_screening, kurtosis_beta2

__all__ = [
    "plan_sessions",
    "mos_table",
    "subject_model_mle",
    "SubjectModelResult",
    "SCALES",
    "SCORE_COLUMNS",
    "Scale",
    "get_scale",
    "score_matrix",
    "scores_from_wide",
    "validate_scores",
    "ScreeningResult",
    "bt500_screening",
    "kurtosis_beta2",
]
