"""Codec evaluation grids: test images × codec settings × rate points → one tidy, resumable table.

A :class:`CodecSetting` names one curve of an RD figure: a registered codec with its options
(e.g. HEVC in 4:4:4) and its rate points: target bpp values for conventional codecs (reached per
image with :func:`~dlic_lib.codecs.encode_to_bpp`) or quality levels for learned ones.
:func:`run_grid` codes every image at every point, measures the decoded images with
:func:`~dlic_lib.metrics.compute` and returns one row per (dataset, image, setting, point).

Rows are appended to a Parquet file after every finished (setting, image) cell — or (setting,
quality) for learned codecs, which are coded in batches — and a rerun skips rows already there,
so a killed run loses at most one cell (and the codec cache keeps even its bitstreams).

Table columns: ``dataset, image, setting, family, codec, kind, chroma, point`` (the target bpp or
the quality level), ``target_bpp, quality, bpp, bytes, width, height, reachable, within_tolerance,
encodes, encode_s, decode_s, wall_s, weights, library, version`` and one column per metric
(``wall_s``: wall-clock seconds of the row: rate search, coding and measuring, a cell's time shared
out over its rows). Progress goes to :mod:`dlic_lib.progress`: live in a terminal, never into a
notebook's output.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DlicError
from .grid_cells import learned_cells as _learned_cells
from .grid_cells import measure as _measure
from .grid_cells import row as _row
from .progress import task

__all__ = [
    "CodecSetting",
    "LEARNED_SHORT_NAMES",
    "conventional_setting",
    "learned_setting",
    "GridResult",
    "run_grid",
    "GRID_KEY",
]

#: columns that identify one row of a grid table
GRID_KEY = ("dataset", "image", "setting", "point")

#: seed 000's short names of the learned codecs (Section 3.2): architecture prefix → CompressAI model
LEARNED_SHORT_NAMES: dict[str, str] = {
    "BF": "bmshj2018-factorized",  # Ballé et al. 2018, factorized prior
    "BH": "bmshj2018-hyperprior",  # Ballé et al. 2018, scale hyperprior
    "MM": "mbt2018-mean",  # Minnen et al. 2018, mean-scale hyperprior
    "MJ": "mbt2018",  # Minnen et al. 2018, joint autoregressive + hyperprior
    "CA": "cheng2020-anchor",  # Cheng et al. 2020, anchor
}
_OBJECTIVE_SUFFIX = {"E": "mse", "M": "ms-ssim"}
_FAMILY = {"jpeg": "JPEG", "jpeg2000": "JPEG 2000", "webp": "WebP", "hevc": "HEVC", "vvc": "VVC", "av1": "AV1",
           "jpegxl": "JPEG XL"}


@dataclass(frozen=True)
class CodecSetting:
    """One RD curve: ``codec`` built with ``options``, coded at ``targets`` (bpp) or ``qualities``."""

    label: str
    codec: str
    options: Mapping[str, Any] = field(default_factory=dict)
    targets: tuple[float, ...] = ()
    qualities: tuple[int, ...] = ()
    family: str = ""

    def __post_init__(self) -> None:
        if bool(self.targets) == bool(self.qualities):
            raise DlicError(f"setting {self.label!r}: give either target bpp values or quality levels")

    @property
    def points(self) -> tuple[float, ...] | tuple[int, ...]:
        return self.targets or self.qualities

    def build(self):
        """The configured codec object."""
        from .codecs import get_codec

        return get_codec(self.codec, **dict(self.options))


def conventional_setting(codec: str, targets: Iterable[float], chroma: str | None = None, **options: Any) -> CodecSetting:
    """A rate-targeted conventional codec, labelled like ``"HEVC 4:2:0"`` (``chroma`` ``"420"``/``"444"``).

    ``chroma=None`` keeps the codec's only format (JPEG 2000 through Pillow and JPEG XL are 4:4:4,
    WebP is 4:2:0) and leaves it out of the label. HEVC is searched over fractional CRFs, as
    :func:`~dlic_lib.codecs.encode_to_bpp` does for a codec named by string.
    """
    from .codecs.rate import targeting_options

    opts = targeting_options(codec, **options, **({} if chroma is None else {"chroma": chroma}))
    family = _FAMILY.get(codec, codec)
    label = family
    if chroma is not None:
        if chroma not in ("420", "444"):
            raise DlicError(f"chroma must be '420' or '444', got {chroma!r}")
        opts["chroma"] = chroma
        label = f"{family} {chroma[0]}:{chroma[1]}:{chroma[2]}"
    targets = tuple(float(t) for t in targets)
    if not targets or any(not np.isfinite(t) or t <= 0 for t in targets):
        raise DlicError(f"{label}: target bpp values must be positive numbers, got {targets!r}")
    return CodecSetting(label=label, codec=codec, options=opts, targets=targets, family=family)


def learned_setting(short_name: str, qualities: Iterable[int], **options: Any) -> CodecSetting:
    """A learned codec named as in seed 000 (``"MM-M"``: mean-scale hyperprior, MS-SSIM-optimised).

    ``"RNN-C"`` is the recursive codec (``rnn``, raw bits): its qualities are iteration counts
    (0.125 bpp each) and ``options`` pass to it (e.g. ``profile=`` of its zoo release).
    """
    if short_name == "RNN-C":
        return CodecSetting(label="RNN-C", codec="rnn", options={"mode": "raw", **options},
                            qualities=tuple(int(q) for q in qualities), family="RNN-C")
    try:
        arch, objective = short_name.split("-")
        model, metric = LEARNED_SHORT_NAMES[arch], _OBJECTIVE_SUFFIX[objective]
    except (ValueError, KeyError):
        raise DlicError(f"unknown learned codec {short_name!r}; expected <{'|'.join(LEARNED_SHORT_NAMES)}>-<E|M> "
                        "(e.g. BH-E or MM-M) or RNN-C") from None
    qualities = tuple(int(q) for q in qualities)
    return CodecSetting(label=short_name, codec=model, options={"metric": metric, **options}, qualities=qualities,
                        family=short_name)


@dataclass
class GridResult:
    """The table of a grid run and the settings that could not run (label → reason)."""

    table: Any  # pandas.DataFrame
    skipped: dict[str, str]
    path: Path | None = None


def _read_table(path: Path | None):
    import pandas as pd

    if path is None or not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_parquet(path)
    except Exception as exc:
        raise DlicError(f"results table {path} is unreadable ({type(exc).__name__}); delete it to start over") from None


def _write_table(table, path: Path) -> None:
    from .outputs import write_table

    write_table(table, path, what="results table")


def _conventional_cell(setting: CodecSetting, dataset: str, name: str, path, targets: Sequence[float],
                       metrics: Sequence[str], tolerance: float, device: str | None) -> list[dict]:
    """The rows of one (setting, image) cell: a rate search per target, then the metrics."""
    from .codecs import encode_to_bpp
    from .data import read_image

    t0 = time.perf_counter()
    codec = setting.build()
    ref = read_image(path)
    rates = [encode_to_bpp(ref, codec, t, tolerance) for t in targets]
    values = _measure(ref, [r.coded.decoded for r in rates], metrics, device)
    wall = (time.perf_counter() - t0) / max(len(rates), 1)
    return [{**_row(dataset, name, setting, r.target_bpp, r.coded, r), **v, "wall_s": wall} for r, v in zip(rates, values)]


def _cell_in_worker(*args) -> tuple[list[dict], list[tuple[str, type]]]:
    """:func:`_conventional_cell` in a worker process; its warnings travel back to be shown by the caller."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = _conventional_cell(*args)
    return rows, [(str(w.message), w.category) for w in caught]


