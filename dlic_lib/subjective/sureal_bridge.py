"""Hand a tidy raw-score table to Netflix's ``sureal`` (the reference for screening and MOS models).

``sureal`` is an optional dependency (``pip install dlic[dev]``); it is imported only when called.
"""

from __future__ import annotations

import pandas as pd

from ..errors import DlicError
from .scores import score_matrix

__all__ = ["to_sureal_reader"]


def to_sureal_reader(scores: pd.DataFrame, content_column: str = "content"):
    """The votes of ``scores`` as a ``sureal.dataset_reader.RawDatasetReader`` and the stimulus × subject matrix.

    ``content_column`` groups stimuli by source content (sureal needs one per stimulus); missing
    votes become NaN. Returns ``(reader, matrix)``; the matrix rows and columns give sureal's order.
    """
    try:
        from sureal.dataset_reader import RawDatasetReader
        from sureal.tools.misc import empty_object
    except ImportError:
        raise DlicError("sureal is not installed; install the project with `pip install -e .[dev]`") from None
    if content_column not in scores.columns:
        raise DlicError(f"score table has no {content_column!r} column to group stimuli by content")
    mat = score_matrix(scores)
    content = scores.groupby("stimulus")[content_column].first()
    names = list(pd.unique(scores[content_column]))
    ds = empty_object()
    ds.ref_videos = [{"content_id": i, "content_name": c, "path": c} for i, c in enumerate(names)]
    ds.dis_videos = [
        {"content_id": names.index(content[s]), "asset_id": k, "os": list(mat.loc[s].to_numpy()), "path": s}
        for k, s in enumerate(mat.index)
    ]
    return RawDatasetReader(ds), mat
