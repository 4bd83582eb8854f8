"""The training log: one tidy row per logged step (``split`` = train or val), with run parameters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["TrainLog", "LOG_COLUMNS"]

#: measured columns of rate–distortion runs; every row also carries the run's parameters
LOG_COLUMNS = ("step", "split", "lr", "loss", "bpp", "mse", "psnr", "ms_ssim", "aux_loss", "images", "elapsed_s")


class TrainLog:
    """Rows accumulated during a run; saved inside each training state and written as CSV/Parquet.

    ``columns`` fixes the measured columns (missing values become empty cells); without it the
    columns are ``step``, ``split``, then every other key in order of first appearance, ``elapsed_s`` last.
    """

    def __init__(self, params: dict, rows: list[dict] | None = None, columns: Sequence[str] | None = None):
        self.params = dict(params)
        self.rows: list[dict] = list(rows or [])
        self.columns = tuple(columns) if columns is not None else None

    def add(self, **values) -> dict:
        if self.columns is not None:
            row = {**self.params, **{k: values.get(k) for k in self.columns}}
        else:
            row = {**self.params, **values}
        self.rows.append(row)
        return row

    def _columns(self) -> list[str]:
        if self.columns is not None:
            return [*self.params, *self.columns]
        seen = {k: None for k in [*self.params, "step", "split"]}
        for row in self.rows:
            seen.update({k: None for k in row if k not in seen and k != "elapsed_s"})
        return [*seen, "elapsed_s"]

    def frame(self):
        """The log as a pandas DataFrame (columns: run parameters, then the measured columns)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self._columns())

    def write(self, path: str | Path) -> Path:
        """Atomically write the log to ``path`` (``.csv`` or ``.parquet``)."""
        from ..outputs import write_table

        return write_table(self.frame(), path, what="training log")
