"""Decoding orders of a raster of patches whose predictions read the top-left, top, top-right and left patches.

A patch (r, c) depends on (r−1, c−1), (r−1, c), (r−1, c+1) and (r, c−1). In raster order the
decoder handles one patch at a time (R·C sequential steps). Along the anti-diagonals ``2r + c =
const`` every dependency lies on an earlier diagonal (the top-right one on ``2r + c − 1``), so all
patches of a diagonal are decoded together in one batch: ``2(R−1) + C`` steps (54 instead of 384 for
a Kodak image of 16×24 patches). Both orders give the same dependencies, hence the same decoded
canvas for exact predictors.
"""

from __future__ import annotations

import numpy as np

from ..errors import DlicError

__all__ = ["ORDERS", "waves"]

ORDERS = ("wavefront", "raster", "independent")


def waves(rows: int, cols: int, order: str = "wavefront") -> list[np.ndarray]:
    """Raster indices ``r·cols + c`` of the patches decoded at each step, in decoding order.

    ``"wavefront"``: one step per anti-diagonal ``2r + c``; ``"raster"``: one patch per step;
    ``"independent"``: one step for all patches (no prediction from neighbours).
    """
    if rows < 1 or cols < 1:
        raise DlicError(f"a raster of patches needs at least one row and column, got {rows}×{cols}")
    index = np.arange(rows * cols)
    if order == "independent":
        return [index]
    if order == "raster":
        return [np.array([i]) for i in index]
    if order != "wavefront":
        raise DlicError(f"decoding order must be one of {', '.join(ORDERS)}, got {order!r}")
    diag = 2 * (index // cols) + index % cols
    return [index[diag == d] for d in range(int(diag.max()) + 1)]
