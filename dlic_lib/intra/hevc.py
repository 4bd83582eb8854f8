"""HEVC intra prediction as ITU-T H.265 §8.4.4.2 specifies it, batched over many blocks.

Planar (mode 0), DC (mode 1) and the 33 angular modes (2–34) for luma transform blocks of
N ∈ {4, 8, 16, 32} samples, including reference substitution (§8.4.4.2.2), the [1 2 1] reference
filter and strong intra smoothing (§8.4.4.2.3) and the DC / horizontal / vertical boundary filters
(§8.4.4.2.5–6). Every switch of the standard that a study may want off is a keyword.

The references of a block are held in one vector of 4N+1 samples in the standard's substitution-scan
order: the left column from bottom to top (p[−1][2N−1] … p[−1][0]), the corner p[−1][−1], then the top
row from left to right (p[0][−1] … p[2N−1][−1]). In that order the [1 2 1] filter is a plain 1-D
filter, and each mode is a fixed table of indices and weights into the vector, built once per
(mode, N): a prediction is then a gather, an integer multiply-add and a shift over the batch.

Arrays returned are indexed ``[block, y, x]`` (row, column); the standard writes ``predSamples[x][y]``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import DlicError

__all__ = [
    "MODES",
    "PLANAR",
    "DC",
    "HORIZONTAL",
    "VERTICAL",
    "INTRA_PRED_ANGLE",
    "INV_ANGLE",
    "BLOCK_SIZES",
    "filter_flag",
    "substitute",
    "filter_references",
    "predict",
    "predict_from_references",
]

PLANAR, DC, HORIZONTAL, VERTICAL = 0, 1, 10, 26
#: every intra prediction mode of HEVC
MODES = tuple(range(35))
BLOCK_SIZES = (4, 8, 16, 32)
#: Table 8-4: intraPredAngle for modes 2..34
INTRA_PRED_ANGLE = dict(
    zip(
        range(2, 35),
        (32, 26, 21, 17, 13, 9, 5, 2, 0, -2, -5, -9, -13, -17, -21, -26, -32,
         -26, -21, -17, -13, -9, -5, -2, 0, 2, 5, 9, 13, 17, 21, 26, 32),
    )
)
#: Table 8-5: invAngle for modes 11..25
INV_ANGLE = dict(
    zip(
        range(11, 26),
        (-4096, -1638, -910, -630, -482, -390, -315, -256, -315, -390, -482, -630, -910, -1638, -4096),
    )
)
#: intraHorVerDistThres[nTbS] of §8.4.4.2.3
_HOR_VER_DIST_THRES = {8: 7, 16: 1, 32: 0}


def _check_size(n: int) -> int:
    if n not in BLOCK_SIZES:
        raise DlicError(f"HEVC intra block size must be one of {BLOCK_SIZES}, got {n}")
    return n


def _check_mode(mode: int) -> int:
    if not 0 <= int(mode) <= 34:
        raise DlicError(f"HEVC intra mode must be an integer in 0..34, got {mode}")
    return int(mode)


def filter_flag(mode: int, n: int) -> bool:
    """filterFlag of §8.4.4.2.3: whether the references of a luma block are smoothed before ``mode``."""
    if mode == DC or n == 4:
        return False
    return min(abs(mode - VERTICAL), abs(mode - HORIZONTAL)) > _HOR_VER_DIST_THRES[n]


def _left(n: int, y: np.ndarray | int) -> np.ndarray | int:
    """Position of p[−1][y] (y ≥ −1) in the scan-order reference vector."""
    return 2 * n - 1 - y


def _top(n: int, x: np.ndarray | int) -> np.ndarray | int:
    """Position of p[x][−1] (x ≥ −1) in the scan-order reference vector."""
    return 2 * n + 1 + x


def substitute(refs: np.ndarray, available: np.ndarray | None, *, bit_depth: int = 8) -> np.ndarray:
    """§8.4.4.2.2: replace unavailable reference samples (scan order, shape (B, 4N+1)).

    With no sample available every sample is 1 << (bitDepth − 1). Otherwise an unavailable first
    sample of the scan takes the first available value, and every other unavailable sample copies
    its predecessor in the scan.
    """
    refs = np.asarray(refs, dtype=np.int32)
    if available is None:
        return refs.copy()
    available = np.asarray(available, dtype=bool)
    if available.shape != refs.shape:
        raise DlicError(f"availability mask has shape {available.shape}, references have {refs.shape}")
    positions = np.arange(refs.shape[1])
    source = np.where(available, positions, -1)
    np.maximum.accumulate(source, axis=1, out=source)
    first = np.argmax(available, axis=1)
    source = np.where(source < 0, first[:, None], source)
    out = np.take_along_axis(refs, source, axis=1)
    out[~available.any(axis=1)] = 1 << (bit_depth - 1)
    return out


def filter_references(refs: np.ndarray, n: int, *, strong: bool = True, bit_depth: int = 8) -> np.ndarray:
    """§8.4.4.2.3 for blocks whose filterFlag is 1: [1 2 1] smoothing, or strong smoothing at N = 32.

    Strong (bi-linear) smoothing replaces the filter at N = 32 when ``strong`` is set and both halves of
    the references are nearly linear (second difference below 1 << (bitDepth − 5)).
    """
    refs = np.asarray(refs, dtype=np.int32)
    out = refs.copy()
    out[:, 1:-1] = (refs[:, :-2] + 2 * refs[:, 1:-1] + refs[:, 2:] + 2) >> 2
    if strong and n == 32:
        corner = refs[:, _top(n, -1)]
        bottom, mid_left = refs[:, _left(n, 63)], refs[:, _left(n, 31)]
        right, mid_top = refs[:, _top(n, 63)], refs[:, _top(n, 31)]
        threshold = 1 << (bit_depth - 5)
        bilinear = (np.abs(corner + right - 2 * mid_top) < threshold) & (np.abs(corner + bottom - 2 * mid_left) < threshold)
        if bilinear.any():
            k = np.arange(63)
            c, b, r = corner[bilinear, None], bottom[bilinear, None], right[bilinear, None]
            rows = np.flatnonzero(bilinear)[:, None]
            out[rows, _left(n, k)[None, :]] = ((63 - k) * c + (k + 1) * b + 32) >> 6
            out[rows, _top(n, k)[None, :]] = ((63 - k) * c + (k + 1) * r + 32) >> 6
    return out


@lru_cache(maxsize=None)
def _angular_table(mode: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat (N·N) positions of ref[.+iIdx+1] and ref[.+iIdx+2] in the reference vector, and iFact."""
    y, x = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    angle = INTRA_PRED_ANGLE[mode]
    vertical = mode >= 18
    main, side = (_top, _left) if vertical else (_left, _top)
    # the reference ref[k], k = −N..2N, as positions in the scan-order vector
    k = np.arange(-n, 2 * n + 1)
    ref = main(n, np.maximum(k, 0) - 1)
    if angle < 0 and (n * angle) >> 5 < -1:
        ref = np.where(k < 0, side(n, -1 + ((k * INV_ANGLE[mode] + 128) >> 8)), ref)
    # along the prediction direction: y for vertical modes, x for horizontal ones
    along, across = (y, x) if vertical else (x, y)
    i_idx = ((along + 1) * angle) >> 5
    i_fact = ((along + 1) * angle) & 31
    first = across + i_idx + 1
    second = np.where(i_fact == 0, first, first + 1)
    return ref[first + n].ravel(), ref[second + n].ravel(), i_fact.astype(np.int32)


