"""What the admin dashboard shows: progress per rater, live BT.500 screening, MOS with 95 % CIs."""

from __future__ import annotations

import math

from ...errors import DlicError
from ..mos import mos_table
from ..screening import bt500_screening
from .db import VoteStore

__all__ = ["dashboard_summary", "json_value"]


def json_value(value):
    """JSON-safe Python value (NaN → null, numpy scalars → Python)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(df, columns) -> list[dict]:
    return [{c: json_value(r[c]) for c in columns} for r in df.to_dict(orient="records")]


def dashboard_summary(store: VoteStore, base_url: str) -> dict:
    """Progress, screening and MOS of the votes so far (stimuli with at least two test votes).

    Screening needs two raters; both tables need two votes per stimulus. Until then ``note``
    says what is missing.
    """
    raters = [
        {"subject": p.subject, "link": f"{base_url}/r/{token}", "n_trials": p.n_trials, "n_voted": p.n_voted,
         "last_vote_at": p.last_vote_at}
        for p, token in zip(store.progress(), _tokens_by_subject(store))
    ]
    raw = store.export()
    out = {"raters": raters, "n_test_votes": int(len(raw)), "scale": store.scale_key, "layout": store.layout,
           "screening": [], "rejected": [], "mos": [], "note": ""}
    counts = raw.groupby("stimulus")["score"].transform("size") if len(raw) else raw["score"]
    usable = raw[counts >= 2]
    if usable.empty:
        out["note"] = "MOS and screening appear once a stimulus has votes from two raters."
        return out
    try:
        if usable["subject"].nunique() >= 2:
            screening = bt500_screening(usable, scale=store.scale_key)
            out["screening"] = _records(screening.subjects,
                                        ["subject", "n_votes", "p", "q", "ratio_pq", "asymmetry", "rejected", "reason"])
            out["rejected"] = [str(s) for s in screening.rejected]
        mos = mos_table(usable, scale=store.scale_key, exclude_subjects=out["rejected"])
        out["mos"] = _records(mos, ["stimulus", "source", "codec", "rate", "n", "mos", "ci", "ci_low", "ci_high"])
    except DlicError as exc:  # e.g. every rater rejected
        out["note"] = str(exc)
    return out


def _tokens_by_subject(store: VoteStore) -> list[str]:
    by_subject = {s: t for t, s in store.tokens.items()}
    return [by_subject[p] for p in store.trials]
