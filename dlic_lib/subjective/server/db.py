"""Votes of a DSIS test in SQLite: one file per test, safe against kills, retries and double clicks.

The database holds the plan's trials, the rater and admin tokens, which trials were shown and the
votes. It runs in WAL mode with ``synchronous=FULL``; every vote is one ``BEGIN IMMEDIATE``
transaction, and a vote's key is (rater, trial), so a repeated request can never add a row. A
rater's position is the first trial without a vote, so a reload or a server restart resumes there.
"""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ...errors import DlicError
from ..scores import SCORE_COLUMNS, Scale
from .plan import Plan, Trial

__all__ = ["VoteStore", "VoteRejected", "export_table", "EXPORT_COLUMNS"]

EXPORT_COLUMNS = (*SCORE_COLUMNS, "scale", "layout", "voted_at")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS raters (subject TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS trials (
    subject TEXT NOT NULL, trial INTEGER NOT NULL, session INTEGER NOT NULL, "order" INTEGER NOT NULL,
    phase TEXT NOT NULL, stimulus TEXT NOT NULL, source TEXT NOT NULL, codec TEXT, rate REAL,
    duration_s REAL NOT NULL, break_before_s REAL NOT NULL, reference TEXT NOT NULL, impaired TEXT NOT NULL,
    PRIMARY KEY (subject, trial));
CREATE TABLE IF NOT EXISTS shown (
    subject TEXT NOT NULL, trial INTEGER NOT NULL, shown_at TEXT NOT NULL, PRIMARY KEY (subject, trial));
CREATE TABLE IF NOT EXISTS votes (
    subject TEXT NOT NULL, trial INTEGER NOT NULL, score REAL NOT NULL, voted_at TEXT NOT NULL,
    PRIMARY KEY (subject, trial));
"""


class VoteRejected(Exception):
    """A request the store refuses; ``status`` is the HTTP status that says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 30000")
    con.execute("PRAGMA synchronous = FULL")
    return con


@dataclass
class Progress:
    subject: str
    n_trials: int
    n_voted: int
    last_vote_at: str | None


class VoteStore:
    """The vote database of one test (created from ``plan`` on first use, checked against it after)."""

    def __init__(self, path: str | Path, plan: Plan, *, scale: str, layout: str):
        self.path = Path(path)
        self.plan = plan
        if self.path.exists() and not self.path.is_file():
            raise DlicError(f"vote database {self.path} is a folder; give a file name")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(_connect(self.path)) as con:
                if con.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                    raise DlicError(f"vote database {self.path} cannot use write-ahead logging")
                con.executescript(_SCHEMA)
                con.execute("BEGIN IMMEDIATE")
                try:
                    self._init_or_check(con, scale, layout)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
        except sqlite3.DatabaseError as exc:
            raise DlicError(f"{self.path} is not a usable vote database ({exc})") from None
        self.scale_key, self.layout = scale, layout
        with self._db() as con:
            self.admin_token = con.execute("SELECT value FROM meta WHERE key='admin_token'").fetchone()[0]
            self.tokens = dict(con.execute("SELECT token, subject FROM raters").fetchall())
        self.trials = plan.trials

    def _init_or_check(self, con: sqlite3.Connection, scale: str, layout: str) -> None:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            con.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("format", "dlic-dsis-votes/1"), ("plan_sha256", self.plan.fingerprint), ("scale", scale),
                ("layout", layout), ("admin_token", secrets.token_urlsafe(18)), ("created", _now()),
            ])
            con.executemany("INSERT INTO raters VALUES (?, ?)",
                            [(s, secrets.token_urlsafe(12)) for s in self.plan.subjects])
            con.executemany(
                "INSERT INTO trials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(t.subject, t.index, t.session, t.order, t.phase, t.stimulus, t.source, t.codec, t.rate,
                  t.duration_s, t.break_before_s, t.reference, t.impaired)
                 for ts in self.plan.trials.values() for t in ts])
            return
        if meta.get("format") != "dlic-dsis-votes/1":
            raise DlicError(f"{self.path} is not a dlic DSIS vote database")
        if meta["plan_sha256"] != self.plan.fingerprint:
            raise DlicError(f"{self.path} holds the votes of another plan; give this plan its own --db")
        for key, value in (("scale", scale), ("layout", layout)):
            if meta[key] != value:
                raise DlicError(f"{self.path} was started with --{key} {meta[key]}; a test cannot change its {key}")

    @contextmanager
    def _db(self):
        con = _connect(self.path)
        try:
            yield con
        finally:
            con.close()

    # -- raters -------------------------------------------------------------------------------
    def subject_of(self, token: str) -> str | None:
        return self.tokens.get(token)

    def position(self, con: sqlite3.Connection, subject: str) -> int:
        """Index of the rater's first trial without a vote (= number of trials when done)."""
        voted = {r[0] for r in con.execute("SELECT trial FROM votes WHERE subject=?", (subject,))}
        n = len(self.trials[subject])
        return next((i for i in range(n) if i not in voted), n)

    def current(self, subject: str) -> tuple[Trial | None, int]:
        """The rater's current trial (``None`` when done) and the number of trials voted."""
        with self._db() as con:
            pos = self.position(con, subject)
            n_voted = con.execute("SELECT COUNT(*) FROM votes WHERE subject=?", (subject,)).fetchone()[0]
        own = self.trials[subject]
        return (own[pos] if pos < len(own) else None), n_voted

    def _check_trial(self, subject: str, trial) -> int:
        if isinstance(trial, bool) or not isinstance(trial, int):
            raise VoteRejected(422, f"'trial' must be a whole number, not {trial!r}")
        if not 0 <= trial < len(self.trials[subject]):
            raise VoteRejected(404, f"rater {subject} has no trial {trial} (trials 0..{len(self.trials[subject]) - 1})")
        return trial

    def mark_shown(self, subject: str, trial) -> None:
        """Record that ``trial`` is on the rater's screen; only the current trial can be shown."""
        trial = self._check_trial(subject, trial)
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                pos = self.position(con, subject)
                if trial != pos:
                    con.execute("ROLLBACK")
                    what = "already has a vote" if trial < pos else "comes after the current trial"
                    raise VoteRejected(409, f"trial {trial} {what}; the current trial is {pos}")
                con.execute("INSERT OR IGNORE INTO shown VALUES (?, ?, ?)", (subject, trial, _now()))
                con.execute("COMMIT")
            except VoteRejected:
                raise
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def vote(self, subject: str, trial, score, scale: Scale) -> str:
        """Record one vote in one transaction; ``"recorded"`` or ``"already recorded"`` (same vote again).

        Raises :class:`VoteRejected` for a bad trial or score, a trial that was not shown yet, or
        a different score for a trial that already has a vote.
        """
        trial = self._check_trial(subject, trial)
        if isinstance(score, bool) or not isinstance(score, (int, float)) or score != score:
            raise VoteRejected(422, f"'score' must be a number, not {score!r}")
        score = float(score)
        if not scale.low <= score <= scale.high:
            raise VoteRejected(422, f"score {score:g} lies outside the {scale.describe()} scale")
        if scale.discrete and score != round(score):
            raise VoteRejected(422, f"score {score:g} is not a whole grade of the {scale.describe()} scale")
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                old = con.execute("SELECT score FROM votes WHERE subject=? AND trial=?", (subject, trial)).fetchone()
                if old is not None:
                    con.execute("ROLLBACK")
                    if old[0] == score:
                        return "already recorded"
                    raise VoteRejected(409, f"trial {trial} already has the vote {old[0]:g}; votes are final")
                pos = self.position(con, subject)
                shown = con.execute("SELECT 1 FROM shown WHERE subject=? AND trial=?", (subject, trial)).fetchone()
                if trial != pos or shown is None:
                    con.execute("ROLLBACK")
                    raise VoteRejected(409, f"trial {trial} has not been shown yet (the current trial is {pos})")
                con.execute("INSERT INTO votes VALUES (?, ?, ?, ?)", (subject, trial, score, _now()))
                con.execute("COMMIT")
            except VoteRejected:
                raise
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        return "recorded"

    def progress(self) -> list[Progress]:
        with self._db() as con:
            rows = dict((s, (n, last)) for s, n, last in con.execute(
                "SELECT subject, COUNT(*), MAX(voted_at) FROM votes GROUP BY subject"))
        return [Progress(s, len(ts), rows.get(s, (0, None))[0], rows.get(s, (0, None))[1])
                for s, ts in self.trials.items()]

    def export(self) -> pd.DataFrame:
        return export_table(self.path)


