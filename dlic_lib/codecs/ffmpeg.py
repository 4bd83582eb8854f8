"""FFmpeg for the codecs: the library's one locator and hardened runner, :mod:`dlic_lib.ffmpeg`."""

from __future__ import annotations

from ..ffmpeg import FFmpegError, ffmpeg_decoders, ffmpeg_encoders, ffmpeg_exe, ffmpeg_version, run_ffmpeg

__all__ = ["ffmpeg_exe", "ffmpeg_version", "ffmpeg_encoders", "ffmpeg_decoders", "run_ffmpeg", "FFmpegError"]
