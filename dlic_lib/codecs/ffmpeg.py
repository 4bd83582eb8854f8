"""A small runner for the static FFmpeg that ``imageio-ffmpeg`` ships (no system FFmpeg needed)."""

from __future__ import annotations

import functools
import re
import subprocess

from ..errors import DlicError

__all__ = ["ffmpeg_exe", "ffmpeg_version", "ffmpeg_encoders", "ffmpeg_decoders", "run_ffmpeg", "FFmpegError"]


class FFmpegError(DlicError):
    """FFmpeg is missing or failed on the given data."""


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary bundled with ``imageio-ffmpeg``."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # ImportError, RuntimeError when the binary is missing
        raise FFmpegError(f"the FFmpeg binary of imageio-ffmpeg is not available ({exc}); pip install imageio-ffmpeg") from None


@functools.lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """FFmpeg's version token, e.g. ``n9.0.2-17-g2a571b6068-20260930``."""
    out = _query(["-version"])
    m = re.search(r"ffmpeg version (\S+)", out)
    return m.group(1) if m else "unknown"


def _query(args: list[str]) -> str:
    try:
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", *args], capture_output=True, timeout=60)
    except OSError as exc:
        raise FFmpegError(f"cannot run FFmpeg at {ffmpeg_exe()}: {exc}") from None
    return proc.stdout.decode(errors="replace")


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


def run_ffmpeg(args: list[str], data: bytes, *, what: str, timeout: float = 600) -> bytes:
    """Run ``ffmpeg <args>`` with ``data`` on stdin; return stdout or raise :class:`FFmpegError`.

    The error message carries the last meaningful line FFmpeg printed.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *args]
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise FFmpegError(f"{what}: FFmpeg did not finish within {timeout:.0f} s") from None
    except OSError as exc:
        raise FFmpegError(f"{what}: cannot run FFmpeg: {exc}") from None
    if proc.returncode != 0 or not proc.stdout:
        lines = [ln.strip() for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
        detail = next((ln for ln in lines if "rror" in ln or "nvalid" in ln), lines[0] if lines else "no output")
        raise FFmpegError(f"{what} failed (is the input valid for this codec?): {detail}")
    return proc.stdout
