# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Every claim, published vs ours
#
# The five source documents make 48 checkable claims (`reference/published/seed_claims.csv`). Each
# chapter that tests a claim records what it found — our number, the setup, a verdict and why the
# numbers differ. This page gathers those records, so it never disagrees with the chapters; a claim
# that no chapter has tested at this profile says so. Verdicts: *reproduced*, *partly reproduced*,
# *not reproduced*, and *not testable here* (the data or setup is not available offline).

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full: the profile the book was run at

# %% tags=["hide-input"]
import html

import plotly.graph_objects as go

from dlic_lib import plots
from dlic_lib.config import results_dir
from dlic_lib.studies.claims_summary import VERDICT_ORDER, all_claims, chapter_link, verdict_counts
from IPython.display import HTML, display

table = all_claims(profile)
OUT = results_dir() / "claims"
OUT.mkdir(parents=True, exist_ok=True)
table.to_csv(OUT / "all_claims.csv", index=False)
counts = verdict_counts(table)

# %% tags=["hide-input"]
from dlic_lib.provenance import provenance_table

provenance_table(profile)

# %% [markdown]
# ## Verdicts per document

# %% tags=["hide-input"]
display(counts)
colours = {"reproduced": "#2ca02c", "partly reproduced": "#bcbd22", "not reproduced": "#d62728",
           "not testable here": "#7f7f7f", "not run at this profile": "#c7c7c7"}
fig = go.Figure()
docs = [d for d in counts.index if d != "all documents"]
for verdict in VERDICT_ORDER:
    fig.add_trace(go.Bar(y=docs, x=counts.loc[docs, verdict], name=verdict, orientation="h", marker_color=colours[verdict]))
fig.update_layout(barmode="stack", xaxis_title="claims", yaxis_autorange="reversed")
plots.show(plots.style(fig, title="Claims of the five documents by verdict", height=360))

# %% [markdown]
# ## All claims
#
# Click a column header to sort; the chapter link opens the page where the claim is tested.
# A record made at another profile than this page's is marked.

# %% tags=["hide-input"]
rows = []
for r in table.itertuples(index=False):
    mark = "" if r.at_profile in (True, None) else f" (at {r.profile})"
    cells = [html.escape(str(v)) for v in (r.id, r.document, r.claim, r.published, r.ours)]
    cells += [html.escape(f"{r.verdict}{mark}"), html.escape(str(r.why)), chapter_link(r.chapter)]
    rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
header = "".join(f"<th onclick=\"dlicSort(this)\" style=\"cursor:pointer\">{h}</th>"
                 for h in ("id", "document", "claim", "published", "ours", "verdict", "why", "chapter"))
script = """<script>function dlicSort(th){const t=th.closest('table'),i=[...th.parentNode.children].indexOf(th),
b=t.tBodies[0],r=[...b.rows],d=th.dataset.d==='1'?-1:1;th.dataset.d=d===1?'1':'0';
r.sort((x,y)=>x.cells[i].innerText.localeCompare(y.cells[i].innerText,undefined,{numeric:true})*d);r.forEach(x=>b.appendChild(x));}</script>"""
display(HTML(script + '<table class="dlic-claims" style="font-size:12px"><thead><tr>' + header + "</tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>"))
