"""Causal contexts of image blocks for learned intra predictors, with zeros where nothing is decoded.

For the block at (r, c) of a raster of N×N blocks the neighbours are top-left (r−1, c−1), top
(r−1, c), top-right (r−1, c+1) and left (r, c−1); a neighbour outside the image is all zeros (the
value the predictors' mask uses), which is also what HEVC's raster availability allows: every
neighbour inside the image is decoded before the block.
"""

from __future__ import annotations

import numpy as np

from .blocks import block_grid

__all__ = ["NEIGHBOURS", "block_neighbours", "masked_contexts", "image_blocks", "split_crop"]

#: order of the neighbours in :func:`block_neighbours`
NEIGHBOURS = ("top-left", "top", "top-right", "left")


def image_blocks(image: np.ndarray, n: int) -> np.ndarray:
    """(B, N, N, C) raster-order blocks of an (H, W, C) image."""
    rows, cols = block_grid(image.shape, n)
    ch = image.shape[2]
    return image.reshape(rows, n, cols, n, ch).transpose(0, 2, 1, 3, 4).reshape(-1, n, n, ch)


def block_neighbours(image: np.ndarray, n: int) -> np.ndarray:
    """(B, 4, N, N, C) neighbours (TL, T, TR, L) of every raster block of an (H, W, C) image."""
    rows, cols = block_grid(image.shape, n)
    h, w, ch = image.shape
    padded = np.zeros((h + n, w + 2 * n, ch), dtype=image.dtype)
    padded[n:, n : n + w] = image
    grid = padded.reshape(rows + 1, n, cols + 2, n, ch).transpose(0, 2, 1, 3, 4)
    r, c = (a.ravel() for a in np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij"))
    return np.stack([grid[r, c], grid[r, c + 1], grid[r, c + 2], grid[r + 1, c]], axis=1)


def masked_contexts(neighbours: np.ndarray) -> np.ndarray:
    """(B, 2N, 2N, C) contexts [[TL, T], [L, 0]] from (B, 4, N, N, C) neighbours (the target quarter is 0)."""
    b, _, n, _, ch = neighbours.shape
    out = np.zeros((b, 2 * n, 2 * n, ch), dtype=neighbours.dtype)
    out[:, :n, :n] = neighbours[:, 0]
    out[:, :n, n:] = neighbours[:, 1]
    out[:, n:, :n] = neighbours[:, 3]
    return out


def split_crop(crop: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours (…, 4, N, N, C) and target (…, N, N, C) of 2N × 3N crops (…, 2N, 3N, C), target at (1, 1)."""
    top, bottom = crop[..., :n, :, :], crop[..., n : 2 * n, :, :]
    neighbours = np.stack([top[..., :n, :], top[..., n : 2 * n, :], top[..., 2 * n : 3 * n, :], bottom[..., :n, :]], axis=-4)
    return neighbours, bottom[..., n : 2 * n, :]