def run_grid(
    images: Mapping[str, Mapping[str, str | Path]],
    settings: Sequence[CodecSetting],
    metrics: Sequence[str],
    *,
    out: str | Path | None = None,
    tolerance: float = 0.02,
    device: str | None = None,
    progress: bool = True,
    jobs: int | None = None,
    executor: Any = None,
) -> GridResult:
    """Code ``images`` (``{dataset: {image name: path}}``) with every setting and measure ``metrics``.

    With ``out`` (a ``.parquet`` path), finished rows are kept there and skipped on a rerun;
    ``<out>.json`` records the grid's parameters. A setting whose codec is unavailable (e.g. a
    learned codec without weights offline) is skipped and reported in ``GridResult.skipped``;
    any other failure stops the run with the image and setting named. ``jobs`` conventional cells
    are coded side by side in worker processes (default: one per CPU core, at most 4; learned
    codecs run in this process); the table is the same, row for row, as with ``jobs=1``. ``executor``
    (default: ``DLIC_SCHEDULER`` if set, else ``"local"``) sends the cells to a Dask cluster instead
    (:mod:`dlic_lib.executors`); rows are still written here, one cell at a time.
    """
    import pandas as pd

    from .codecs.base import CodecUnavailableError
    from .data import read_image

    metrics = list(metrics)
    if not metrics:
        raise DlicError("run_grid: name at least one metric")
    labels = [s.label for s in settings]
    if len(set(labels)) != len(labels):
        raise DlicError("run_grid: two codec settings have the same label")
    path = Path(out) if out is not None else None
    table = _read_table(path)
    if not table.empty and (missing := [m for m in metrics if m not in table.columns]):
        raise DlicError(f"results table {path} lacks metric column(s) {', '.join(missing)}; "
                        "delete it or write to another file")
    # finished rows → the weights they were coded with (a learned row coded with other weights is redone)
    done = ({tuple(k): w for k, w in zip(table[list(GRID_KEY)].itertuples(index=False), table["weights"])}
            if not table.empty else {})
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        spec = {"metrics": metrics, "tolerance": tolerance,
                "settings": [dict(label=s.label, codec=s.codec, options=dict(s.options), targets=list(s.targets),
                                  qualities=list(s.qualities)) for s in settings],
                "images": {d: {k: Path(v).name for k, v in ims.items()} for d, ims in images.items()}}
        Path(str(path) + ".json").write_text(json.dumps(spec, indent=1, default=str), encoding="utf-8")

    skipped: dict[str, str] = {}
    new_rows: list[dict] = []
    cache: dict[str, np.ndarray] = {}

    def load(p) -> np.ndarray:
        key = str(p)
        if key not in cache:
            cache.clear()  # keep one dataset's worth at most: images are loaded in order
            cache[key] = read_image(p)
        return cache[key]

    def flush() -> None:
        nonlocal table
        if new_rows:
            table = pd.concat([table, pd.DataFrame(new_rows)], ignore_index=True) if not table.empty else pd.DataFrame(new_rows)
            new_rows.clear()
            if path is not None:
                _write_table(table, path)

    def drop(keys: set) -> None:
        nonlocal table
        index = table[list(GRID_KEY)].apply(tuple, axis=1)
        table = table[~index.isin(keys)].reset_index(drop=True)
        for k in keys:
            done.pop(k, None)

    cells = [(s, d, name, p) for s in settings for d, ims in images.items() for name, p in ims.items()]
    codecs: dict[str, Any] = {}
    for setting in settings:
        try:
            codecs[setting.label] = setting.build()
            codecs[setting.label].require_available()
        except CodecUnavailableError as exc:
            skipped[setting.label] = str(exc)
            codecs.pop(setting.label, None)
    args = {(s.label, d, name): (s, d, name, p, [t for t in s.targets if (d, name, s.label, float(t)) not in done],
                                 metrics, tolerance, device)
            for s, d, name, p in cells if s.label in codecs and not s.qualities
            and any((d, name, s.label, float(t)) not in done for t in s.targets)}
    import os

    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise DlicError(f"run_grid: jobs must be a positive integer, got {jobs!r}")
    jobs = min(jobs or max(1, min(4, os.cpu_count() or 1)), max(len(args), 1))
    from .executors import open_executor

    pool = open_executor(executor, jobs=jobs, threads=max(1, (os.cpu_count() or 1) // jobs)) if args else None
    futures = ({key: pool.submit(_cell_in_worker, *a, resources={"CPU": 1}, name="codec-cell") for key, a in args.items()}
               if pool is not None else {})

    def cell_rows(key) -> list[dict]:
        if key not in futures:
            return _conventional_cell(*args[key])
        rows, caught = futures.pop(key).result()
        for message, category in caught:
            warnings.warn(message, category, stacklevel=3)
        return rows

    bar = task("codec grid", total=len(cells), unit="cell", enabled=progress)
    try:
        for setting in settings:
            if setting.label not in codecs:
                bar.update(sum(len(ims) for ims in images.values()))
                continue
            codec = codecs[setting.label]
            for dataset, ims in images.items():
                todo = {name: p for name, p in ims.items()
                        if any((dataset, name, setting.label, float(pt)) not in done for pt in setting.points)}
                try:
                    if setting.qualities:  # always checked: rows coded with other weights are redone
                        for q, reason in _learned_cells(codec, setting, dataset, ims, metrics, device, done, new_rows,
                                                        flush, load, bar, drop).items():
                            skipped[f"{setting.label} q{q}"] = reason
                    else:
                        bar.update(len(ims) - len(todo))
                        for name, p in todo.items():
                            bar.set_detail(f"{setting.label} · {name}")
                            new_rows.extend(cell_rows((setting.label, dataset, name)))
                            flush()
                            bar.update(1)
                except CodecUnavailableError as exc:
                    skipped[setting.label] = str(exc)
                except DlicError as exc:
                    raise DlicError(f"{setting.label} on {dataset}: {exc}") from None
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    flush()
    for label, reason in skipped.items():
        warnings.warn(f"{label} skipped: {reason}", stacklevel=2)
    return GridResult(table=table, skipped=skipped, path=path)
