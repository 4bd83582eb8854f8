"""The browser DSIS test's web app: sessions in plan order, keyed votes, resume, export, bad input."""

from __future__ import annotations

import io
import json
import socket
import sqlite3
import threading
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from starlette.testclient import TestClient

from dlic_lib.cli import main
from dlic_lib.errors import DlicError
from dlic_lib.subjective import mos_table, plan_sessions
from dlic_lib.subjective.server import export_table, open_test, phase_seconds, serve
from dlic_lib.subjective.server.app import create_app


def make_study(root: Path, *, sources: int = 3, qualities=(8, 40), subjects: int = 2, seconds: float = 10.0,
               max_minutes: float = 30.0, break_minutes: float = 0.0, images: list[np.ndarray] | None = None,
               seed: int = 0) -> tuple[Path, Path]:
    """A plan and its stimulus folder: each source as PNG, JPEG versions as stimuli, one training pair."""
    stim = root / "stimuli"
    stim.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(sources + 1):  # the last source only serves the training pair
        pixels = images[s] if images is not None else rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(stim / f"src{s}.png")
        for q in qualities:
            Image.fromarray(pixels).save(stim / f"src{s}_q{q}.jpg", quality=q)
            if s < sources:
                rows.append({"stimulus": f"src{s}_q{q}", "source": f"src{s}", "codec": "jpeg", "rate": q / 100})
    training = pd.DataFrame([{"stimulus": f"src{sources}_q{qualities[0]}", "source": f"src{sources}"}])
    plan = plan_sessions(pd.DataFrame(rows), training=training, seconds_per_trial=seconds,
                         max_session_minutes=max_minutes, break_minutes=break_minutes, subjects=subjects, seed=seed)
    plan.to_csv(root / "plan.csv", index=False)
    return root / "plan.csv", stim


def snapshot(db: Path) -> list[str]:
    """Every row of every table (the database's content, for 'nothing changed' checks)."""
    with sqlite3.connect(db) as con:
        return list(con.iterdump())


@pytest.fixture
def study(tmp_path):
    plan, stim = make_study(tmp_path)
    store = open_test(plan, stim, tmp_path / "votes.sqlite")
    client = TestClient(create_app(store, time_scale=0.01))
    tokens = {s: t for t, s in store.tokens.items()}
    return store, client, tokens


def rate_all(client, token: str, score_of) -> list[dict]:
    """Run a rater's whole test through the API; ``score_of(trial)`` gives each vote."""
    done = []
    state = client.get(f"/api/r/{token}/state").json()
    while not state["done"]:
        t = state["trial"]
        assert client.post(f"/api/r/{token}/show", json={"trial": t["trial"]}).status_code == 200
        r = client.post(f"/api/r/{token}/vote", json={"trial": t["trial"], "score": score_of(t["trial"])})
        assert r.status_code == 200 and r.json()["status"] == "recorded", r.text
        done.append(t)
        state = r.json()["state"]
    return done


def test_session_follows_the_plan_and_export_is_what_analyze_reads(study, tmp_path):
    store, client, tokens = study
    plan = pd.read_csv(tmp_path / "plan.csv", dtype={"subject": str})
    for subject, token in tokens.items():
        trials = rate_all(client, token, lambda i, s=subject: 1 + (i * 7 + int(s)) % 5)
        own = plan[(plan["subject"] == subject) & (plan["phase"] != "break")]
        assert [t["phase"] for t in trials] == own["phase"].tolist()  # training first, then the plan's order
        assert trials[0]["seconds"] == pytest.approx({k: v * 0.01 for k, v in phase_seconds(10, "sequential").items()})
    raw = tmp_path / "raw.csv"
    assert main(["dsis", "export", str(tmp_path / "votes.sqlite"), "-o", str(raw)]) == 0
    exported = pd.read_csv(raw, dtype={"subject": str})
    expected = []
    for subject in tokens:
        own = plan[(plan["subject"] == subject) & (plan["phase"] != "break")].reset_index(drop=True)
        for i, row in own.iterrows():
            if row["phase"] == "test":
                expected.append({"subject": subject, "stimulus": row["stimulus"], "source": row["source"],
                                 "codec": row["codec"], "rate": row["rate"], "score": 1.0 + (i * 7 + int(subject)) % 5,
                                 "session": row["session"], "order": row["order"]})
    expected = pd.DataFrame(expected)
    pd.testing.assert_frame_equal(exported[expected.columns], expected, check_dtype=False)
    assert set(exported["scale"]) == {5} and set(exported["layout"]) == {"sequential"}
    assert client.get(f"/export.csv?token={store.admin_token}").text == raw.read_text()
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["dsis", "analyze", str(raw), "--scale", "5", "--json", "--no-screening"]) == 0
    mos = {m["stimulus"]: m["mos"] for m in json.loads(out.getvalue())["mos"]}
    assert mos == pytest.approx(expected.groupby("stimulus")["score"].mean().to_dict())