def _planar(p: np.ndarray, n: int) -> np.ndarray:
    """Mode 0 (8.4.4.2.5), evaluated with broadcasting."""
    k = np.arange(n, dtype=np.int32)
    left = p[:, _left(n, n - 1) : _left(n, -1)][:, ::-1, None]  # p[-1][y], (B, N, 1)
    top = p[:, None, _top(n, 0) : _top(n, n)]  # p[x][-1], (B, 1, N)
    top_right = p[:, _top(n, n), None, None]
    bottom_left = p[:, _left(n, n), None, None]
    pred = (n - 1 - k) * left + (k + 1) * top_right
    pred += (n - 1 - k)[:, None] * top + (k + 1)[:, None] * bottom_left + n
    pred >>= int(np.log2(n)) + 1
    return pred


def _angular(p: np.ndarray, mode: int, n: int) -> np.ndarray:
    """Modes 2..34 (8.4.4.2.6): ((32 − iFact)·a + iFact·b + 16) >> 5 written as a + ((iFact·(b − a) + 16) >> 5)."""
    first, second, fact = _angular_table(mode, n)
    a = np.take(p, first, axis=1).reshape(-1, n, n)
    b = np.take(p, second, axis=1).reshape(-1, n, n)
    b -= a
    b *= fact
    b += 16
    b >>= 5
    a += b
    return a


def _dc(refs: np.ndarray, n: int, boundary: bool) -> np.ndarray:
    top = refs[:, _top(n, 0) : _top(n, n)]
    left = refs[:, _left(n, n - 1) : _left(n, -1)]
    dc = ((top.sum(axis=1) + left.sum(axis=1) + n) >> (int(np.log2(n)) + 1)).astype(np.int32)
    pred = np.broadcast_to(dc[:, None, None], (refs.shape[0], n, n)).copy()
    if boundary and n < 32:
        left_col = refs[:, _left(n, np.arange(n))]
        pred[:, 0, 0] = (left_col[:, 0] + 2 * dc + top[:, 0] + 2) >> 2
        pred[:, 0, 1:] = (top[:, 1:] + 3 * dc[:, None] + 2) >> 2
        pred[:, 1:, 0] = (left_col[:, 1:] + 3 * dc[:, None] + 2) >> 2
    return pred


