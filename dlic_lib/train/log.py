"""The training log: one tidy row per logged step (``split`` = train or val), with run parameters."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["TrainLog", "LOG_COLUMNS"]

#: measured columns; every row also carries the run's parameters (model, metric, λ, quality, N, M, ...)
LOG_COLUMNS = ("step", "split", "lr", "loss", "bpp", "mse", "psnr", "ms_ssim", "aux_loss", "images", "elapsed_s")


class TrainLog:
    """Rows accumulated during a run; saved inside each checkpoint and written as CSV/Parquet."""

    def __init__(self, params: dict, rows: list[dict] | None = None):
        self.params = dict(params)
        self.rows: list[dict] = list(rows or [])

    def add(self, **values) -> dict:
        row = {**self.params, **{k: values.get(k) for k in LOG_COLUMNS}}
        self.rows.append(row)
        return row

    def frame(self):
        """The log as a pandas DataFrame (columns: run parameters, then :data:`LOG_COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=[*self.params, *LOG_COLUMNS])

    def write(self, path: str | Path) -> Path:
        """Atomically write the log to ``path`` (``.csv`` or ``.parquet``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = self.frame()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            if path.suffix == ".parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path
