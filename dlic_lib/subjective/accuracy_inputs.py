"""Checks on the two tables of a metric-accuracy study (MOS per stimulus, metric values per stimulus).

A correlation computed from a wrong join is silently wrong, so :func:`check_accuracy_inputs`
refuses what cannot give a meaningful statistic and warns about what weakens one, naming the
file rows concerned (row numbers are lines of the CSV file, the header being line 1):

refused
    duplicated stimulus ids; non-numeric MOS or metric values; fewer than 3 stimuli in both
    files; a constant MOS; groups that name no value of the group column, or groups without one.
warned
    stimuli in only one of the files; blank metric values (those rows are left out of that
    metric); a constant metric (its correlations are undefined); subsets with fewer than 3 stimuli.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import pandas as pd

from ..errors import DlicError

__all__ = ["check_accuracy_inputs", "MIN_STIMULI"]

MIN_STIMULI = 3


def _lines(index: Sequence[int], limit: int = 8) -> str:
    lines = [str(int(i) + 2) for i in index]
    return ", ".join(lines[:limit]) + (f" and {len(lines) - limit} more" if len(lines) > limit else "")


def _ids(values: Sequence, limit: int = 5) -> str:
    shown = ", ".join(repr(str(v)) for v in list(values)[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _numeric(df: pd.DataFrame, column: str, name: str) -> pd.Series:
    """``df[column]`` as floats; text that is not a number is refused, naming its lines."""
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    text = raw.astype(str).str.strip()
    bad = values.isna() & raw.notna() & (text != "") & (text.str.lower() != "nan")
    if bad.any():
        rows = list(df.index[bad])
        raise DlicError(f"{name}: column {column!r} holds text that is not a number on line(s) {_lines(rows)} "
                        f"(e.g. {str(raw[bad].iloc[0])!r})")
    return values


def check_accuracy_inputs(
    mos: pd.DataFrame,
    metrics: pd.DataFrame,
    names: Sequence[str],
    *,
    key: str = "stimulus",
    mos_column: str = "mos",
    by: Sequence[str] = (),
    groups: Mapping[str, Sequence[str]] | None = None,
    mos_name: str = "MOS file",
    metrics_name: str = "metrics file",
) -> None:
    """Refuse or warn about the inputs of a metric–MOS accuracy table (see the module docstring).

    ``mos`` and ``metrics`` are the tables as read from their files (default integer index),
    before they are joined on ``key``.
    """
    for df, name in ((mos, mos_name), (metrics, metrics_name)):
        ids = df[key].astype(str).str.strip()
        blank = ids.eq("") | df[key].isna()
        if blank.any():
            raise DlicError(f"{name}: blank {key!r} on line(s) {_lines(list(df.index[blank]))}")
        dup = ids.duplicated(keep=False)
        if dup.any():
            repeated = list(dict.fromkeys(ids[dup]))
            raise DlicError(f"{name}: {key} {_ids(repeated)} appear(s) more than once, on line(s) "
                            f"{_lines(list(df.index[dup]))}; every {key} needs exactly one row")
    mos_values = _numeric(mos, mos_column, mos_name)
    if mos_values.isna().any():
        raise DlicError(f"{mos_name}: blank {mos_column!r} on line(s) {_lines(list(mos.index[mos_values.isna()]))}")
    for metric in names:
        _numeric(metrics, metric, metrics_name)

    mos_ids, metric_ids = set(mos[key].astype(str)), set(metrics[key].astype(str))
    only_mos, only_metrics = sorted(mos_ids - metric_ids), sorted(metric_ids - mos_ids)
    common = mos_ids & metric_ids
    if len(common) < MIN_STIMULI:
        raise DlicError(f"only {len(common)} {key}(s) appear in both files; correlations need at least {MIN_STIMULI}")
    if only_mos:
        warnings.warn(f"{len(only_mos)} {key}(s) of the {mos_name} have no metric values and are left out: {_ids(only_mos)}",
                      stacklevel=2)
    if only_metrics:
        warnings.warn(f"{len(only_metrics)} {key}(s) of the {metrics_name} have no MOS and are left out: "
                      f"{_ids(only_metrics)}", stacklevel=2)
    in_mos = mos[key].astype(str).isin(common)
    if mos_values[in_mos].nunique() < 2:
        raise DlicError(f"{mos_name}: the MOS is the same for every {key}; no correlation can be computed")
    in_metrics = metrics[key].astype(str).isin(common)
    for metric in names:
        values = pd.to_numeric(metrics[metric], errors="coerce")[in_metrics]
        if values.isna().any():
            warnings.warn(f"{metrics_name}: {metric} is blank on line(s) {_lines(list(values.index[values.isna()]))}; "
                          "those stimuli are left out of its statistics", stacklevel=2)
        if values.dropna().nunique() < 2:
            warnings.warn(f"{metrics_name}: {metric} is constant over the {len(common)} stimuli; its correlations are "
                          "undefined (empty in the table)", stacklevel=2)
    joined = mos[in_mos].merge(metrics[in_metrics], on=key, suffixes=("", "_metrics"))
    if groups:
        if not by:
            raise DlicError("--group needs a --by column whose values the groups list (e.g. --by codec)")
        column = by[0]
        present = set(joined[column].dropna().astype(str))
        for group, members in groups.items():
            unknown = [m for m in members if str(m) not in present]
            if unknown:
                raise DlicError(f"group {group!r} names value(s) {_ids(unknown)} that column {column!r} does not hold; "
                                f"its values: {_ids(sorted(present), 12)}")
    for column in by:
        counts = joined[column].astype(str).value_counts()
        small = counts[counts < MIN_STIMULI]
        if len(small):
            warnings.warn(f"subset(s) of {column!r} with fewer than {MIN_STIMULI} stimuli get no statistics: "
                          f"{_ids(list(small.index))}", stacklevel=2)