def _angular_boundary(pred: np.ndarray, refs: np.ndarray, mode: int, n: int, bit_depth: int) -> None:
    """§8.4.4.2.6 edge filters of the pure vertical (26) and horizontal (10) modes, in place."""
    corner = refs[:, _top(n, -1), None]
    if mode == VERTICAL:
        left = refs[:, _left(n, np.arange(n))]
        pred[:, :, 0] = np.clip(refs[:, _top(n, 0), None] + ((left - corner) >> 1), 0, (1 << bit_depth) - 1)
    elif mode == HORIZONTAL:
        top = refs[:, _top(n, np.arange(n))]
        pred[:, 0, :] = np.clip(refs[:, _left(n, 0), None] + ((top - corner) >> 1), 0, (1 << bit_depth) - 1)


def predict_from_references(
    refs: np.ndarray,
    mode: int,
    *,
    filtering: bool = True,
    strong: bool = True,
    boundary: bool = True,
    bit_depth: int = 8,
    filtered: np.ndarray | None = None,
) -> np.ndarray:
    """Prediction of one ``mode`` for a batch of substituted scan-order references (B, 4N+1).

    ``filtered`` may pass the output of :func:`filter_references` to share it between modes.
    """
    refs = np.asarray(refs, dtype=np.int32)
    n = _check_size((refs.shape[1] - 1) // 4)
    mode = _check_mode(mode)
    if mode == DC:
        return _dc(refs, n, boundary)
    p = refs
    if filtering and filter_flag(mode, n):
        p = filter_references(refs, n, strong=strong, bit_depth=bit_depth) if filtered is None else filtered
    pred = _planar(p, n) if mode == PLANAR else _angular(p, mode, n)
    if boundary and n < 32 and mode in (HORIZONTAL, VERTICAL):
        _angular_boundary(pred, p, mode, n, bit_depth)
    return pred


def scan_order(top: np.ndarray, left: np.ndarray, corner: np.ndarray) -> np.ndarray:
    """The (B, 4N+1) reference vector of §8.4.4.2.2's scan: left column bottom→top, corner, top row."""
    top = np.asarray(top, dtype=np.int32)
    left = np.asarray(left, dtype=np.int32)
    corner = np.asarray(corner, dtype=np.int32)
    if top.ndim != 2 or left.shape != top.shape or corner.shape != (top.shape[0],):
        raise DlicError(
            f"references must be top (B, 2N), left (B, 2N) and corner (B,), got {top.shape}, {left.shape}, {corner.shape}"
        )
    if top.shape[1] % 2 or top.shape[1] // 2 not in BLOCK_SIZES:
        raise DlicError(f"reference rows must hold 2N samples with N in {BLOCK_SIZES}, got {top.shape[1]}")
    return np.concatenate([left[:, ::-1], corner[:, None], top], axis=1)


def predict(
    top: np.ndarray,
    left: np.ndarray,
    corner: np.ndarray,
    mode: int | np.ndarray,
    *,
    available: np.ndarray | None = None,
    filtering: bool = True,
    strong: bool = True,
    boundary: bool = True,
    bit_depth: int = 8,
) -> np.ndarray:
    """HEVC intra prediction of a batch of N×N luma blocks (H.265 §8.4.4.2).

    Parameters
    ----------
    top, left : (B, 2N) integer arrays
        p[x][−1] for x = 0..2N−1 and p[−1][y] for y = 0..2N−1.
    corner : (B,) integer array
        p[−1][−1].
    mode : int or (B,) integer array
        Intra prediction mode(s), 0 = planar, 1 = DC, 2..34 angular.
    available : (B, 4N+1) boolean array, optional
        Availability of each reference sample in the substitution-scan order (left column
        bottom→top, corner, top row left→right); all available when omitted.
    filtering, strong, boundary : bool
        The [1 2 1] reference filter, strong intra smoothing (N = 32) and the DC/horizontal/vertical
        boundary filters; the standard has all three on.
    bit_depth : int
        Sample bit depth (8 for the book).

    Returns
    -------
    (B, N, N) int32 array indexed ``[block, y, x]``.
    """
    refs = substitute(scan_order(top, left, corner), available, bit_depth=bit_depth)
    n = refs.shape[1] // 4
    modes = np.asarray(mode)
    if modes.ndim == 0:
        return predict_from_references(refs, int(modes), filtering=filtering, strong=strong, boundary=boundary, bit_depth=bit_depth)
    if modes.shape != (refs.shape[0],):
        raise DlicError(f"mode must be one integer or one per block ({refs.shape[0]}), got shape {modes.shape}")
    out = np.empty((refs.shape[0], n, n), dtype=np.int32)
    for m in np.unique(modes):
        rows = modes == m
        out[rows] = predict_from_references(refs[rows], int(m), filtering=filtering, strong=strong, boundary=boundary, bit_depth=bit_depth)
    return out
