"""Randomised DSIS presentation plans (ITU-R BT.500 practice, as in seed 000 §4.3).

Each observer sees every test stimulus once, in a random order in which no two consecutive
stimuli come from the same source image. The test is split into sessions of at most
``max_session_minutes`` (training pairs included) with a break between sessions; each session
starts with training pairs that are not part of the test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DlicError

__all__ = ["plan_sessions", "PLAN_COLUMNS"]

PLAN_COLUMNS = (
    "subject", "session", "order", "phase", "stimulus", "source", "codec", "rate", "start_s", "duration_s",
)


def _as_stimulus_table(stimuli, what: str) -> pd.DataFrame:
    if isinstance(stimuli, pd.DataFrame):
        df = stimuli.copy()
    else:
        df = pd.DataFrame({"stimulus": list(stimuli)})
    if "stimulus" not in df.columns:
        raise DlicError(f"{what} table needs a 'stimulus' column")
    if df["stimulus"].isna().any():
        raise DlicError(f"{what} table has rows without a stimulus id")
    if df["stimulus"].duplicated().any():
        raise DlicError(f"{what} stimulus {df.loc[df['stimulus'].duplicated(), 'stimulus'].iloc[0]!r} is listed twice")
    if "source" not in df.columns:
        df["source"] = df["stimulus"]  # without sources, every stimulus is its own source
    for col in ("codec", "rate"):
        if col not in df.columns:
            df[col] = pd.NA
    return df.reset_index(drop=True)


def _feasible(counts: dict, prev, remaining: int) -> bool:
    """Can ``counts`` be ordered with no equal neighbours and a first item different from ``prev``?"""
    for src, c in counts.items():
        limit = remaining // 2 if src == prev else (remaining + 1) // 2
        if c > limit:
            return False
    return True


def _order_no_adjacent(sources: list, rng: np.random.Generator) -> list[int]:
    """Random permutation of indices with no two consecutive equal sources (raises if impossible)."""
    groups: dict = {}
    for idx in rng.permutation(len(sources)):
        groups.setdefault(sources[idx], []).append(int(idx))
    counts = {s: len(v) for s, v in groups.items()}
    n = len(sources)
    if not _feasible(counts, None, n):
        top = max(counts, key=counts.get)
        raise DlicError(
            f"source {top!r} has {counts[top]} of {n} stimuli; no order can keep its stimuli apart "
            f"(at most {(n + 1) // 2} allowed)"
        )
    order: list[int] = []
    prev = None
    keys = list(groups)
    for remaining in range(n, 0, -1):
        cands = []
        for s in keys:
            if s == prev or counts[s] == 0:
                continue
            counts[s] -= 1
            if _feasible(counts, s, remaining - 1):
                cands.append(s)
            counts[s] += 1
        weights = np.array([counts[s] for s in cands], dtype=float)
        pick = cands[int(rng.choice(len(cands), p=weights / weights.sum()))]
        counts[pick] -= 1
        order.append(groups[pick].pop())
        prev = pick
    return order


def plan_sessions(
    stimuli,
    *,
    training=None,
    seconds_per_trial: float = 10.0,
    max_session_minutes: float = 30.0,
    break_minutes: float = 5.0,
    subjects: int | Sequence | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Plan randomised DSIS sessions.

    ``stimuli``: ids or a table with ``stimulus`` and optionally ``source``, ``codec``, ``rate``.
    ``training``: training pairs shown at the start of every session (same form); they must not be
    test stimuli. ``subjects``: number or ids of observers, each with an independent order
    (default: one plan, ``subject`` = 1). The number of sessions is the smallest that keeps each
    session (training + test trials × ``seconds_per_trial``) within ``max_session_minutes``; test
    trials are split as evenly as possible. Rows with ``phase="break"`` separate sessions.

    Returns a tidy table with columns ``subject, session, order, phase`` (``training``/``test``/
    ``break``), ``stimulus, source, codec, rate, start_s, duration_s``; ``order`` counts test
    trials from 1 per subject (training and break rows have ``order`` 0). Same ``seed`` → same plan.
    """
    test = _as_stimulus_table(stimuli, "stimulus")
    if test.empty:
        raise DlicError("no stimuli to plan")
    train = _as_stimulus_table(training, "training") if training is not None else None
    if train is not None:
        overlap = set(train["stimulus"]) & set(test["stimulus"])
        if overlap:
            raise DlicError(
                f"training pair(s) {sorted(map(str, overlap))[:3]} are also test stimuli; training must use other pairs"
            )
    if not seconds_per_trial > 0 or not max_session_minutes > 0 or break_minutes < 0:
        raise DlicError("seconds_per_trial and max_session_minutes must be positive and break_minutes >= 0")
    n_train = 0 if train is None else len(train)
    per_session = math.floor(max_session_minutes * 60 / seconds_per_trial + 1e-9) - n_train
    if per_session < 1:
        raise DlicError(
            f"a {max_session_minutes:g}-minute session at {seconds_per_trial:g} s per trial has no room "
            f"for test trials after {n_train} training pair(s)"
        )
    n_sessions = math.ceil(len(test) / per_session)
    sizes = [len(test) // n_sessions + (1 if k < len(test) % n_sessions else 0) for k in range(n_sessions)]
    if subjects is None:
        subject_ids: list = [1]
    elif isinstance(subjects, (int, np.integer)):
        if subjects < 1:
            raise DlicError("subjects must be at least 1")
        subject_ids = list(range(1, int(subjects) + 1))
    else:
        subject_ids = list(subjects)
    rows = []
    seeds = np.random.SeedSequence(seed).spawn(len(subject_ids))
    for subj, ss in zip(subject_ids, seeds):
        rng = np.random.default_rng(ss)
        order = _order_no_adjacent(test["source"].tolist(), rng)
        t = 0.0
        pos = 0
        n_test = 0
        for k, size in enumerate(sizes, start=1):
            if k > 1 and break_minutes > 0:
                rows.append((subj, k - 1, 0, "break", pd.NA, pd.NA, pd.NA, pd.NA, t, break_minutes * 60))
                t += break_minutes * 60
            if train is not None:
                for ti in rng.permutation(len(train)):
                    r = train.iloc[int(ti)]
                    rows.append((subj, k, 0, "training", r["stimulus"], r["source"], r["codec"], r["rate"], t, seconds_per_trial))
                    t += seconds_per_trial
            for idx in order[pos : pos + size]:
                r = test.iloc[idx]
                n_test += 1
                rows.append((subj, k, n_test, "test", r["stimulus"], r["source"], r["codec"], r["rate"], t, seconds_per_trial))
                t += seconds_per_trial
            pos += size
    plan = pd.DataFrame(rows, columns=list(PLAN_COLUMNS))
    plan.attrs.update(
        seconds_per_trial=seconds_per_trial, max_session_minutes=max_session_minutes,
        break_minutes=break_minutes, seed=seed,
    )
    return plan
