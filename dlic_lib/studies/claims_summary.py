"""The closing chapter: every claim of the five documents with the verdict the chapters recorded.

Built only from the records the chapters write (:func:`dlic_lib.claims.record_claim`), so it can
never disagree with them. A claim no chapter recorded is ``"not run at this profile"``; a record
made at another profile than the one asked for keeps its verdict and says which profile made it.
"""

from __future__ import annotations

import pandas as pd

from ..claims import VERDICTS, ledger

__all__ = ["NOT_RUN", "VERDICT_ORDER", "all_claims", "verdict_counts", "chapter_link"]

NOT_RUN = "not run at this profile"
VERDICT_ORDER = (*VERDICTS, NOT_RUN)
#: the document of each seed, as the book names it
DOCUMENTS = {
    "seed000": "learned vs conventional codecs, DSIS (seed 000)",
    "seed001": "CNNs around JPEG (seed 001)",
    "seed002": "nine metrics and learned codecs (seed 002)",
    "seed003": "intra prediction with autoencoders (seed 003)",
    "seed004": "ProxIQA (seed 004)",
}


def chapter_link(chapter: str) -> str:
    """The HTML link of a chapter page from the claims page (both live in ``chapters/``)."""
    return f'<a href="{chapter}.html">{chapter}</a>' if chapter else ""


def all_claims(profile: str | None = None) -> pd.DataFrame:
    """All published claims joined with the recorded outcomes.

    Columns: those of :func:`dlic_lib.claims.ledger` plus ``document`` and ``at_profile`` (``True`` when
    the record was made at ``profile``; ``None`` when no profile is asked). Unrecorded claims get
    :data:`NOT_RUN`.
    """
    table = ledger()
    table["verdict"] = table["verdict"].where(table["verdict"].isin(VERDICTS), NOT_RUN)
    table["document"] = table["seed"].map(DOCUMENTS).fillna(table["seed"])
    if profile is None:
        table["at_profile"] = None
    else:
        table["at_profile"] = (table["profile"] == profile) | (table["verdict"] == NOT_RUN)
    return table


def verdict_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Claims per document and verdict (rows: documents and a total; columns: verdicts in book order)."""
    counts = pd.crosstab(table["document"], table["verdict"]).reindex(columns=list(VERDICT_ORDER), fill_value=0)
    counts.loc["all documents"] = counts.sum()
    return counts
