"""The presentation plan a DSIS server runs: trials per rater, image files, BT.500 timings.

A plan is the table ``dlic dsis plan`` writes (:data:`~dlic_lib.subjective.design.PLAN_COLUMNS`):
one row per trial in presentation order per ``subject``; ``phase`` is ``training``, ``test`` or
``break``. A trial shows the unimpaired ``source`` image (the reference) and the impaired
``stimulus``; each id names an image in the stimulus folder, either as a file name or as a file
name without its extension (``kodim01`` → ``kodim01.png``). A ``break`` row becomes a pause of its
``duration_s`` before the next trial.

Timings follow ITU-R BT.500's DSIS variant I (reference 10 s, mid-grey 3 s, impaired 10 s, vote
during 5–11 s of mid-grey), scaled so that the parts add up to the plan's ``duration_s``:

========================  ==========================================================
layout                    phases of one trial of ``duration_s`` = D
========================  ==========================================================
``sequential``            reference D/3 · grey D/10 · impaired D/3 · vote 7D/30
``side-by-side``          grey D/10 · reference left, impaired right 2D/3 · vote 7D/30
========================  ==========================================================

The vote phase is the time the plan allows for voting; the rating screen stays until the vote.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from ...errors import DlicError

__all__ = ["LAYOUTS", "IMAGE_SUFFIXES", "Trial", "Plan", "load_plan", "resolve_image", "phase_seconds"]

LAYOUTS = ("sequential", "side-by-side")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".avif")
_PHASES = ("training", "test", "break")
_REQUIRED = ("subject", "phase", "stimulus", "duration_s")


class StimulusPathError(DlicError):
    """An image path that is absolute, malformed or leads out of the stimulus folder."""


@dataclass(frozen=True)
class Trial:
    """One trial of one rater: ``index`` counts the rater's trials from 0 in presentation order."""

    subject: str
    index: int
    session: int
    order: int
    phase: str
    stimulus: str
    source: str
    codec: str | None
    rate: float | None
    duration_s: float
    break_before_s: float
    reference: str  # image file, relative to the stimulus folder (POSIX)
    impaired: str


@dataclass(frozen=True)
class Plan:
    """Trials per rater (in plan order), the stimulus folder, and a fingerprint of the trials."""

    trials: dict[str, list[Trial]]
    stimuli_dir: Path
    fingerprint: str

    @property
    def subjects(self) -> list[str]:
        return list(self.trials)

    def images(self) -> set[str]:
        return {p for ts in self.trials.values() for t in ts for p in (t.reference, t.impaired)}


def phase_seconds(duration_s: float, layout: str) -> dict[str, float]:
    """Seconds of each phase of a trial of ``duration_s`` (see the module docstring)."""
    d = float(duration_s)
    if layout == "sequential":
        return {"reference": d / 3, "grey": d / 10, "impaired": d / 3, "vote": 7 * d / 30}
    if layout == "side-by-side":
        return {"grey": d / 10, "pair": 2 * d / 3, "vote": 7 * d / 30}
    raise DlicError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")


def resolve_image(root: Path, name: str) -> Path | None:
    """The image file ``name`` names inside ``root`` (exact name first, then with an image suffix).

    Raises :class:`StimulusPathError` for absolute paths, backslashes, NUL bytes or paths that
    leave ``root`` (also through symbolic links); returns ``None`` when no such file exists.
    """
    if not name or "\x00" in name or "\\" in name or PurePosixPath(name).is_absolute() or name.startswith("~"):
        raise StimulusPathError(f"image path {name!r} is not a relative path inside the stimulus folder")
    base = root.resolve()
    candidates = [name] + [name + suffix for suffix in IMAGE_SUFFIXES]
    for cand in candidates:
        path = (base / cand).resolve()
        if not path.is_relative_to(base):
            raise StimulusPathError(f"image path {name!r} leads out of the stimulus folder")
        if path.is_file():
            return path
    return None


def _number(value, what: str, row: int) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DlicError(f"plan row {row}: {what} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise DlicError(f"plan row {row}: {what} must be finite")
    return x


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def load_plan(path: str | Path, stimuli_dir: str | Path) -> Plan:
    """Read a plan CSV and check it against the stimulus folder.

    Raises :class:`~dlic_lib.errors.DlicError` (one line) for a missing folder, missing columns,
    unknown phases, bad numbers, a test stimulus shown twice to one rater, image ids that leave the
    folder and — listing them all — images the folder does not hold.
    """
    root = Path(stimuli_dir)
    if not root.is_dir():
        raise DlicError(f"stimulus folder {root} does not exist")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DlicError(f"plan {path} does not exist") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DlicError(f"cannot read plan {path} as CSV: {str(exc).splitlines()[0]}") from None
    absent = [c for c in _REQUIRED if c not in df.columns]
    if absent:
        raise DlicError(f"plan {path} lacks column(s) {', '.join(absent)} (write it with `dlic dsis plan`)")
    trials: dict[str, list[Trial]] = {}
    pending_break: dict[str, float] = {}
    missing: list[str] = []
    resolved: dict[str, str] = {}

    def image(name: str) -> str:
        if name not in resolved:
            found = resolve_image(root, name)
            if found is None:
                missing.append(name)
                resolved[name] = name
            else:
                resolved[name] = found.relative_to(root.resolve()).as_posix()
        return resolved[name]

    for i, rec in enumerate(df.to_dict(orient="records"), start=2):  # row 1 is the header
        subject = _text(rec["subject"])
        phase = _text(rec["phase"])
        if subject is None:
            raise DlicError(f"plan row {i} has no subject")
        if phase not in _PHASES:
            raise DlicError(f"plan row {i}: phase {rec['phase']!r} is not one of {', '.join(_PHASES)}")
        duration = _number(rec["duration_s"], "duration_s", i)
        if duration <= 0:
            raise DlicError(f"plan row {i}: duration_s must be positive")
        if phase == "break":
            pending_break[subject] = pending_break.get(subject, 0.0) + duration
            continue
        stimulus = _text(rec["stimulus"])
        if stimulus is None:
            raise DlicError(f"plan row {i}: a {phase} trial needs a stimulus")
        source = _text(rec.get("source")) or stimulus
        own = trials.setdefault(subject, [])
        session = int(_number(rec.get("session") or 1, "session", i))
        order = int(_number(rec.get("order") or 0, "order", i))
        rate = _text(rec.get("rate"))
        own.append(Trial(
            subject=subject, index=len(own), session=session, order=order, phase=phase,
            stimulus=stimulus, source=source, codec=_text(rec.get("codec")),
            rate=None if rate is None else _number(rate, "rate", i), duration_s=duration,
            break_before_s=pending_break.pop(subject, 0.0), reference=image(source), impaired=image(stimulus),
        ))
    if missing:
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        raise DlicError(f"the plan names {len(missing)} image(s) missing from {root}: {shown}")
    if not trials:
        raise DlicError(f"plan {path} has no trials")
    for subject, own in trials.items():
        seen: set[str] = set()
        for t in own:
            if t.phase == "test":
                if t.stimulus in seen:
                    raise DlicError(f"plan shows test stimulus {t.stimulus!r} twice to subject {subject!r}")
                seen.add(t.stimulus)
    canon = json.dumps([[t.subject, t.index, t.session, t.order, t.phase, t.stimulus, t.source, t.codec, t.rate,
                         t.duration_s, t.break_before_s] for ts in trials.values() for t in ts])
    return Plan(trials=trials, stimuli_dir=root, fingerprint=hashlib.sha256(canon.encode()).hexdigest())
