// Dashboard: progress per rater, live BT.500 screening and MOS/CI, refreshed every few seconds.
"use strict";
const token = decodeURIComponent(location.pathname.split("/").pop());
const $ = (id) => document.getElementById(id);
const fmt = (x, d = 3) => (x === null || x === undefined ? "—" : typeof x === "number" ? +x.toFixed(d) : String(x));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
$("export").href = `/export.csv?token=${encodeURIComponent(token)}`;

function table(el, rows, cols) {
  el.innerHTML = `<tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>` +
    rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(fmt(r[c]))}</td>`).join("")}</tr>`).join("");
}

function svg(el, parts) { el.innerHTML = parts.join(""); }

function screeningPlot(rows) {
  const el = $("screening-plot"), W = +el.getAttribute("width"), H = +el.getAttribute("height"), pad = 40;
  const top = Math.max(0.1, ...rows.map((r) => r.ratio_pq || 0));
  const y = (v) => H - pad - (v / top) * (H - 2 * pad), bw = (W - 2 * pad) / Math.max(rows.length, 1);
  const parts = [`<line x1="${pad}" x2="${W - pad}" y1="${y(0.05)}" y2="${y(0.05)}" stroke="#d62728" stroke-dasharray="4"/>`,
                 `<text x="${W - pad}" y="${y(0.05) - 4}" text-anchor="end" font-size="12">0.05</text>`];
  rows.forEach((r, i) => {
    const x = pad + i * bw;
    parts.push(`<rect x="${x + 2}" y="${y(r.ratio_pq || 0)}" width="${bw - 4}" height="${y(0) - y(r.ratio_pq || 0)}" fill="${r.rejected ? "#d62728" : "#1f77b4"}"><title>${esc(r.subject)}: ${fmt(r.ratio_pq)}</title></rect>`,
               `<text x="${x + bw / 2}" y="${H - pad + 14}" text-anchor="middle" font-size="11">${esc(r.subject)}</text>`);
  });
  svg(el, parts);
}

function mosPlot(rows, scale) {
  const el = $("mos-plot"), W = +el.getAttribute("width"), H = +el.getAttribute("height"), pad = 40;
  const lo = scale === "5" ? 1 : 0, hi = scale === "5" ? 5 : 100;
  const sorted = [...rows].sort((a, b) => a.mos - b.mos), dx = (W - 2 * pad) / Math.max(sorted.length, 1);
  const y = (v) => H - pad - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * (H - 2 * pad);
  const parts = [`<line x1="${pad}" x2="${pad}" y1="${y(lo)}" y2="${y(hi)}" stroke="#333"/>`,
                 `<text x="${pad - 6}" y="${y(lo)}" text-anchor="end" font-size="12">${lo}</text>`,
                 `<text x="${pad - 6}" y="${y(hi) + 10}" text-anchor="end" font-size="12">${hi}</text>`];
  sorted.forEach((r, i) => {
    const x = pad + (i + 0.5) * dx;
    if (r.ci !== null) parts.push(`<line x1="${x}" x2="${x}" y1="${y(r.ci_low)}" y2="${y(r.ci_high)}" stroke="#1f77b4"/>`);
    parts.push(`<circle cx="${x}" cy="${y(r.mos)}" r="3" fill="#1f77b4"><title>${esc(r.stimulus)}: ${fmt(r.mos, 2)} ± ${fmt(r.ci, 2)} (n=${r.n})</title></circle>`);
  });
  svg(el, parts);
}

async function refresh() {
  try {
    const r = await fetch(`/api/admin/${encodeURIComponent(token)}/summary`, {cache: "no-store"});
    const s = await r.json();
    if (!r.ok) { $("summary").textContent = s.error; return; }
    const done = s.raters.reduce((a, r) => a + r.n_voted, 0), all = s.raters.reduce((a, r) => a + r.n_trials, 0);
    $("summary").textContent = `${s.raters.length} raters, ${done}/${all} trials voted (${s.n_test_votes} test votes); ` +
      `${s.layout}, scale ${s.scale}; rejected: ${s.rejected.join(", ") || "none"}. ${s.note}`;
    table($("raters"), s.raters, ["subject", "n_voted", "n_trials", "last_vote_at", "link"]);
    table($("screening"), s.screening, ["subject", "n_votes", "p", "q", "ratio_pq", "asymmetry", "rejected"]);
    screeningPlot(s.screening);
    mosPlot(s.mos, s.scale);
  } catch (e) { $("summary").textContent = "server unreachable, retrying…"; }
}
refresh();
setInterval(refresh, 3000);
