"""The one way the library finds and runs FFmpeg (the static build ``imageio-ffmpeg`` ships).

:func:`ffmpeg_exe` locates the binary (``IMAGEIO_FFMPEG_EXE`` overrides it, as in
imageio-ffmpeg). :func:`run_ffmpeg` runs it on bytes with the guards a grid of thousands of
files needs, so that one bad input can never take down a run or the machine:

- **bounded output**: stdout beyond ``max_output`` bytes stops the run; of stderr only the
  last 64 KiB are kept (a decoder can print the same error millions of times);
- **fatal decoder messages** (:data:`FATAL_MESSAGES`, e.g. libjxl's *Unexpected end of JXL
  codestream*, after which FFmpeg retries forever) stop the run at once;
- **the whole process group is killed** (``SIGKILL``) on a timeout, a fatal message, an error
  or an interrupt (``Ctrl-C``), and the child dies with its parent (``PR_SET_PDEATHSIG``);
- **memory is capped** in the child (``RLIMIT_AS``): ``DLIC_FFMPEG_MEMORY`` (e.g. ``6G``)
  or ``memory`` bytes, default 4 GiB plus 48 bytes per pixel when the caller names the pixels;
- **timeouts scale with the image**: ``DLIC_FFMPEG_TIMEOUT`` seconds, else 120 s plus 60 s
  per megapixel when the caller names the pixels (300 s otherwise).
"""

from __future__ import annotations

import functools
import os
import re
import selectors
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from .errors import DlicError

__all__ = [
    "FFmpegError", "ffmpeg_exe", "ffmpeg_version", "ffmpeg_encoders", "ffmpeg_decoders", "run_ffmpeg",
    "FATAL_MESSAGES", "default_timeout", "default_memory",
]

#: messages after which FFmpeg keeps going without producing anything usable
FATAL_MESSAGES: tuple[str, ...] = (
    "Unexpected end of JXL codestream",
    "Decoding error: Invalid data found when processing input",
    "No sequence header available",
)
_STDERR_KEEP = 64 * 1024
_PREFIX = re.compile(r"^(\s*\[[^\]]*\]\s*)+")  # FFmpeg's "[hevc @ 0x...] " context tags
_CHUNK = 1 << 16


class FFmpegError(DlicError):
    """FFmpeg is missing, or failed (or was stopped) on the given data."""


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary bundled with ``imageio-ffmpeg``."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # ImportError, RuntimeError when the binary is missing
        raise FFmpegError(f"the FFmpeg binary of imageio-ffmpeg is not available ({exc}); pip install imageio-ffmpeg") from None
    if not Path(exe).is_file():
        raise FFmpegError(f"FFmpeg binary {exe} does not exist")
    return exe


def _query(args: list[str]) -> str:
    return run_ffmpeg(args, b"", what="FFmpeg query", timeout=60, loglevel=None, allow_empty=True).decode(errors="replace")


@functools.lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """FFmpeg's version token, e.g. ``n9.0.2-17-g2a571b6068-20260930``."""
    m = re.search(r"ffmpeg version (\S+)", _query(["-version"]))
    return m.group(1) if m else "unknown"


def _names(listing: str) -> frozenset[str]:
    names = set()
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


@functools.lru_cache(maxsize=1)
def ffmpeg_encoders() -> frozenset[str]:
    return _names(_query(["-encoders"]))


@functools.lru_cache(maxsize=1)
def ffmpeg_decoders() -> frozenset[str]:
    return _names(_query(["-decoders"]))


def _parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        raise FFmpegError(f"DLIC_FFMPEG_MEMORY must be a size such as 6G or 4096M, got {text!r}")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2)]
    return int(float(m.group(1)) * scale)


def default_memory(pixels: int | None = None) -> int:
    """The child's address-space cap in bytes (see the module docstring)."""
    env = os.environ.get("DLIC_FFMPEG_MEMORY")
    if env:
        return _parse_size(env)
    return (4 << 30) + 48 * int(pixels or 0)


def default_timeout(pixels: int | None = None) -> float:
    """The wall-clock limit in seconds (see the module docstring)."""
    env = os.environ.get("DLIC_FFMPEG_TIMEOUT")
    if env:
        try:
            value = float(env)
        except ValueError:
            raise FFmpegError(f"DLIC_FFMPEG_TIMEOUT must be a number of seconds, got {env!r}") from None
        if not value > 0:
            raise FFmpegError(f"DLIC_FFMPEG_TIMEOUT must be positive, got {env!r}")
        return value
    return 300.0 if pixels is None else 120.0 + 60.0 * pixels / 1e6


def _child_setup(memory: int):
    """A pre-exec hook: cap the address space and die with the parent (Linux)."""
    import ctypes
    import resource

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        prctl = None

    def setup() -> None:
        if memory > 0:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if prctl is not None:
            prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    return setup


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
        pass


