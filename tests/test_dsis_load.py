"""20 raters vote at once on loopback while the server is killed (SIGKILL) twice and restarted:
every acknowledged vote is in the export exactly once, and every rater finishes."""

from __future__ import annotations

import io
import os
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


# Servers are forked from one single-threaded process that has loaded the modules once: every
# start is a fresh process (new database connections, new socket; a server keeps no other state),
# and a restart costs what a restart costs, not the imports of a loaded machine.
_ZYGOTE = """
import os, signal, sys
import uvicorn, dlic_lib.subjective.server.app
from dlic_lib.cli import main
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed servers are reaped at once
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(2, 1)
        os._exit(main(sys.argv[1:]))
    print(pid, flush=True)
"""


def _zygote(plan, stim, db, port, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _ZYGOTE, "dsis", "serve", str(plan), "--stimuli", str(stim), "--db", str(db),
         "--host", "127.0.0.1", "--port", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)


def _start(zygote: subprocess.Popen, port: int) -> int:
    zygote.stdin.write(b"start\n")
    zygote.stdin.flush()
    pid = int(zygote.stdout.readline())
    end = time.monotonic() + 90
    while time.monotonic() < end:
        assert _alive(pid), "the server exited at start"
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return pid
        except requests.RequestException:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    while _alive(pid):
        time.sleep(0.01)


def _score(subject: str, trial: int) -> int:
    return 1 + (int(subject) * 3 + trial * 7) % 5


def test_twenty_raters_and_two_kills_lose_and_duplicate_nothing(tmp_path):
    plan, stim = make_study(tmp_path, sources=3, subjects=RATERS)
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
        zygote = _zygote(plan, stim, db, port, log)
        server = None
        threads = [threading.Thread(target=rater, args=(t, s)) for t, s in store.tokens.items()]
        try:
            server = _start(zygote, port)
            for th in threads:
                th.start()
            for share in (1 / 3, 2 / 3):  # kill twice mid-run, restart at once
                while len(acked) < share * n_total and time.monotonic() < stop_at and not errors:
                    time.sleep(0.01)
                _kill(server)
                n_at_kill = len(acked)
                server = _start(zygote, port)
                assert n_at_kill < n_total, "the raters finished before the kill"
            for th in threads:
                th.join(timeout=max(1.0, stop_at - time.monotonic()))
            export = pd.read_csv(io.StringIO(requests.get(f"{base}/export.csv", params={"token": store.admin_token},
                                                          timeout=30).text), dtype={"subject": str})
        finally:
            if server is not None and _alive(server):
                _kill(server)
            zygote.kill()
            zygote.wait()
    assert not errors, errors[:5]
    assert len(acked) == n_total  # every trial of every rater was acknowledged
    tests = {(t.subject, t.stimulus): t.index for ts in store.trials.values() for t in ts if t.phase == "test"}
    assert len(export) == len(tests) and not export.duplicated(["subject", "stimulus"]).any()
    for row in export.itertuples():
        assert acked[(row.subject, tests[(row.subject, row.stimulus)])] == row.score
    assert export_table(db).to_csv(index=False) == export.to_csv(index=False)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
