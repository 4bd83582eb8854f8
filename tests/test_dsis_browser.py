"""A rater completes a DSIS session in headless Chromium by keyboard (and one click); the export holds the keys.

Chromium is driven through chromedriver's W3C WebDriver HTTP interface (Debian's ``chromium`` and
``chromium-driver``). Set ``DLIC_DSIS_SCREENSHOT=path.png`` to keep the rating-screen screenshot
(the book's subjective chapter shows it).
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import socket
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pytest
import requests
import uvicorn
from PIL import Image

from dlic_lib.subjective.server import open_test, phase_seconds
from dlic_lib.subjective.server.app import create_app
from test_dsis_server import make_study

TIME_SCALE = 0.05  # a 10-s trial lasts 0.5 s
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1280,800", "--screen-info={1280x800}"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _browser() -> tuple[str, str]:
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI")
        pytest.skip("chromium or chromedriver not installed (apt-get install chromium chromium-driver)")
    return chromium, driver


class WebDriver:
    """The few W3C WebDriver commands the test needs, over HTTP."""

    def __init__(self, url: str, chromium: str, profile: str):
        self.url = url
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium, "args": [*FLAGS, f"--user-data-dir={profile}"]}}}}
        self.session = f"{url}/session/" + self._call("post", f"{url}/session", caps)["sessionId"]

    def _call(self, method: str, url: str, body: dict | None = None):
        r = requests.request(method, url, json=body, timeout=60)
        value = r.json()["value"]
        assert r.status_code == 200, value
        return value

    def cmd(self, method: str, path: str, body: dict | None = None):
        return self._call(method, f"{self.session}/{path}" if path else self.session, body)

    def script(self, js: str):
        return self.cmd("post", "execute/sync", {"script": js, "args": []})

    def key(self, key: str) -> None:
        self.cmd("post", "actions", {"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]})

    def click(self, css: str) -> None:
        element = self.cmd("post", "element", {"using": "css selector", "value": css})
        self.cmd("post", f"element/{next(iter(element.values()))}/click", {})


def _wait(driver: WebDriver, accept, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        seen = driver.script("return [document.body.dataset.phase, document.body.dataset.trial || null]")
        if accept(*seen):
            return seen
        time.sleep(0.03)
    raise AssertionError(f"the page stayed at {seen}")


@pytest.mark.browser
def test_a_session_completed_by_keyboard_is_exported_as_pressed(tmp_path, kodak_dir):
    chromium, chromedriver = _browser()
    crops = [np.asarray(Image.open(kodak_dir / f"kodim{i:02d}.png").convert("RGB"))[128:320, 192:448] for i in (1, 5, 13, 23)]
    plan_path, stim = make_study(tmp_path, images=crops, subjects=1, max_minutes=1.0, break_minutes=0.05)
    store = open_test(plan_path, stim, tmp_path / "votes.sqlite")
    port, driver_port = _free_port(), _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, time_scale=TIME_SCALE), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    chromedriver_proc = subprocess.Popen([chromedriver, f"--port={driver_port}"], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{driver_port}"
        for _ in range(200):
            try:
                if requests.get(f"{base}/status", timeout=1).json()["value"]["ready"] and server.started:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        driver = WebDriver(base, chromium, str(tmp_path / "profile"))
        try:
            token = next(iter(store.tokens))
            driver.cmd("post", "url", {"url": f"http://127.0.0.1:{port}/r/{token}"})
            n_trials = len(store.trials["1"])
            pressed, starts, fullscreen = {}, 0, []
            rng = np.random.default_rng(5)
            for trial in range(n_trials):
                phase, _ = _wait(driver, lambda p, t, k=trial: p == "start" or (p == "vote" and t == str(k)))
                if phase == "start":
                    starts += 1
                    driver.key(" ")
                    _wait(driver, lambda p, t, k=trial: p == "vote" and t == str(k))
                    fullscreen.append(driver.script("return document.fullscreenElement !== null"))
                assert driver.script("return document.getElementById('stage').children.length === 0 && "
                                     "getComputedStyle(document.body).backgroundColor") == "rgb(128, 128, 128)"
                if trial == 1:
                    shot = base64.b64decode(driver.cmd("get", "screenshot"))
                    assert Image.open(io.BytesIO(shot)).size[0] == 1280
                    if os.environ.get("DLIC_DSIS_SCREENSHOT"):
                        with open(os.environ["DLIC_DSIS_SCREENSHOT"], "wb") as fh:
                            fh.write(shot)
                pressed[trial] = int(rng.integers(1, 6))
                if trial == n_trials - 1:
                    driver.click(f'#grades button[data-score="{pressed[trial]}"]')  # the mouse works too
                else:
                    driver.key(str(pressed[trial]))
            _wait(driver, lambda p, t: p == "done")
            timeline = driver.script("return window.dsisTimeline")
        finally:
            driver.cmd("delete", "")
        assert starts == 2 and all(fullscreen)  # one start screen per session, each asks for full screen
        export = pd.read_csv(io.StringIO(requests.get(f"http://127.0.0.1:{port}/export.csv",
                                                      params={"token": store.admin_token}, timeout=30).text))
    finally:
        chromedriver_proc.terminate()
        chromedriver_proc.wait(timeout=30)
        server.should_exit = True
        thread.join(timeout=30)
    trials = store.trials["1"]
    tests = [t for t in trials if t.phase == "test"]
    assert export["stimulus"].tolist() == [t.stimulus for t in tests]
    assert export["score"].tolist() == [float(pressed[t.index]) for t in tests]
    # what the screen showed, and for how long: reference, grey, impaired for each trial, as planned
    seconds = {k: v * TIME_SCALE for k, v in phase_seconds(trials[0].duration_s, "sequential").items() if k != "vote"}
    shown = [(p, k, ms) for p, k, ms in timeline if p in ("reference", "grey", "impaired", "vote", "sending")]
    for (phase, k, start), (_, _, end) in zip(shown, shown[1:]):
        if phase in seconds:
            assert seconds[phase] - 0.005 <= (end - start) / 1000 <= seconds[phase] + 3.0, (phase, k, end - start)
    sequence = [p for p, k, _ in shown if k == tests[0].index and p in seconds]
    assert sequence == ["reference", "grey", "impaired"]