def _feed(stdin, data: bytes) -> None:
    try:
        view = memoryview(data)
        for start in range(0, len(view), _CHUNK):
            stdin.write(view[start:start + _CHUNK])
    except (BrokenPipeError, OSError, ValueError):
        pass  # the child stopped reading; its exit status tells why
    finally:
        try:
            stdin.close()
        except (BrokenPipeError, OSError):
            pass


def run_ffmpeg(
    args: Sequence[str],
    data: bytes = b"",
    *,
    what: str,
    pixels: int | None = None,
    timeout: float | None = None,
    memory: int | None = None,
    max_output: int | None = None,
    cwd: str | os.PathLike | None = None,
    loglevel: str | None = "error",
    allow_empty: bool = False,
) -> bytes:
    """Run ``ffmpeg <args>`` with ``data`` on stdin; return its stdout or raise :class:`FFmpegError`.

    Parameters
    ----------
    args : FFmpeg arguments after the global ones (``-hide_banner -nostdin -loglevel error``).
    data : bytes written to FFmpeg's stdin.
    what : what is being done, for messages (``"hevc decoding"``).
    pixels : the image's pixel count; scales the default timeout and memory cap.
    timeout, memory : override :func:`default_timeout` / :func:`default_memory`.
    max_output : stdout limit in bytes (default: 64 bytes per pixel plus 64 MiB, or 1 GiB).
    cwd : working folder of the child.
    loglevel : FFmpeg's ``-loglevel`` (``None`` for queries such as ``-version``).
    allow_empty : an empty stdout is not an error.

    The error message carries the first meaningful line FFmpeg printed.
    """
    timeout = default_timeout(pixels) if timeout is None else float(timeout)
    memory = default_memory(pixels) if memory is None else int(memory)
    if max_output is None:
        max_output = (64 << 20) + 64 * pixels if pixels else 1 << 30
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin"]
    if loglevel is not None:
        cmd += ["-loglevel", loglevel]
    cmd += list(args)
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
            start_new_session=True, preexec_fn=_child_setup(memory),
        )
    except OSError as exc:
        raise FFmpegError(f"{what}: cannot run FFmpeg: {exc}") from None
    out = bytearray()
    err: deque[bytes] = deque()
    err_size = 0
    pending = b""
    stopped: str | None = None
    feeder = threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True)
    try:
        feeder.start()
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ, "out")
        sel.register(proc.stderr, selectors.EVENT_READ, "err")
        deadline = time.monotonic() + timeout
        open_streams = 2
        while open_streams and stopped is None:
            left = deadline - time.monotonic()
            if left <= 0:
                stopped = f"{what}: FFmpeg did not finish within {timeout:.0f} s (stopped)"
                break
            for key, _ in sel.select(timeout=min(left, 1.0)):
                chunk = os.read(key.fileobj.fileno(), _CHUNK)
                if not chunk:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.data == "out":
                    out += chunk
                    if len(out) > max_output:
                        stopped = f"{what}: FFmpeg wrote more than {max_output} bytes (stopped; is the input valid?)"
                        break
                    continue
                err.append(chunk)
                err_size += len(chunk)
                while err_size > _STDERR_KEEP and len(err) > 1:
                    err_size -= len(err.popleft())
                text = (pending + chunk).decode(errors="replace")
                fatal = next((m for m in FATAL_MESSAGES if m in text), None)
                if fatal is not None:
                    stopped = f"{what} failed (is the input complete and valid for this codec?): {fatal}"
                    break
                pending = chunk[-256:]
        sel.close()
        if stopped is None:
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                stopped = f"{what}: FFmpeg did not finish within {timeout:.0f} s (stopped)"
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        if stopped is not None or proc.poll() is None:
            _kill_group(proc)
        for stream in (proc.stdout, proc.stderr):
            stream.close()
        feeder.join(timeout=5)
    if stopped is not None:
        raise FFmpegError(stopped)
    if proc.returncode != 0 or (not out and not allow_empty):
        raise FFmpegError(_failure(what, proc.returncode, b"".join(err), memory))
    return bytes(out)


def _failure(what: str, returncode: int, stderr: bytes, memory: int) -> str:
    lines = [_PREFIX.sub("", ln).strip() for ln in stderr.decode(errors="replace").splitlines()]
    lines = [ln for ln in lines if ln]
    if returncode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT) and not lines:
        return (f"{what}: FFmpeg was killed by signal {-returncode} (memory cap {memory >> 20} MiB; "
                "raise DLIC_FFMPEG_MEMORY if the input is valid)")
    if any("annot allocate memory" in ln or "Out of memory" in ln for ln in lines):
        return f"{what}: FFmpeg ran out of memory (cap {memory >> 20} MiB; raise DLIC_FFMPEG_MEMORY if the input is valid)"
    detail = next((ln for ln in lines if "rror" in ln or "nvalid" in ln), lines[0] if lines else "no output")
    return f"{what} failed (is the input valid for this codec?): {detail}"
