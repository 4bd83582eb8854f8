"""Live progress of long work: shown in the terminal, never in a notebook's output.

Library loops report through :func:`task`::

    with progress.task("codec grid", total=len(cells), unit="cell") as bar:
        for cell in cells:
            bar.set_detail(f"{label} · {image}")
            ...
            bar.update(1)

Where a report goes depends on where the code runs:

* ``DLIC_PROGRESS_DIR`` set (``dlic run`` and ``dlic book`` set it for the notebook's kernel):
  each process keeps one small JSON status file in that folder (``<pid>.json``: its open tasks
  with step, total and start time), rewritten at most twice a second; :class:`Monitor` in the
  parent reads them and draws one live line in the terminal: chapter, stage, step/total, ETA.
* inside a Jupyter kernel otherwise: nowhere, so executed notebooks stay free of progress bars;
* otherwise (a script, ``dlic train`` in a terminal): a ``tqdm`` bar on stderr.

``enabled=False`` or ``DLIC_PROGRESS=0`` silences every report.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sized
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["Task", "task", "track", "Monitor", "format_eta", "read_status", "status_line", "in_kernel", "STATUS_DIR_ENV"]

T = TypeVar("T")

#: environment variable naming the folder of status files read by :class:`Monitor`
STATUS_DIR_ENV = "DLIC_PROGRESS_DIR"
_WRITE_EVERY_S = 0.5


def in_kernel() -> bool:
    """True inside a Jupyter/IPython kernel (where stderr is captured into the notebook)."""
    return "ipykernel" in sys.modules and type(sys.stderr).__module__.startswith("ipykernel")


def _silenced() -> bool:
    return os.environ.get("DLIC_PROGRESS", "").strip().lower() in {"0", "off", "false", "no"}


class _StatusFile:
    """The open tasks of this process, mirrored to ``<dir>/<pid>.json`` (atomic replace)."""

    _lock = threading.Lock()
    _tasks: list[Task] = []
    _last_write = 0.0

    @classmethod
    def path(cls) -> Path | None:
        folder = os.environ.get(STATUS_DIR_ENV, "").strip()
        return Path(folder) / f"{os.getpid()}.json" if folder else None

    @classmethod
    def open(cls, t: Task) -> None:
        with cls._lock:
            cls._tasks.append(t)
        cls.write(force=True)

    @classmethod
    def close(cls, t: Task) -> None:
        with cls._lock:
            if t in cls._tasks:
                cls._tasks.remove(t)
        cls.write(force=True)

    _timer: threading.Timer | None = None

    @classmethod
    def write(cls, force: bool = False) -> None:
        """Rewrite the file now, or once the half second since the last write is over."""
        path = cls.path()
        if path is None:
            return
        wait = _WRITE_EVERY_S - (time.time() - cls._last_write)
        if not force and wait > 0:
            with cls._lock:
                if cls._timer is None:  # a trailing write keeps the file up to date during long pauses
                    cls._timer = threading.Timer(wait, cls._flush)
                    cls._timer.daemon = True
                    cls._timer.start()
            return
        cls._flush()

    @classmethod
    def _flush(cls) -> None:
        path = cls.path()
        if path is None:
            return
        now = time.time()
        with cls._lock:
            cls._timer = None
            cls._last_write = now
            record = {"pid": os.getpid(), "updated": now, "tasks": [t.record() for t in cls._tasks]}
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(json.dumps(record), encoding="utf-8")
                tmp.replace(path)
            except OSError:  # the side channel is best effort: never fail the work for it
                pass


class Task:
    """One reported loop: ``stage`` (what runs), ``step`` of ``total`` ``unit``, a free ``detail``.

    Use :func:`task` to make one. ``update`` and ``set_detail`` are cheap: the status file is
    rewritten at most twice a second and the terminal bar refreshes itself.
    """

    def __init__(self, stage: str, total: int | None, *, unit: str = "step", initial: int = 0,
                 enabled: bool = True, position: int | None = None, scale: bool = False) -> None:
        self.stage, self.total, self.unit = stage, total, unit
        self.initial = self.step = int(initial)
        self.detail = ""
        self.started = time.time()
        self._bar = None
        self._side = False
        if not enabled or _silenced():
            return
        if _StatusFile.path() is not None:
            self._side = True
            _StatusFile.open(self)
        elif not in_kernel():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=stage, unit=unit, unit_scale=scale, dynamic_ncols=True,
                             position=position, file=sys.stderr)

    def record(self) -> dict[str, Any]:
        return {"stage": self.stage, "detail": self.detail, "step": self.step, "total": self.total,
                "unit": self.unit, "initial": self.initial, "started": self.started}

    def update(self, n: int = 1) -> None:
        self.step += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._side:
            _StatusFile.write()

    def set_detail(self, detail: str) -> None:
        """What the loop is on now (e.g. ``"HEVC 4:2:0 · kodim03"``)."""
        self.detail = str(detail)
        if self._bar is not None:
            self._bar.set_postfix_str(self.detail, refresh=False)
        elif self._side:
            _StatusFile.write()

    def set_postfix(self, values: dict[str, Any] | None = None, **more: Any) -> None:
        """Figures of the moment (``loss=…, bpp=…``) as the detail; called as tqdm's ``set_postfix``."""
        self.set_detail(", ".join(f"{k}={v}" for k, v in {**(values or {}), **more}.items()))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._side:
            self._side = False
            _StatusFile.close(self)

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def task(stage: str, total: int | None, *, unit: str = "step", initial: int = 0, enabled: bool = True,
         position: int | None = None, scale: bool = False) -> Task:
    """Start reporting a loop of ``total`` steps (see the module docstring for where it shows).

    ``scale`` shows large counts with SI prefixes in a terminal (bytes: ``unit="B"``).
    """
    return Task(stage, total, unit=unit, initial=initial, enabled=enabled, position=position, scale=scale)


