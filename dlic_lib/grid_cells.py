"""The cells of a codec grid (:func:`dlic_lib.evaluate.run_grid`): a table row, the metrics of a coding,
and the learned codecs' cells (batched per quality; progressive codecs every quality of an image in one pass)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["row", "measure", "learned_cells", "progressive_cells"]


def row(dataset: str, image: str, setting: Any, point, coded, rate=None) -> dict[str, Any]:
    """One row of the grid table: the setting, the coding (bytes, bpp, times, weights) and the rate search."""
    return {
        "dataset": dataset,
        "image": image,
        "setting": setting.label,
        "family": setting.family,
        "codec": setting.codec,
        "kind": "learned" if setting.qualities else "conventional",
        "chroma": coded.chroma,
        "point": float(point),
        "target_bpp": float(rate.target_bpp) if rate is not None else np.nan,
        "quality": float(coded.quality),
        "bpp": coded.bpp,
        "bytes": coded.n_bytes,
        "width": coded.width,
        "height": coded.height,
        "reachable": bool(rate.reachable) if rate is not None else True,
        "within_tolerance": bool(rate.within_tolerance) if rate is not None else True,
        "encodes": int(rate.encodes) if rate is not None else 1,
        "encode_s": coded.encode_s,
        "decode_s": coded.decode_s,
        "weights": coded.weights or "",
        "library": coded.library,
        "version": coded.version,
        "params": json.dumps(coded.params, sort_keys=True, default=str),
        "wall_s": np.nan,
    }


def measure(reference: np.ndarray, decoded: list[np.ndarray], metrics: Sequence[str], device: str | None) -> list[dict]:
    """``metrics`` of each decoded image against ``reference`` (one record per image)."""
    from .metrics import compute

    table = compute([reference] * len(decoded), decoded, metrics=list(metrics), device=device, progress=False)
    return table[list(metrics)].to_dict("records")


def learned_cells(codec, setting, dataset, todo, metrics, device, done, new_rows, flush, load, bar, drop) -> dict[int, str]:
    """Code ``todo`` images at each quality (batched by :meth:`LearnedCodec.encode_many`), one flush per quality.

    Returns the qualities without weights (quality → reason); the others are coded.
    """
    from .codecs.base import CodecUnavailableError

    names, missing = list(todo), {}
    if getattr(codec, "progressive", False):
        return progressive_cells(codec, setting, dataset, todo, metrics, device, done, new_rows, flush, load, bar, drop)
    for q in setting.qualities:
        try:
            current = codec.weights_label(q) or ""
        except CodecUnavailableError as exc:
            missing[q] = str(exc)
            continue
        pending = [n for n in names if done.get((dataset, n, setting.label, float(q))) != current]
        if not pending:
            continue
        stale = {(dataset, n, setting.label, float(q)) for n in pending} & set(done)
        if stale:  # coded with other weights (e.g. a longer-trained checkpoint appeared): replace those rows
            drop(stale)
        bar.set_detail(f"{setting.label} q{q}")
        t0 = time.perf_counter()
        refs = [load(todo[n]) for n in pending]
        try:
            coded = codec.encode_many(refs, q)
        except CodecUnavailableError as exc:
            missing[q] = str(exc)
            continue
        rows = []
        for n, ref, c in zip(pending, refs, coded):
            values = measure(ref, [c.decoded], metrics, device)[0]
            rows.append({**row(dataset, n, setting, q, c), **values})
        wall = (time.perf_counter() - t0) / max(len(rows), 1)
        new_rows.extend({**r, "wall_s": wall} for r in rows)
        flush()
    bar.update(len(names))
    return missing


def progressive_cells(codec, setting, dataset, todo, metrics, device, done, new_rows, flush, load, bar, drop) -> dict[int, str]:
    """Like :func:`learned_cells` for a progressive codec: every quality of an image in one pass, one flush per image."""
    from .codecs.base import CodecUnavailableError

    try:
        current = codec.weights_label(setting.qualities[0]) or ""
    except CodecUnavailableError as exc:
        return {q: str(exc) for q in setting.qualities}
    for name, path in todo.items():
        keys = [(dataset, name, setting.label, float(q)) for q in setting.qualities]
        if all(done.get(k) == current for k in keys):
            bar.update(1)
            continue
        if stale := {k for k in keys if k in done}:  # coded with other weights: replaced
            drop(stale)
        bar.set_detail(f"{setting.label} {name}")
        t0 = time.perf_counter()
        ref = load(path)
        coded = codec.encode_qualities(ref, list(setting.qualities))
        values = measure(ref, [c.decoded for c in coded], metrics, device)
        wall = (time.perf_counter() - t0) / len(coded)
        new_rows.extend({**row(dataset, name, setting, q, c), **v, "wall_s": wall}
                        for q, c, v in zip(setting.qualities, coded, values))
        flush()
        bar.update(1)
    return {}
