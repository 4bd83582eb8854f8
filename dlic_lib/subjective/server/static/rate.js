// DSIS rating page: runs the rater's trials as the server's plan orders them.
// Phases (body[data-phase]): loading, start, break, grey, reference, impaired, pair, vote, sending, done, error.
"use strict";
const token = decodeURIComponent(location.pathname.split("/").pop());
const $ = (id) => document.getElementById(id);
const cache = new Map();  // url -> decoded <img>
let state = null, session = null, moved = false, busy = false;
window.dsisTimeline = [];  // [phase, trial, ms]: what was on the screen when (checked by the tests)

function setPhase(phase, message) {
  document.body.dataset.phase = phase;
  window.dsisTimeline.push([phase, state && state.trial ? state.trial.trial : null, performance.now()]);
  if (message !== undefined) $("message").innerHTML = message;
  $("panel").hidden = !["loading", "start", "break", "done", "error"].includes(phase);
  $("vote").hidden = phase !== "vote";
  $("stage").replaceChildren();  // mid-grey unless a picture phase puts its images back
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function preload(url) {
  if (!cache.has(url)) {
    const img = new Image();
    img.alt = "";
    img.src = url;
    cache.set(url, img.decode().then(() => img));
  }
  return cache.get(url);
}

async function call(method, path, body) {
  // retries until the server answers (a restart or a dropped connection loses no vote: votes are keyed)
  for (let wait = 250; ; wait = Math.min(wait * 2, 4000)) {
    try {
      const r = await fetch(path, {method, headers: {"Content-Type": "application/json"},
                                   body: body ? JSON.stringify(body) : undefined, cache: "no-store"});
      if (r.status < 500) return {status: r.status, data: await r.json()};
    } catch (e) { /* network error: retry */ }
    $("status").textContent = "connection lost, retrying…";
    await sleep(wait);
  }
}

async function load() {
  const r = await call("GET", `/api/r/${encodeURIComponent(token)}/state`);
  if (r.status !== 200) return setPhase("error", r.data.error);
  await next(r.data);
}

async function next(s) {
  state = s;
  $("status").textContent = `trial ${s.n_voted + 1 > s.n_trials ? s.n_trials : s.n_voted + 1} of ${s.n_trials}`;
  if (s.done) {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    return setPhase("done", "<h1>Thank you!</h1><p>All your votes are recorded. You may close this page.</p>");
  }
  const t = s.trial;
  const images = Promise.all([preload(t.reference), preload(t.impaired)]);
  s.preload.forEach(preload);
  if (session === t.session) { await images; return run(t); }
  if (t.break_s > 0 && session !== null) {
    for (let left = Math.ceil(t.break_s); left > 0; left--) {
      setPhase("break", `<h1>Break</h1><p>Rest your eyes. Session ${t.session} starts in ${left} s.</p>`);
      await sleep(Math.min(1000, t.break_s * 1000));
    }
  }
  await images;
  const training = t.phase === "training" ? "<p>The first trials are training: they show the kind of impairments to expect.</p>" : "";
  const how = s.scale.discrete
    ? "Vote with the keys <kbd>1</kbd>–<kbd>5</kbd> or a click."
    : "Vote with the slider (arrow keys or mouse), then <kbd>Enter</kbd>.";
  const order = s.layout === "sequential" ? "the reference image, then the same image after coding" : "the reference image (left) and the coded image (right)";
  setPhase("start", `<h1>Session ${t.session} of ${s.n_sessions}</h1><p>You will see ${order}.</p>${training}<p>${how}</p>`
                    + `<p><button id="go" type="button">Start (Space)</button></p>`);
  $("go").addEventListener("click", begin);
}

function begin() {
  if (document.body.dataset.phase !== "start") return;
  const el = document.documentElement;
  if (!document.fullscreenElement && el.requestFullscreen) el.requestFullscreen().catch(() => {});
  session = state.trial.session;
  run(state.trial);
}

async function show(phase, urls, seconds) {
  const imgs = await Promise.all(urls.map(preload));  // decoded beforehand: the timing holds
  setPhase(phase);
  $("stage").className = urls.length > 1 ? "pair" : "";
  $("stage").replaceChildren(...imgs);
  await sleep(seconds * 1000);
}

async function run(t) {
  document.body.dataset.trial = String(t.trial);
  const r = await call("POST", `/api/r/${encodeURIComponent(token)}/show`, {trial: t.trial});
  if (r.status !== 200) return load();  // another tab moved on: take the server's state
  const sec = t.seconds;
  if (state.layout === "sequential") {
    await show("reference", [t.reference], sec.reference);
    await show("grey", [], sec.grey);
    await show("impaired", [t.impaired], sec.impaired);
  } else {
    await show("grey", [], sec.grey);
    await show("pair", [t.reference, t.impaired], sec.pair);
  }
  askVote();
}

function askVote() {
  moved = false; busy = false;
  const sc = state.scale;
  $("grades").hidden = !sc.discrete;
  $("slider").hidden = sc.discrete;
  $("hint").textContent = "";
  if (sc.discrete) {
    $("grades").replaceChildren(...sc.labels.map((label, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.score = String(i + 1);
      b.innerHTML = `<kbd>${i + 1}</kbd>${label}`;
      b.addEventListener("click", () => submit(i + 1));
      return b;
    }));
  } else {
    $("range").value = "50";
    $("value").textContent = "—";
    $("submit").disabled = true;
  }
  setPhase("vote");
  if (!sc.discrete) $("range").focus();
}

async function submit(score) {
  if (busy || document.body.dataset.phase !== "vote") return;
  busy = true;
  for (const b of $("grades").children) b.classList.toggle("chosen", b.dataset.score === String(score));
  document.body.dataset.phase = "sending";
  const r = await call("POST", `/api/r/${encodeURIComponent(token)}/vote`, {trial: state.trial.trial, score});
  $("status").textContent = "";
  if (r.status === 200) return next(r.data.state);
  if (r.status === 409) return load();
  busy = false;
  document.body.dataset.phase = "vote";
  $("hint").textContent = r.data.error;
}

$("range").addEventListener("input", () => {
  moved = true;
  $("value").textContent = $("range").value;
  $("submit").disabled = false;
});
$("submit").addEventListener("click", () => moved && submit(Number($("range").value)));

document.addEventListener("keydown", (e) => {
  if (e.repeat) return;
  const phase = document.body.dataset.phase;
  if (phase === "start" && (e.key === " " || e.key === "Enter")) { e.preventDefault(); return begin(); }
  if (phase !== "vote") return;
  if (state.scale.discrete && /^[1-5]$/.test(e.key)) { e.preventDefault(); return submit(Number(e.key)); }
  if (!state.scale.discrete) {
    const step = {ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1, PageUp: 10, PageDown: -10}[e.key];
    if (step !== undefined) {
      e.preventDefault();
      $("range").value = String(Math.max(0, Math.min(100, Number($("range").value) + step)));
      $("range").dispatchEvent(new Event("input"));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (moved) submit(Number($("range").value));
      else $("hint").textContent = "Move the slider first (arrow keys or mouse).";
    }
  }
});

load();