def track(items: Iterable[T], stage: str, *, total: int | None = None, unit: str = "it", enabled: bool = True) -> Iterator[T]:
    """``items``, reported as one :func:`task` step each (like ``tqdm(items)``, without its notebook output)."""
    if total is None:
        total = len(items) if isinstance(items, Sized) else None
    with task(stage, total, unit=unit, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.update(1)


# -- the parent's side: read the status files and draw one line ----------------------------------
def format_eta(seconds: float | None) -> str:
    """``"1:02:03"``, ``"4:05"`` or ``"?"`` for an unknown time."""
    if seconds is None or not seconds == seconds or seconds < 0 or seconds > 1e7:
        return "?"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def read_status(folder: Path) -> list[dict[str, Any]]:
    """The open tasks of every live process reporting into ``folder`` (files of ended processes skipped)."""
    tasks = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _pid_alive(int(record.get("pid", -1))):
            tasks.extend(record.get("tasks", []))
    return tasks


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status_line(tasks: list[dict[str, Any]], now: float | None = None) -> str:
    """``"codec grid: HEVC 4:2:0 · kodim03 45/256 cell, ETA 3:10"``, one part per open task."""
    now = time.time() if now is None else now
    parts = []
    for t in tasks:
        done, total = int(t.get("step", 0)), t.get("total")
        text = t["stage"] + (f": {t['detail']}" if t.get("detail") else "")
        if total:
            rate = (done - int(t.get("initial", 0))) / max(now - float(t.get("started", now)), 1e-9)
            eta = format_eta((total - done) / rate) if rate > 0 else "?"
            text += f" {done}/{total} {t.get('unit', '')}, ETA {eta}"
        elif done:
            text += f" {done} {t.get('unit', '')}"
        parts.append(text)
    return " | ".join(parts)


class Monitor:
    """Draw ``prefix`` plus the status of the processes reporting into ``folder``, live, on ``stream``.

    On a terminal the line is redrawn in place once a second; elsewhere (a log file, CI) a line is
    written when the stage changes and at most once a minute otherwise.
    """

    def __init__(self, folder: Path, prefix: str, *, stream=None, interval: float = 1.0) -> None:
        self.folder, self.prefix = Path(folder), prefix
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._last_stage, self._last_print = None, 0.0

    def line(self) -> str:
        tasks = read_status(self.folder)
        status = status_line(tasks) if tasks else "running"
        return f"{self.prefix} {format_eta(time.time() - self.started)} · {status}"

    def _draw(self) -> None:
        text = self.line()
        if self.tty:
            import shutil

            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.stream.write("\r\x1b[2K" + text[:width])
            self.stream.flush()
            return
        stage = text.split(" · ", 1)[-1].split(":")[0]
        now = time.time()
        if stage != self._last_stage or now - self._last_print > 60:
            self.stream.write(text + "\n")
            self.stream.flush()
            self._last_stage, self._last_print = stage, now

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._draw()
            except Exception:  # noqa: BLE001 - a drawing failure must never stop the run
                pass

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.tty:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
