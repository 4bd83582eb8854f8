"""Blocks of an image and their intra references, with HEVC's availability rules in raster order.

An image is cut into a raster of equal N×N blocks decoded left to right, top to bottom. For the block
at (r, c) the reference samples of H.265 §8.4.4.2 are available as follows (§6.4.1, z-scan
availability reduced to a raster of equal blocks):

- left column p[−1][0..N−1] and the corner p[−1][−1]: unless the block touches the left (and, for the
  corner, also the top) image border;
- top row p[0..N−1][−1]: unless the block is in the first block row;
- top-right p[N..2N−1][−1]: the block above and to the right is decoded, unless the block is in the
  first row or the last column;
- bottom-left p[−1][N..2N−1]: never, since the block below and to the left is decoded later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DlicError
from .hevc import MODES, filter_flag, filter_references, predict_from_references, scan_order, substitute

__all__ = ["BlockReferences", "block_references", "block_grid", "hevc_mode_errors", "hevc_predictions"]


@dataclass(frozen=True)
class BlockReferences:
    """References of every block of a plane, in raster order (shape B = rows·cols)."""

    top: np.ndarray  #: (B, 2N) p[x][−1]; unavailable samples are 0
    left: np.ndarray  #: (B, 2N) p[−1][y]; unavailable samples are 0
    corner: np.ndarray  #: (B,) p[−1][−1]
    available: np.ndarray  #: (B, 4N+1) availability in the substitution-scan order
    rows: np.ndarray  #: (B,) block row r
    cols: np.ndarray  #: (B,) block column c
    n: int

    def scan(self) -> np.ndarray:
        """Substituted references in scan order, (B, 4N+1), ready for :func:`~dlic_lib.intra.hevc.predict_from_references`."""
        return substitute(scan_order(self.top, self.left, self.corner), self.available)


def block_grid(shape: tuple[int, ...], n: int) -> tuple[int, int]:
    """Rows and columns of N×N blocks in an image of ``shape``; the sides must be multiples of N."""
    height, width = shape[:2]
    if height % n or width % n or height < n or width < n:
        raise DlicError(f"image of {height}×{width} is not a whole number of {n}×{n} blocks")
    return height // n, width // n


def availability(rows: np.ndarray, cols: np.ndarray, n: int, n_cols: int) -> np.ndarray:
    """(B, 4N+1) availability mask of blocks (r, c) of a raster with ``n_cols`` columns (module rules)."""
    has_left = (cols > 0)[:, None]
    has_top = (rows > 0)[:, None]
    has_top_right = ((rows > 0) & (cols < n_cols - 1))[:, None]
    b = rows.shape[0]
    bottom_left = np.zeros((b, n), dtype=bool)
    left = np.broadcast_to(has_left, (b, n))
    corner = has_left & has_top
    top = np.broadcast_to(has_top, (b, n))
    top_right = np.broadcast_to(has_top_right, (b, n))
    return np.concatenate([bottom_left, left, corner, top, top_right], axis=1)


def block_references(plane: np.ndarray, n: int) -> BlockReferences:
    """References of every N×N block of a 2-D integer ``plane`` as a raster decoder sees them.

    Samples come from ``plane`` itself (an original image, or a decoded canvas), unavailable ones are
    returned as 0 with ``available`` False; :func:`~dlic_lib.intra.hevc.predict` substitutes them.
    """
    plane = np.asarray(plane)
    if plane.ndim != 2:
        raise DlicError(f"block_references needs one 2-D plane, got shape {plane.shape}")
    n_rows, n_cols = block_grid(plane.shape, n)
    padded = np.zeros((plane.shape[0] + 2 * n, plane.shape[1] + 3 * n), dtype=np.int32)
    padded[n : n + plane.shape[0], n : n + plane.shape[1]] = plane
    rows, cols = (a.ravel() for a in np.meshgrid(np.arange(n_rows), np.arange(n_cols), indexing="ij"))
    y0, x0 = rows * n + n, cols * n + n  # block origin in the padded plane
    k = np.arange(2 * n)
    available = availability(rows, cols, n, n_cols)
    top = padded[(y0 - 1)[:, None], x0[:, None] + k]
    left = padded[y0[:, None] + k, (x0 - 1)[:, None]]
    corner = padded[y0 - 1, x0 - 1]
    left_available = available[:, : 2 * n][:, ::-1]
    top_available = available[:, 2 * n + 1 :]
    return BlockReferences(
        top=np.where(top_available, top, 0),
        left=np.where(left_available, left, 0),
        corner=np.where(available[:, 2 * n], corner, 0),
        available=available,
        rows=rows,
        cols=cols,
        n=n,
    )


def _blocks(plane: np.ndarray, n: int) -> np.ndarray:
    """(B, N, N) raster-order blocks of a plane."""
    h, w = plane.shape
    return plane.reshape(h // n, n, w // n, n).transpose(0, 2, 1, 3).reshape(-1, n, n)


def hevc_predictions(
    image: np.ndarray, n: int, mode: int, *, filtering: bool = True, strong: bool = True, boundary: bool = True
) -> np.ndarray:
    """(B, N, N, C) prediction of ``mode`` for every block of an (H, W) or (H, W, C) image, planes predicted separately."""
    planes = image[..., None] if image.ndim == 2 else image
    out = []
    for c in range(planes.shape[2]):
        refs = block_references(planes[..., c], n).scan()
        filtered = filter_references(refs, n, strong=strong) if filtering else None
        out.append(
            predict_from_references(refs, mode, filtering=filtering, strong=strong, boundary=boundary, filtered=filtered)
        )
    return np.stack(out, axis=-1)


def hevc_mode_errors(
    image: np.ndarray,
    n: int,
    *,
    filtering: bool = True,
    strong: bool = True,
    boundary: bool = True,
    modes: tuple[int, ...] = MODES,
) -> np.ndarray:
    """(B, len(modes)) sum of squared errors of every mode for every raster block of an image.

    Colour images are predicted plane by plane with one mode per block and the errors summed over the
    planes (the mode is chosen by RGB MSE).
    """
    image = np.asarray(image)
    planes = image[..., None] if image.ndim == 2 else image
    block_grid(planes.shape, n)
    sse = None
    for c in range(planes.shape[2]):
        plane = planes[..., c].astype(np.int32)
        refs = block_references(plane, n).scan()
        target = _blocks(plane, n)
        filtered = filter_references(refs, n, strong=strong) if filtering and n > 4 else None
        if sse is None:
            sse = np.zeros((refs.shape[0], len(modes)), dtype=np.int64)
        for j, m in enumerate(modes):
            use = filtered if filtering and filter_flag(m, n) else None
            pred = predict_from_references(refs, m, filtering=filtering, strong=strong, boundary=boundary, filtered=use)
            diff = pred - target
            sse[:, j] += np.einsum("bij,bij->b", diff, diff, dtype=np.int64)
    return sse
