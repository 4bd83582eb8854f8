"""Closed-loop predictive coding of an image in 32×32 patches: predict from the decoded canvas, code the residual.

The encoder and the decoder walk the patches in the same order (:mod:`.schedule`: anti-diagonal
wavefront, raster, or all at once when nothing is predicted from neighbours). At each step the
encoder forms every candidate prediction of the step's patches from the canvas decoded so far,
codes each candidate's residual with the recursive network for up to ``k_max`` iterations, and keeps
per patch one candidate and one iteration count (:class:`FixedIterations` or
:class:`ThresholdAllocation`); the kept reconstruction is written into the canvas, exactly what the
decoder will compute from the mode, the count and the codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .allocation import DELTA, THRESHOLD_PSNRS, allocate
from .predictors import PATCH, IntraPredictors
from .residual import ResidualCoder
from .schedule import waves

__all__ = ["FixedIterations", "ThresholdAllocation", "CodedPatches", "encode_image", "decode_image", "patch_grid"]


@dataclass(frozen=True)
class FixedIterations:
    """Every patch gets ``k`` iterations; the candidate with the lowest MSE at ``k`` is kept (ties: first)."""

    k: int

    @property
    def k_max(self) -> int:
        return self.k

    def choose(self, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``errors`` (B, M, K) → chosen candidate (B,) and count (B,)."""
        return errors[:, :, -1].argmin(axis=1), np.full(errors.shape[0], self.k, dtype=np.int64)


@dataclass(frozen=True)
class ThresholdAllocation:
    """Bit allocation at the threshold of ``psnr`` dB (:func:`~dlic_lib.predictive.allocation.allocate`).

    Each candidate gets its own count by the rule; the candidate needing the fewest iterations is kept,
    ties broken by the lower MSE at that count.
    """

    psnr: float
    k_max: int = 10
    rule: str = "A"
    delta: float = DELTA
    psnrs: tuple[float, ...] = THRESHOLD_PSNRS

    def choose(self, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b, m, k = errors.shape
        counts = allocate(errors.reshape(b * m, k), self.psnr, self.rule, self.delta, self.psnrs).reshape(b, m)
        final = np.take_along_axis(errors, (counts - 1)[..., None], axis=2)[..., 0]
        key = counts * (final.max() + 1.0) + final  # fewest iterations first, then lowest MSE
        chosen = key.argmin(axis=1)
        return chosen, counts[np.arange(b), chosen]


@dataclass
class CodedPatches:
    """What the encoder decided for every patch (raster order) and the decoded image."""

    modes: np.ndarray  #: (P,) mode numbers (:mod:`.predictors`)
    counts: np.ndarray  #: (P,) iterations
    codes: np.ndarray  #: (P, K, bits, 2, 2) 0/1; entries past a patch's count are 0
    reconstruction: np.ndarray  #: (H, W, 3) uint8 of the padded image
    order: str


def patch_grid(image: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The image padded by edge replication to multiples of 32, and its patch rows and columns."""
    h, w = image.shape[:2]
    rows, cols = -(-h // PATCH), -(-w // PATCH)
    padded = np.pad(image, ((0, rows * PATCH - h), (0, cols * PATCH - w), (0, 0)), mode="edge")
    return np.ascontiguousarray(padded), rows, cols


def _blocks(image: np.ndarray, index: np.ndarray, cols: int) -> np.ndarray:
    r, c = index // cols, index % cols
    return np.stack([image[y * PATCH:(y + 1) * PATCH, x * PATCH:(x + 1) * PATCH] for y, x in zip(r, c)]).transpose(0, 3, 1, 2)


def _paste(canvas: np.ndarray, index: np.ndarray, cols: int, patches: np.ndarray) -> None:
    for i, p in zip(index, patches):
        y, x = divmod(int(i), cols)
        canvas[y * PATCH:(y + 1) * PATCH, x * PATCH:(x + 1) * PATCH] = p.transpose(1, 2, 0)


def encode_image(padded: np.ndarray, coder: ResidualCoder, predictors: IntraPredictors, modes: tuple[int, ...],
                 policy: FixedIterations | ThresholdAllocation, order: str = "wavefront") -> CodedPatches:
    """Closed-loop encoding of a padded (H, W, 3) uint8 image (sides multiples of 32)."""
    rows, cols = padded.shape[0] // PATCH, padded.shape[1] // PATCH
    n = rows * cols
    canvas = np.zeros_like(padded)
    k_max = policy.k_max
    out_modes = np.zeros(n, dtype=np.int64)
    out_counts = np.zeros(n, dtype=np.int64)
    out_codes = np.zeros((n, k_max, coder.bits, 2, 2), dtype=np.uint8)
    for index in waves(rows, cols, order):
        base, numbers = predictors.candidates(canvas, index, modes, original=padded)
        b, m = numbers.shape
        x = _blocks(padded, index, cols)
        codes, recons, errors = coder.encode(np.repeat(x, m, axis=0), base.reshape(b * m, 3, PATCH, PATCH), k_max)
        chosen, counts = policy.choose(errors.reshape(b, m, k_max))
        flat = np.arange(b) * m + chosen
        keep = np.arange(k_max)[None, :] < counts[:, None]
        out_codes[index] = codes[flat] * keep[:, :, None, None, None]
        out_modes[index] = numbers[np.arange(b), chosen]
        out_counts[index] = counts
        _paste(canvas, index, cols, recons[flat, counts - 1])
    return CodedPatches(out_modes, out_counts, out_codes, canvas, order)


def decode_image(shape: tuple[int, int], coder: ResidualCoder, predictors: IntraPredictors, modes: tuple[int, ...],
                 chosen: np.ndarray, counts: np.ndarray, codes: np.ndarray, order: str = "wavefront") -> np.ndarray:
    """The padded (H, W, 3) uint8 image from the modes, counts and codes of every patch (raster order)."""
    rows, cols = shape[0] // PATCH, shape[1] // PATCH
    canvas = np.zeros((shape[0], shape[1], 3), dtype=np.uint8)
    for index in waves(rows, cols, order):
        base, _ = predictors.candidates(canvas, index, modes, chosen=chosen[index])
        _paste(canvas, index, cols, coder.decode(codes[index], counts[index], base[:, 0]))
    return canvas
