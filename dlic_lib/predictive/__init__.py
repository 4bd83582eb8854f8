"""Predictive coding with recursive networks (seed 003 §4.2, §5.3): intra predictions from the decoded
canvas, closed-loop coding of residuals, wavefront decoding, bit allocation by quality thresholds."""

from .allocation import DELTA, PUBLISHED_THRESHOLDS, THRESHOLD_PSNRS, allocate, threshold, thresholds
from .schedule import waves

__all__ = ["DELTA", "PUBLISHED_THRESHOLDS", "THRESHOLD_PSNRS", "allocate", "threshold", "thresholds", "waves"]
