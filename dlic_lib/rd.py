"""Bjøntegaard deltas between rate–quality curves: BD-rate and BD-quality (BD-PSNR for PSNR).

Conventions: rates are positive (bpp, kbps; any unit, the same for both curves); quality is any
metric where *higher is better* (PSNR, SSIM, MS-SSIM, VMAF, MOS). Rate enters as its natural
logarithm. Both deltas integrate over the *overlapping* interval only.

* ``method="cubic"``: a least-squares cubic polynomial per curve (VCEG-M33, Bjøntegaard 2001).
* ``method="pchip"``: piecewise-cubic Hermite interpolation (Fritsch–Carlson, ``scipy``'s
  ``PchipInterpolator``), as in current JVET / JPEG AI common test conditions.

``bd_rate`` is the mean relative rate difference of *test* against *anchor* at equal quality, in
percent (negative = test needs less rate, a gain). ``bd_quality`` is the mean quality difference
at equal rate in the metric's unit (positive = gain). Curves need at least 4 points (``min_points``;
the pchip method accepts as few as 2, i.e. linear interpolation in log-rate: say so when used), strictly
increasing quality with rate (checked; a non-monotone curve raises :class:`NonMonotoneCurveError`
unless ``check_monotone=False`` with the cubic method) and overlapping ranges
(:class:`NoOverlapError`). ``bd_table`` turns such errors into NaN rows with a ``status`` text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

from .errors import DlicError

__all__ = [
    "MIN_POINTS",
    "RDCurveError",
    "NonMonotoneCurveError",
    "NoOverlapError",
    "bd_rate",
    "bd_quality",
    "bd_table",
    "summarize_bd",
    "rd_points",
    "rank_codecs",
    "chroma_bias",
]

MIN_POINTS = 4
METHODS = ("cubic", "pchip")


class RDCurveError(DlicError):
    """A rate–quality curve cannot be used for a Bjøntegaard delta."""


class NonMonotoneCurveError(RDCurveError):
    """Quality does not increase strictly with rate along a curve."""


class NoOverlapError(RDCurveError):
    """The two curves share no interval to integrate over."""


def _curve(curve, name: str, metric: str | None, rate: str, min_points: int = MIN_POINTS) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(curve, pd.DataFrame):
        if metric is None:
            others = [c for c in curve.columns if c != rate]
            if len(others) != 1:
                raise RDCurveError(f"{name} curve: name the quality column (metric=...) among {others}")
            metric = others[0]
        for col in (rate, metric):
            if col not in curve.columns:
                raise RDCurveError(f"{name} curve has no column {col!r}")
        r = pd.to_numeric(curve[rate], errors="coerce").to_numpy(float)
        q = pd.to_numeric(curve[metric], errors="coerce").to_numpy(float)
    else:
        try:
            r, q = (np.asarray(v, dtype=float).ravel() for v in curve)
        except (TypeError, ValueError) as exc:
            raise RDCurveError(f"{name} curve must be a table or a (rates, qualities) pair") from exc
        if r.shape != q.shape:
            raise RDCurveError(f"{name} curve has {r.size} rates but {q.size} quality values")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(q))):
        raise RDCurveError(f"{name} curve holds missing or non-numeric values")
    if r.size < min_points:
        raise RDCurveError(f"{name} curve has {r.size} point(s); a Bjøntegaard delta needs at least {min_points}")
    if np.any(r <= 0):
        raise RDCurveError(f"{name} curve has a non-positive rate ({r[r <= 0][0]:g}); rates must be > 0")
    order = np.argsort(r, kind="stable")
    return r[order], q[order]


def _check_monotone(r: np.ndarray, q: np.ndarray, name: str) -> None:
    if np.any(np.diff(r) == 0):
        raise NonMonotoneCurveError(f"{name} curve has two points at the same rate {r[np.argmax(np.diff(r) == 0)]:g}")
    bad = np.flatnonzero(np.diff(q) <= 0)
    if bad.size:
        k = bad[0]
        raise NonMonotoneCurveError(
            f"{name} curve is not monotone: quality {q[k]:g} at rate {r[k]:g} is not below "
            f"{q[k + 1]:g} at rate {r[k + 1]:g}"
        )


def _integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float, method: str) -> float:
    if method == "cubic":
        poly = np.polyint(np.polyfit(x, y, 3))
        return float(np.polyval(poly, hi) - np.polyval(poly, lo))
    order = np.argsort(x)
    return float(PchipInterpolator(x[order], y[order]).integrate(lo, hi))


def _check_min_points(method: str, min_points: int) -> None:
    if method not in METHODS:
        raise DlicError(f"unknown Bjøntegaard method {method!r}; use 'cubic' or 'pchip'")
    lowest = MIN_POINTS if method == "cubic" else 2
    if not isinstance(min_points, int) or min_points < lowest:
        raise DlicError(f"min_points must be an integer of at least {lowest} for the {method} method, got {min_points!r}")


def _prepare(anchor, test, metric, rate, method, check_monotone, min_points=MIN_POINTS):
    _check_min_points(method, min_points)
    ra, qa = _curve(anchor, "anchor", metric, rate, min_points)
    rt, qt = _curve(test, "test", metric, rate, min_points)
    if check_monotone or method == "pchip":
        _check_monotone(ra, qa, "anchor")
        _check_monotone(rt, qt, "test")
    return ra, qa, rt, qt


def _overlap(a: np.ndarray, b: np.ndarray, what: str) -> tuple[float, float]:
    lo, hi = max(a.min(), b.min()), min(a.max(), b.max())
    if not hi > lo:
        raise NoOverlapError(
            f"the curves' {what} ranges do not overlap ([{a.min():g}, {a.max():g}] vs [{b.min():g}, {b.max():g}])"
        )
    return float(lo), float(hi)


def bd_rate(
    anchor,
    test,
    *,
    metric: str | None = None,
    rate: str = "bpp",
    method: str = "cubic",
    check_monotone: bool = True,
    min_points: int = MIN_POINTS,
) -> float:
    """BD-rate of ``test`` against ``anchor`` in percent (negative = rate saving).

    ``anchor``/``test``: a table with columns ``rate`` and ``metric`` or a ``(rates, qualities)``
    pair. ln(rate) is modelled as a function of quality and averaged over the common quality range.
    """
    ra, qa, rt, qt = _prepare(anchor, test, metric, rate, method, check_monotone, min_points)
    lo, hi = _overlap(qa, qt, "quality")
    diff = (_integral(qt, np.log(rt), lo, hi, method) - _integral(qa, np.log(ra), lo, hi, method)) / (hi - lo)
    return float((np.exp(diff) - 1.0) * 100.0)


def bd_quality(
    anchor,
    test,
    *,
    metric: str | None = None,
    rate: str = "bpp",
    method: str = "cubic",
    check_monotone: bool = True,
    min_points: int = MIN_POINTS,
) -> float:
    """BD-quality (BD-PSNR for PSNR) of ``test`` against ``anchor`` in the metric's unit (positive = gain).

    Quality is modelled as a function of ln(rate) and averaged over the common log-rate range.
    """
    ra, qa, rt, qt = _prepare(anchor, test, metric, rate, method, check_monotone, min_points)
    la, lt = np.log(ra), np.log(rt)
    lo, hi = _overlap(la, lt, "rate")
    return float((_integral(lt, qt, lo, hi, method) - _integral(la, qa, lo, hi, method)) / (hi - lo))


def bd_table(
    data: pd.DataFrame,
    *,
    anchor: str,
    metrics: Sequence[str],
    rate: str = "bpp",
    codec: str = "codec",
    by: str | Sequence[str] | None = "image",
    method: str = "cubic",
    min_points: int = MIN_POINTS,
) -> pd.DataFrame:
    """Per-item Bjøntegaard deltas of every codec against ``anchor`` from one tidy RD table.

    ``data`` has one row per coded point with columns ``codec``, ``rate``, the ``metrics`` and the
    ``by`` column(s) (e.g. ``image``). Returns one row per (by…, codec, metric) with columns
    ``…by, codec, anchor, metric, method, bd_rate`` (%), ``bd_quality`` (metric unit), ``status``
    (``"ok"`` or the reason the deltas are NaN: too few points, non-monotone, no overlap).
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    for col in [codec, rate, *metrics, *by_cols]:
        if col not in data.columns:
            raise DlicError(f"RD table has no column {col!r}")
    if anchor not in set(data[codec]):
        raise DlicError(f"anchor codec {anchor!r} is not in the RD table's {codec!r} column")
    rows = []
    groups = data.groupby(by_cols, sort=False) if by_cols else [((), data)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        ref = part[part[codec] == anchor]
        for name in pd.unique(part[codec]):
            if name == anchor:
                continue
            tst = part[part[codec] == name]
            for metric in metrics:
                row = dict(zip(by_cols, key))
                row.update(codec=name, anchor=anchor, metric=metric, method=method)
                try:
                    if ref.empty:
                        raise RDCurveError("the anchor has no points for this item")
                    kw = dict(metric=metric, rate=rate, method=method, min_points=min_points)
                    row["bd_rate"] = bd_rate(ref, tst, **kw)
                    row["bd_quality"] = bd_quality(ref, tst, **kw)
                    row["status"] = "ok"
                except RDCurveError as exc:
                    row.update(bd_rate=np.nan, bd_quality=np.nan, status=str(exc))
                rows.append(row)
    return pd.DataFrame(rows, columns=[*by_cols, "codec", "anchor", "metric", "method", "bd_rate", "bd_quality", "status"])


def summarize_bd(
    table: pd.DataFrame,
    *,
    value: str = "bd_rate",
    by: Sequence[str] = ("codec", "metric"),
    ddof: int = 0,
) -> pd.DataFrame:
    """Mean and standard deviation of per-item deltas over a set (NaN rows are counted, not used).

    ``ddof=0`` gives the population SD (divide by N), as seed 004 reports; ``ddof=1`` the sample SD.
    Columns: ``…by, n, n_failed, mean, sd, ddof``.
    """
    by = list(by)
    for col in [value, *by]:
        if col not in table.columns:
            raise DlicError(f"BD table has no column {col!r}")
    grouped = table.groupby(by, sort=False)[value]
    out = grouped.agg(
        n=lambda v: int(v.notna().sum()),
        n_failed=lambda v: int(v.isna().sum()),
        mean="mean",
        sd=lambda v: float(np.std(v.dropna(), ddof=ddof)) if v.notna().sum() > ddof else np.nan,
    ).reset_index()
    out["ddof"] = ddof
    return out


def rd_points(
    table: pd.DataFrame,
    metrics: Sequence[str],
    *,
    by: Sequence[str] = ("dataset", "setting", "point"),
    rate: str = "bpp",
) -> pd.DataFrame:
    """Mean rate and mean metric values over images for every ``by`` group (seed 000's RD points).

    Columns: ``…by``, ``rate``, the ``metrics``, ``n_images``, and ``family, kind, chroma, weights``
    when the input has them (their first value per group).
    """
    by = list(by)
    for col in [*by, rate, *metrics]:
        if col not in table.columns:
            raise DlicError(f"RD table has no column {col!r}")
    grouped = table.groupby(by, sort=False)
    out = grouped[[rate, *metrics]].mean()
    out["n_images"] = grouped.size()
    carried = [c for c in ("family", "kind", "chroma", "weights") if c in table.columns and c not in by]
    if carried:
        out = out.join(grouped[carried].first())
    return out.reset_index()


def rank_codecs(
    points: pd.DataFrame,
    metric: str,
    *,
    codec: str = "setting",
    by: str | Sequence[str] | None = "dataset",
    rate: str = "bpp",
    min_points: int = 2,
) -> pd.DataFrame:
    """Rank codecs by their mean ``metric`` over one common log-rate interval (pchip interpolation).

    Per ``by`` group, the interval is the intersection of the codecs' rate ranges; codecs are
    admitted widest range first and a codec whose range would make the interval empty is left out
    (``status`` says so). The score is the average of the interpolated curve over the interval,
    i.e. the area under the RD curve divided by its width: higher is better for every metric here.
    Columns: ``…by, codec, metric, score, rank, rate_lo, rate_hi, status``.
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    rows = []
    groups = points.groupby(by_cols, sort=False) if by_cols else [((), points)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        curves, status = {}, {}
        for name, c in part.groupby(codec, sort=False):
            try:
                r, q = _curve(c, str(name), metric, rate, min_points)
                _check_monotone(r, q, str(name))
                curves[name] = (np.log(r), q)
            except RDCurveError as exc:
                status[name] = str(exc)
        lo, hi, admitted = -np.inf, np.inf, []
        for name in sorted(curves, key=lambda n: -(curves[n][0].max() - curves[n][0].min())):
            x = curves[name][0]
            nlo, nhi = max(lo, x.min()), min(hi, x.max())
            if nhi > nlo:
                lo, hi = nlo, nhi
                admitted.append(name)
            else:
                status[name] = "its rate range does not overlap the range shared by the other codecs"
        scores = {n: _integral(curves[n][0], curves[n][1], lo, hi, "pchip") / (hi - lo) for n in admitted}
        order = sorted(scores, key=lambda n: -scores[n])
        for name in [*order, *status]:
            row = dict(zip(by_cols, key))
            ok = name in scores
            row.update(codec=name, metric=metric, score=scores.get(name, np.nan),
                       rank=order.index(name) + 1 if ok else np.nan,
                       rate_lo=float(np.exp(lo)) if ok else np.nan, rate_hi=float(np.exp(hi)) if ok else np.nan,
                       status="ok" if ok else status[name])
            rows.append(row)
    return pd.DataFrame(rows, columns=[*by_cols, "codec", "metric", "score", "rank", "rate_lo", "rate_hi", "status"])


def chroma_bias(
    points: pd.DataFrame,
    metrics: Sequence[str],
    pairs: dict[str, tuple[str, str]],
    *,
    codec: str = "setting",
    by: str | Sequence[str] | None = "dataset",
    rate: str = "bpp",
    method: str = "pchip",
    min_points: int = MIN_POINTS,
) -> pd.DataFrame:
    """BD-rate/BD-quality of each codec's 4:4:4 curve against its own 4:2:0 curve.

    ``pairs`` maps a family name to its ``(label_420, label_444)`` settings. A negative BD-rate
    means 4:4:4 codes the same quality with fewer bits on that metric. Columns: those of
    :func:`bd_table` plus ``family``.
    """
    parts = []
    for family, (lab420, lab444) in pairs.items():
        sub = points[points[codec].isin([lab420, lab444])]
        if sub.empty or lab420 not in set(sub[codec]):
            continue
        t = bd_table(sub, anchor=lab420, metrics=metrics, rate=rate, codec=codec, by=by, method=method,
                     min_points=min_points)
        t.insert(0, "family", family)
        parts.append(t)
    if not parts:
        raise DlicError("chroma_bias: none of the 4:2:0 / 4:4:4 pairs is in the table")
    return pd.concat(parts, ignore_index=True)
