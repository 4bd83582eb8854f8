"""Per-patch bit allocation by quality thresholds (seed 003 §5.3.4, after Jung et al. 2020).

The thesis lists the MSE thresholds ``[818, 650, …, 6, 3]`` (per 32×32 patch, RGB on the 0–255
scale) and a saturation ratio δ = 0.7. The list is the closed form

    T(p) = ⌊255² · 10^(−p/10)⌋   for p = 19, 20, …, 36, 38, 40, 43 dB,

i.e. the MSE of a patch at PSNR ``p`` rounded down (:func:`thresholds` computes it; the tests check it
against the printed list). The text's rule is ambiguous ("if the patch can't reach the quality level,
we check whether it is within a δ ratio of the threshold"); two readings are implemented on a matrix
``e[p, i]`` of a patch's MSE after ``i + 1`` iterations:

``"A"`` (sequential, the default)
    Walk the thresholds from loose to strict carrying each patch's state: at the start of stage ``j``
    a patch whose error is not within a δ ratio of the threshold (``e > T_j/δ``) is frozen for good
    (saturating); any other patch adds iterations until ``e ≤ T_j`` or ``k = k_max``.
``"B"`` (ratio)
    Add iterations until ``e ≤ T``, the last iteration gained less than a factor δ
    (``e_k / e_{k−1} > δ``: the extra iteration is dropped), or ``k = k_max``.

Every patch gets at least one iteration. The side information is one count per patch,
``⌈log₂ k_max⌉`` bits (4 bits for ``k_max`` ≤ 16), counted by the codecs.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DlicError

__all__ = ["THRESHOLD_PSNRS", "PUBLISHED_THRESHOLDS", "DELTA", "threshold", "thresholds", "allocate",
           "allocate_sequential", "allocate_ratio", "count_bits"]

#: the PSNRs (dB) whose closed-form MSEs are the thesis' thresholds, loose to strict
THRESHOLD_PSNRS: tuple[int, ...] = (*range(19, 37), 38, 40, 43)
#: the list printed in §5.3.4
PUBLISHED_THRESHOLDS: tuple[int, ...] = (818, 650, 516, 410, 325, 258, 205, 163, 129, 103, 81, 65, 51, 41, 32, 25,
                                         20, 16, 10, 6, 3)
#: the saturation ratio of §5.3.4
DELTA = 0.7


def threshold(psnr: float) -> int:
    """``⌊255²·10^(−psnr/10)⌋``: the largest integer MSE of a patch at ``psnr`` dB or better."""
    return int(math.floor(255.0**2 * 10.0 ** (-float(psnr) / 10.0)))


def thresholds(psnrs: tuple[float, ...] = THRESHOLD_PSNRS) -> list[int]:
    """The thresholds of ``psnrs`` (default: the thesis' list, loose to strict)."""
    return [threshold(p) for p in psnrs]


def count_bits(k_max: int) -> int:
    """Bits of one per-patch iteration count in ``1..k_max`` (stored as ``k − 1``)."""
    return max(1, math.ceil(math.log2(k_max)))


def _check(errors: np.ndarray) -> np.ndarray:
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim != 2 or e.shape[1] < 1:
        raise DlicError(f"bit allocation needs an error matrix (patches, iterations), got shape {e.shape}")
    return e


def allocate_ratio(errors: np.ndarray, threshold_mse: float, delta: float = DELTA) -> np.ndarray:
    """Rule ``"B"``: iterations per patch for one threshold (see the module docstring)."""
    e = _check(errors)
    n, k_max = e.shape
    k = np.full(n, k_max, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    for i in range(k_max):
        reached = ~done & (e[:, i] <= threshold_mse)
        k[reached], done = i + 1, done | reached
        if i + 1 < k_max:
            saturating = ~done & (e[:, i + 1] > delta * e[:, i])
            k[saturating], done = i + 1, done | saturating
    return k


def allocate_sequential(errors: np.ndarray, stages: list[float], delta: float = DELTA) -> np.ndarray:
    """Rule ``"A"``: iterations per patch after each stage, ``(len(stages), patches)``; stages loose to strict."""
    e = _check(errors)
    n, k_max = e.shape
    k = np.ones(n, dtype=np.int64)
    frozen = np.zeros(n, dtype=bool)
    rows = np.arange(n)
    out = []
    for t in stages:
        frozen |= e[rows, k - 1] > t / delta
        for _ in range(k_max):
            grow = ~frozen & (e[rows, k - 1] > t) & (k < k_max)
            if not grow.any():
                break
            k = k + grow
        out.append(k.copy())
    return np.stack(out) if out else np.zeros((0, n), dtype=np.int64)


def allocate(errors: np.ndarray, psnr: float, rule: str = "A", delta: float = DELTA,
             psnrs: tuple[float, ...] = THRESHOLD_PSNRS) -> np.ndarray:
    """Iterations per patch at the threshold of ``psnr`` dB by ``rule`` (``"A"``: stages of ``psnrs`` up to ``psnr``)."""
    if rule == "B":
        return allocate_ratio(errors, threshold(psnr), delta)
    if rule != "A":
        raise DlicError(f"bit-allocation rule must be 'A' or 'B', got {rule!r}")
    stages = [threshold(p) for p in psnrs if p <= psnr]
    if not stages or psnr not in psnrs:
        raise DlicError(f"threshold PSNR must be one of {list(psnrs)}, got {psnr!r}")
    return allocate_sequential(errors, stages, delta)[-1]