def test_retries_and_double_clicks_never_duplicate_a_vote(study):
    store, client, tokens = study
    token = tokens["1"]
    client.post(f"/api/r/{token}/show", json={"trial": 0})
    answers = []

    def click():
        answers.append(client.post(f"/api/r/{token}/vote", json={"trial": 0, "score": 4}))

    threads = [threading.Thread(target=click) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(a.status_code == 200 for a in answers)
    assert sorted(a.json()["status"] for a in answers) == ["already recorded"] * 7 + ["recorded"]
    with sqlite3.connect(store.path) as con:
        assert con.execute("SELECT COUNT(*), MAX(score) FROM votes").fetchone() == (1, 4.0)


def test_reload_and_restart_resume_at_the_first_unvoted_trial(study, tmp_path):
    store, client, tokens = study
    token = tokens["2"]
    for trial in range(3):
        client.post(f"/api/r/{token}/show", json={"trial": trial})
        client.post(f"/api/r/{token}/vote", json={"trial": trial, "score": 3})
    client.post(f"/api/r/{token}/show", json={"trial": 3})  # shown, then the browser reloads
    assert client.get(f"/api/r/{token}/state").json()["trial"]["trial"] == 3
    restarted = open_test(tmp_path / "plan.csv", tmp_path / "stimuli", tmp_path / "votes.sqlite")
    assert restarted.tokens == store.tokens and restarted.admin_token == store.admin_token
    again = TestClient(create_app(restarted))
    state = again.get(f"/api/r/{token}/state").json()
    assert state["n_voted"] == 3 and state["trial"]["trial"] == 3
    assert again.post(f"/api/r/{token}/vote", json={"trial": 3, "score": 5}).json()["status"] == "recorded"


def _bad_requests(tokens, admin):
    r1, r2 = tokens["1"], tokens["2"]
    return {
        "unknown token, page": ("get", "/r/nosuchtoken", None, 404, "unknown rater link"),
        "unknown token, state": ("get", "/api/r/nosuchtoken/state", None, 404, "unknown rater link"),
        "unknown token, vote": ("post", "/api/r/nosuchtoken/vote", {"trial": 0, "score": 3}, 404, "unknown rater link"),
        "admin token as rater": ("post", f"/api/r/{admin}/vote", {"trial": 0, "score": 3}, 403, "admin link"),
        "vote for another rater": ("post", f"/api/r/{r1}/vote", {"trial": 0, "score": 3, "subject": "2"}, 403,
                                   "belongs to rater 1"),
        "rater token on the dashboard": ("get", f"/api/admin/{r2}/summary", None, 403, "rater link cannot"),
        "rater token on the export": ("get", f"/export.csv?token={r1}", None, 403, "rater link cannot"),
        "export without token": ("get", "/export.csv", None, 401, "admin token is missing"),
        "export, unknown token": ("get", "/export.csv?token=guess", None, 403, "unknown admin token"),
        "score above the scale": ("post", f"/api/r/{r1}/vote", {"trial": 0, "score": 6}, 422, "outside the 5-grade"),
        "score below the scale": ("post", f"/api/r/{r1}/vote", {"trial": 0, "score": 0}, 422, "outside the 5-grade"),
        "half a grade": ("post", f"/api/r/{r1}/vote", {"trial": 0, "score": 3.5}, 422, "not a whole grade"),
        "score as text": ("post", f"/api/r/{r1}/vote", {"trial": 0, "score": "4"}, 422, "must be a number"),
        "score true": ("post", f"/api/r/{r1}/vote", {"trial": 0, "score": True}, 422, "must be a number"),
        "score NaN": ("raw", f"/api/r/{r1}/vote", b'{"trial": 0, "score": NaN}', 422, "must be a number"),
        "trial not shown yet": ("post", f"/api/r/{r1}/vote", {"trial": 0, "score": 3}, 409, "not been shown yet"),
        "trial ahead": ("post", f"/api/r/{r1}/vote", {"trial": 2, "score": 3}, 409, "not been shown yet"),
        "show a later trial": ("post", f"/api/r/{r1}/show", {"trial": 2}, 409, "comes after the current trial"),
        "trial out of range": ("post", f"/api/r/{r1}/vote", {"trial": 999, "score": 3}, 404, "has no trial 999"),
        "negative trial": ("post", f"/api/r/{r1}/show", {"trial": -1}, 404, "has no trial -1"),
        "trial as text": ("post", f"/api/r/{r1}/vote", {"trial": "0", "score": 3}, 422, "whole number"),
        "trial as float": ("post", f"/api/r/{r1}/vote", {"trial": 0.5, "score": 3}, 422, "whole number"),
        "body not JSON": ("raw", f"/api/r/{r1}/vote", b"trial=0&score=3", 400, "not valid JSON"),
        "body a list": ("post", f"/api/r/{r1}/vote", [0, 3], 400, "JSON object"),
        "missing score": ("post", f"/api/r/{r1}/vote", {"trial": 0}, 400, "missing field(s) score"),
        "unknown field": ("post", f"/api/r/{r1}/vote", {"trial": 0, "score": 3, "weight": 2}, 400, "unknown field"),
        "huge body": ("raw", f"/api/r/{r1}/vote", b" " * 5000 + b"{}", 413, "larger than"),
        "image of no trial": ("get", f"/img/{r1}/999/reference", None, 404, "has no trial 999"),
        "image neither side": ("get", f"/img/{r1}/0/secret", None, 404, "either 'reference' or 'impaired'"),
        "path up and out": ("get", f"/stimuli/{admin}/%2e%2e/plan.csv", None, 400, "leads out of the stimulus folder"),
        "encoded slashes": ("get", f"/stimuli/{admin}/..%2f..%2f..%2fetc%2fpasswd", None, 400, "leads out of"),
        "absolute path": ("get", f"/stimuli/{admin}//etc/passwd", None, 400, "not a relative path"),
        "symbolic link out": ("get", f"/stimuli/{admin}/escape.png", None, 400, "leads out of the stimulus folder"),
        "image not in the plan": ("get", f"/stimuli/{admin}/extra.png", None, 404, "plan shows no image"),
        "stimulus by a rater": ("get", f"/stimuli/{r1}/src0.png", None, 403, "rater link cannot"),
    }


def test_every_bad_request_gets_a_clear_answer_and_changes_nothing(study, tmp_path):
    store, client, tokens = study
    (tmp_path / "outside.png").write_bytes((tmp_path / "stimuli" / "src0.png").read_bytes())
    (tmp_path / "stimuli" / "escape.png").symlink_to(tmp_path / "outside.png")
    (tmp_path / "stimuli" / "extra.png").write_bytes(b"not in the plan")
    r2 = tokens["2"]
    client.post(f"/api/r/{r2}/show", json={"trial": 0})
    client.post(f"/api/r/{r2}/vote", json={"trial": 0, "score": 2})
    cases = {**_bad_requests(tokens, store.admin_token),
             "change a vote": ("post", f"/api/r/{r2}/vote", {"trial": 0, "score": 5}, 409, "votes are final"),
             "show a voted trial": ("post", f"/api/r/{r2}/show", {"trial": 0}, 409, "already has a vote")}
    for name, (method, url, body, status, text) in cases.items():
        before = snapshot(store.path)
        if method == "raw":
            r = client.post(url, content=body, headers={"Content-Type": "application/json"})
        elif method == "post":
            r = client.post(url, json=body)
        else:
            r = client.get(url)
        assert r.status_code == status, f"{name}: {r.status_code} {r.text}"
        assert text in r.json()["error"], f"{name}: {r.json()}"
        assert snapshot(store.path) == before, f"{name} changed the database"
    assert client.get(f"/stimuli/{store.admin_token}/src0.png").status_code == 200  # the good path still works


def run_cli(*args) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        rc = main(list(args))
    return rc, err.getvalue()


def test_a_plan_naming_missing_images_is_refused_at_start_with_the_list(tmp_path):
    plan, stim = make_study(tmp_path)
    (stim / "src1_q8.jpg").unlink()
    (stim / "src2.png").unlink()
    rc, err = run_cli("dsis", "serve", str(plan), "--stimuli", str(stim), "--db", str(tmp_path / "v.sqlite"))
    assert rc == 2 and err.count("\n") == 1 and err.startswith("dlic: error: the plan names 2 image(s) missing")
    assert "src1_q8" in err and "src2" in err
    assert not (tmp_path / "v.sqlite").exists()


def test_plan_ids_that_leave_the_stimulus_folder_are_refused(tmp_path):
    plan, stim = make_study(tmp_path)
    table = pd.read_csv(plan)
    (tmp_path / "secret.png").write_bytes((stim / "src0.png").read_bytes())
    for bad, message in (("../secret", "leads out of the stimulus folder"), ("/etc/passwd", "not a relative path")):
        table.loc[table.index[table["phase"] == "test"][0], "stimulus"] = bad
        table.to_csv(plan, index=False)
        with pytest.raises(DlicError, match=message):
            open_test(plan, stim, tmp_path / "v.sqlite")
    assert not (tmp_path / "v.sqlite").exists()


def test_a_database_keeps_its_plan_scale_and_layout(study, tmp_path):
    store, client, tokens = study
    with pytest.raises(DlicError, match="started with --scale 5"):
        open_test(tmp_path / "plan.csv", tmp_path / "stimuli", store.path, scale="100")
    with pytest.raises(DlicError, match="started with --layout sequential"):
        open_test(tmp_path / "plan.csv", tmp_path / "stimuli", store.path, layout="side-by-side")
    other, _ = make_study(tmp_path / "other", seed=1)
    with pytest.raises(DlicError, match="votes of another plan"):
        open_test(other, tmp_path / "stimuli", store.path)
    rc, err = run_cli("dsis", "export", str(tmp_path / "plan.csv"), "-o", str(tmp_path / "x.csv"))
    assert rc == 2 and "not a dlic DSIS vote database" in err and err.count("\n") == 1
    rc, err = run_cli("dsis", "export", str(store.path), "-o", str(store.path))
    assert rc == 2 and "is also an input" in err
    rc, err = run_cli("dsis", "export", str(store.path), "-o", str(tmp_path))
    assert rc == 2 and "is a folder" in err


def test_continuous_scale_side_by_side(tmp_path):
    plan, stim = make_study(tmp_path, subjects=1)
    store = open_test(plan, stim, tmp_path / "v.sqlite", scale="100", layout="side-by-side")
    client = TestClient(create_app(store, time_scale=0.5))
    token = next(iter(store.tokens))
    state = client.get(f"/api/r/{token}/state").json()
    assert state["scale"]["low"] == 0 and state["scale"]["high"] == 100 and not state["scale"]["discrete"]
    assert state["trial"]["seconds"] == pytest.approx({"grey": 0.5, "pair": 10 / 3, "vote": 7 / 6})
    client.post(f"/api/r/{token}/show", json={"trial": 0})
    before = snapshot(store.path)
    assert client.post(f"/api/r/{token}/vote", json={"trial": 0, "score": 100.5}).status_code == 422
    assert snapshot(store.path) == before
    assert client.post(f"/api/r/{token}/vote", json={"trial": 0, "score": 73.5}).json()["status"] == "recorded"


def test_dashboard_shows_progress_screening_and_mos(study):
    store, client, tokens = study
    for subject, token in tokens.items():
        rate_all(client, token, lambda i, s=subject: 1 + (i + int(s)) % 5)
    assert "dashboard" in client.get(f"/admin/{store.admin_token}").text
    summary = client.get(f"/api/admin/{store.admin_token}/summary").json()
    assert [r["n_voted"] for r in summary["raters"]] == [r["n_trials"] for r in summary["raters"]]
    assert {r["subject"] for r in summary["screening"]} == {"1", "2"}
    expected = mos_table(export_table(store.path), exclude_subjects=summary["rejected"])
    assert {m["stimulus"]: m["mos"] for m in summary["mos"]} == pytest.approx(dict(zip(expected["stimulus"], expected["mos"])))


def test_serve_refuses_a_busy_port_and_bad_settings(study):
    store, _, _ = study
    with pytest.raises(DlicError, match="not a TCP port"):
        serve(store, port=70000, out=io.StringIO())
    with pytest.raises(DlicError, match="--time-scale must be positive"):
        serve(store, time_scale=0, out=io.StringIO())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(DlicError, match="cannot listen on 127.0.0.1"):
            serve(store, port=busy.getsockname()[1], out=io.StringIO())
