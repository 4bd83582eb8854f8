"""Live progress: status files for a parent's terminal, a tqdm bar in a plain process, nothing in a kernel."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest

from dlic_lib import progress
from dlic_lib.progress import Monitor, format_eta, read_status, status_line, task


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (59.6, "1:00"), (754, "12:34"), (3723, "1:02:03"),
                                           (None, "?"), (float("nan"), "?"), (-1, "?")])
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


def test_task_writes_a_status_file_in_the_side_channel(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(progress.STATUS_DIR_ENV, str(tmp_path))
    with task("codec grid", total=10, unit="cell") as bar:
        bar.set_detail("HEVC 4:2:0 · kodim03")
        bar.update(4)
        time.sleep(0.8)  # rewritten at most twice a second, the last change always written
        record = json.loads(next(tmp_path.glob("*.json")).read_text())
        (t,) = record["tasks"]
        assert (t["stage"], t["detail"], t["step"], t["total"], t["unit"]) == ("codec grid", "HEVC 4:2:0 · kodim03", 4, 10, "cell")
        assert read_status(tmp_path)[0]["step"] == 4
    assert read_status(tmp_path) == []  # closed tasks leave the file
    assert capsys.readouterr().err == ""  # nothing on this process's stderr


def test_status_of_an_ended_process_is_ignored(tmp_path):
    script = ("import os, sys; os.environ['DLIC_PROGRESS_DIR'] = sys.argv[1]\n"
              "from dlic_lib.progress import task\n"
              "t = task('training', total=5)\nt.update(2)\nos._exit(0)\n")  # dies without closing its task
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True)
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert read_status(tmp_path) == []


def test_status_line_gives_step_total_and_eta():
    now = 1000.0
    tasks = [{"stage": "training", "detail": "BF-E q1", "step": 30, "total": 130, "unit": "step", "initial": 10,
              "started": now - 20}]
    assert status_line(tasks, now) == "training: BF-E q1 30/130 step, ETA 1:40"  # 20 steps in 20 s, 100 to go
    assert status_line([{"stage": "decoding", "step": 3, "total": None, "unit": "img"}], now) == "decoding 3 img"


def test_monitor_draws_the_chapter_and_the_stage(tmp_path):
    script = ("import os, sys, time; os.environ['DLIC_PROGRESS_DIR'] = sys.argv[1]\n"
              "from dlic_lib.progress import task\n"
              "t = task('codec grid', total=8, unit='cell'); t.set_detail('WebP · kodim01'); t.update(2)\n"
              "time.sleep(30)\n")
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
    try:
        deadline = time.time() + 60
        while [t["step"] for t in read_status(tmp_path)] != [2] and time.time() < deadline:
            time.sleep(0.2)
        stream = io.StringIO()
        with Monitor(tmp_path, "[2/3] 02_objective_study", stream=stream, interval=0.1):
            time.sleep(0.5)
        line = stream.getvalue().splitlines()[0]
        assert line.startswith("[2/3] 02_objective_study 0:00 · codec grid: WebP · kodim01 2/8 cell, ETA ")
    finally:
        child.kill()
        child.wait()


def test_plain_process_gets_a_tqdm_bar_on_stderr(monkeypatch, capsys):
    monkeypatch.delenv(progress.STATUS_DIR_ENV, raising=False)
    with task("encoding", total=3, unit="img") as bar:
        bar.update(3)
    assert "encoding" in capsys.readouterr().err
    monkeypatch.setenv("DLIC_PROGRESS", "0")
    with task("silent", total=3) as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""


def test_a_kernel_without_side_channel_shows_nothing(monkeypatch, capsys):
    monkeypatch.delenv(progress.STATUS_DIR_ENV, raising=False)
    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    with task("training", total=3) as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""


def test_track_reports_each_item_and_closes(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.STATUS_DIR_ENV, str(tmp_path))
    seen = []
    for item in progress.track(range(3), "describing images", unit="img"):
        seen.append(item)
        (t,) = read_status(tmp_path)
        assert (t["stage"], t["total"], t["step"] <= item) == ("describing images", 3, True)
    assert seen == [0, 1, 2] and read_status(tmp_path) == []


def test_library_loops_leave_no_tqdm_import_behind():
    """tqdm.auto warns inside a kernel without widgets ("IProgress not found"): only dlic_lib.progress uses tqdm."""
    from pathlib import Path

    import dlic_lib

    root = Path(dlic_lib.__file__).parent
    users = [p.relative_to(root).as_posix() for p in root.rglob("*.py") if "tqdm" in p.read_text(encoding="utf-8")]
    assert users == ["progress.py"]


def test_chapter_coding_loops_report_their_stage_and_every_file(monkeypatch):
    """Chapter 6's conventional points show "coding <set>: …" with the number of files to code, one step per file."""
    import numpy as np

    from dlic_lib.studies import proxiqa

    seen: list[progress.Task] = []

    def spy(stage, total, **kwargs):
        seen.append(progress.Task(stage, total, **{**kwargs, "enabled": False}))
        return seen[-1]

    monkeypatch.setattr(progress, "task", spy)
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    table = proxiqa.conventional_points({"a": image, "b": image}, (("jpeg2000", None),), "Kodak", points=2)
    (bar,) = seen
    assert bar.stage == "coding Kodak: conventional codecs" and bar.total == len(table) == 4 and bar.step == 4
    assert bar.detail.startswith("JPEG 2000 q=") and (table["bpp"] < 3).all()  # requested 2.4 and 0.15 bpp


def test_chapter_trainings_report_progress_by_default():
    """The chapters' training entry points show their networks' steps live (in the book run's terminal)."""
    import inspect

    from dlic_lib.studies import cnn_jpeg, proxiqa

    for entry in (cnn_jpeg.train_all, proxiqa.run):
        assert inspect.signature(entry).parameters["progress"].default is True, entry.__qualname__
