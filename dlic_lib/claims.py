"""The claims ledger: each checkable claim of the source documents, published vs ours, with a verdict.

Published claims come from ``reference/published/seed_claims.csv`` (shipped with the package).
A chapter that tests a claim records its outcome with :func:`record_claim` (one JSON file per
claim under ``<results_dir>/claims/``, so chapters can run in any order and the last chapter can
gather all of them); :func:`ledger` joins the published claims of a seed with the recorded
outcomes, listing a claim nobody tested as ``"not assessed"``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from .config import results_dir
from .errors import DlicError
from .outputs import write_table, write_text

__all__ = ["VERDICTS", "ClaimOutcome", "published_table", "published_claims", "record_claim", "ledger", "write_ledger"]

#: allowed verdicts; "not testable here" needs a reason (data or setup not available)
VERDICTS = ("reproduced", "partly reproduced", "not reproduced", "not testable here")
LEDGER_COLUMNS = ["id", "seed", "claim", "published", "location", "ours", "setup", "verdict", "why", "chapter",
                  "profile"]


@dataclass(frozen=True)
class ClaimOutcome:
    """What a chapter found for one claim."""

    id: str
    ours: str
    setup: str
    verdict: str
    why: str
    chapter: str
    profile: str


def published_table(name: str) -> pd.DataFrame:
    """A published reference table by file stem, e.g. ``"seed000_table8_score_distribution"``."""
    files = resources.files("dlic_lib") / "reference" / "published"
    path = files / f"{name}.csv"
    if not path.is_file():
        known = sorted(p.name.removesuffix(".csv") for p in files.iterdir() if p.name.endswith(".csv"))
        raise DlicError(f"no published table {name!r}; known: {', '.join(known)}")
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, keep_default_na=False, na_values=[""])


def published_claims(seed: str | None = None) -> pd.DataFrame:
    """The checkable claims (``id, seed, document, claim, numbers, location``), optionally of one seed."""
    claims = published_table("seed_claims")
    return claims if seed is None else claims[claims["seed"] == seed].reset_index(drop=True)


def _claims_dir() -> Path:
    return results_dir() / "claims"


def record_claim(claim_id: str, *, ours: str, setup: str, verdict: str, why: str, chapter: str,
                 profile: str) -> ClaimOutcome:
    """Record the outcome of testing ``claim_id`` (overwrites an earlier record of the same claim)."""
    if claim_id not in set(published_claims()["id"]):
        raise DlicError(f"unknown claim id {claim_id!r}; see reference/published/seed_claims.csv")
    if verdict not in VERDICTS:
        raise DlicError(f"verdict must be one of {', '.join(VERDICTS)}; got {verdict!r}")
    if not why.strip():
        raise DlicError(f"claim {claim_id}: say why (setup differences, data limits) next to the verdict")
    outcome = ClaimOutcome(claim_id, ours, setup, verdict, why, chapter, profile)
    record = json.dumps({**asdict(outcome), "recorded_at": time.time()}, indent=1)
    write_text(_claims_dir() / f"{claim_id}.json", record, what="claim record")
    return outcome


def ledger(seed: str | None = None) -> pd.DataFrame:
    """Published claims joined with the recorded outcomes (``verdict="not assessed"`` where none)."""
    claims = published_claims(seed)
    outcomes = {}
    folder = _claims_dir()
    for claim_id in claims["id"]:
        path = folder / f"{claim_id}.json"
        if path.is_file():
            try:
                outcomes[claim_id] = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise DlicError(f"claim record {path} is unreadable; rerun the chapter that writes it") from None
    rows = []
    for c in claims.itertuples(index=False):
        o = outcomes.get(c.id, {})
        rows.append({"id": c.id, "seed": c.seed, "claim": c.claim, "published": c.numbers, "location": c.location,
                     "ours": o.get("ours", ""), "setup": o.get("setup", ""), "verdict": o.get("verdict", "not assessed"),
                     "why": o.get("why", ""), "chapter": o.get("chapter", ""), "profile": o.get("profile", "")})
    return pd.DataFrame(rows, columns=LEDGER_COLUMNS)


def write_ledger(seed: str) -> Path:
    """Write :func:`ledger` of ``seed`` to ``<results_dir>/claims/<seed>_ledger.csv`` and return the path."""
    path = _claims_dir() / f"{seed}_ledger.csv"
    return write_table(ledger(seed), path, what="claim ledger")
