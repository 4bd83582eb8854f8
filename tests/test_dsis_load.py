"""20 raters vote at once on loopback while the server is killed (SIGKILL) twice and restarted:
every acknowledged vote is in the export exactly once, and every rater finishes."""

from __future__ import annotations

import io
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pandas as pd
import requests

from dlic_lib.subjective.server import export_table, open_test
from test_dsis_server import make_study

RATERS = 20
DEADLINE_S = 150  # a bound for a loaded machine; the run takes a fraction of it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(plan, stim, db, port, log) -> subprocess.Popen:
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dlic_lib", "dsis", "serve", str(plan), "--stimuli", str(stim), "--db", str(db),
         "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    end = time.monotonic() + 90
    while time.monotonic() < end:
        assert proc.poll() is None, "the server exited at start"
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                print(f"server up in {time.monotonic() - t0:.1f} s")
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def _score(subject: str, trial: int) -> int:
    return 1 + (int(subject) * 3 + trial * 7) % 5


def test_twenty_raters_and_two_kills_lose_and_duplicate_nothing(tmp_path):
    plan, stim = make_study(tmp_path, sources=4, subjects=RATERS)
    db = tmp_path / "votes.sqlite"
    store = open_test(plan, stim, db)  # creates the database and the links the raters use
    n_total = sum(len(t) for t in store.trials.values())
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    acked: dict[tuple[str, int], float] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + DEADLINE_S

    def rater(token: str, subject: str) -> None:
        http = requests.Session()

        def call(method: str, path: str, body=None):
            wait = 0.05
            while time.monotonic() < stop_at:
                try:
                    r = http.request(method, base + path, json=body, timeout=10)
                    if r.status_code < 500:
                        return r
                except requests.RequestException:  # server down: retry the same request, as the page does
                    pass
                time.sleep(wait)
                wait = min(2 * wait, 0.8)
            raise TimeoutError

        try:
            state = call("GET", f"/api/r/{token}/state").json()
            while not state["done"]:
                trial = state["trial"]["trial"]
                r = call("POST", f"/api/r/{token}/show", {"trial": trial})
                if r.status_code != 200:
                    errors.append(f"rater {subject}, show {trial}: {r.text}")
                    return
                r = call("POST", f"/api/r/{token}/vote", {"trial": trial, "score": _score(subject, trial)})
                if r.status_code != 200:
                    errors.append(f"rater {subject}, vote {trial}: {r.text}")
                    return
                with lock:
                    acked[(subject, trial)] = float(_score(subject, trial))
                state = r.json()["state"]
        except TimeoutError:
            errors.append(f"rater {subject} ran out of time")

    with open(tmp_path / "server.log", "wb") as log:
        server = _start(plan, stim, db, port, log)
        threads = [threading.Thread(target=rater, args=(t, s)) for t, s in store.tokens.items()]
        try:
            for th in threads:
                th.start()
            for share in (1 / 3, 2 / 3):  # kill twice mid-run, restart at once
                while len(acked) < share * n_total and time.monotonic() < stop_at and not errors:
                    time.sleep(0.01)
                server.send_signal(signal.SIGKILL)
                server.wait()
                n_at_kill = len(acked)
                server = _start(plan, stim, db, port, log)
                assert n_at_kill < n_total, "the raters finished before the kill"
            for th in threads:
                th.join(timeout=max(1.0, stop_at - time.monotonic()))
            export = pd.read_csv(io.StringIO(requests.get(f"{base}/export.csv", params={"token": store.admin_token},
                                                          timeout=30).text), dtype={"subject": str})
        finally:
            server.kill()
            server.wait()
    assert not errors, errors[:5]
    assert len(acked) == n_total  # every trial of every rater was acknowledged
    tests = {(t.subject, t.stimulus): t.index for ts in store.trials.values() for t in ts if t.phase == "test"}
    assert len(export) == len(tests) and not export.duplicated(["subject", "stimulus"]).any()
    for row in export.itertuples():
        assert acked[(row.subject, tests[(row.subject, row.stimulus)])] == row.score
    assert export_table(db).to_csv(index=False) == export.to_csv(index=False)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
