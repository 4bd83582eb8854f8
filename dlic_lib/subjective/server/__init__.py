"""A browser DSIS test: rating pages from the plan, votes in SQLite, the raw-vote table for analysis.

``dlic dsis serve PLAN.csv --stimuli DIR --db votes.sqlite`` runs it; ``dlic dsis export`` writes
the table ``dlic dsis analyze`` reads. Modules: :mod:`.plan` (plan, images, BT.500 timings),
:mod:`.db` (vote store), :mod:`.app` (web app), :mod:`.summary` (dashboard), :mod:`.run` (serve).
"""

from .db import EXPORT_COLUMNS, VoteRejected, VoteStore, export_table
from .plan import LAYOUTS, Plan, Trial, load_plan, phase_seconds, resolve_image
from .run import links, open_test, serve

__all__ = [
    "EXPORT_COLUMNS", "VoteRejected", "VoteStore", "export_table", "LAYOUTS", "Plan", "Trial", "load_plan",
    "phase_seconds", "resolve_image", "links", "open_test", "serve",
]