def export_table(path: str | Path) -> pd.DataFrame:
    """The raw-vote table of a vote database: test trials only, one row per vote (``dlic dsis analyze`` input).

    Columns :data:`EXPORT_COLUMNS`; rows by subject (plan order) and presentation order.
    """
    path = Path(path)
    if not path.is_file():
        raise DlicError(f"vote database {path} does not exist")
    try:
        with closing(_connect(path)) as con:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != "dlic-dsis-votes/1":
                raise DlicError(f"{path} is not a dlic DSIS vote database")
            df = pd.read_sql_query(
                'SELECT t.subject, t.stimulus, t.source, t.codec, t.rate, v.score, t.session, t."order", '
                "v.voted_at, t.trial FROM votes v JOIN trials t ON t.subject = v.subject AND t.trial = v.trial "
                "WHERE t.phase = 'test'", con)
            subjects = [r[0] for r in con.execute("SELECT subject FROM trials WHERE trial = 0 ORDER BY rowid")]
    except sqlite3.DatabaseError as exc:
        raise DlicError(f"{path} is not a dlic DSIS vote database ({exc})") from None
    rank = {s: i for i, s in enumerate(subjects)}
    df = df.sort_values(["subject", "trial"], key=lambda c: c.map(rank) if c.name == "subject" else c, kind="stable")
    df["scale"] = meta["scale"]
    df["layout"] = meta["layout"]
    return df[list(EXPORT_COLUMNS)].reset_index(drop=True)

