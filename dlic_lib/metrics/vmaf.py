"""VMAF and libvmaf's own features through the static FFmpeg shipped with ``imageio-ffmpeg``.

This runs the real libvmaf (model ``vmaf_v0.6.1``, built into that FFmpeg); nothing here
re-implements VMAF. Each image pair becomes one frame of two raw ``yuv444p`` (or ``yuv420p``)
streams, so a batch of equal-size pairs costs one FFmpeg call.

Colour convention: FFmpeg does **no** colour conversion here. The RGB images are converted by
:func:`dlic_lib.color.rgb_to_ycbcr` — by default BT.601, *limited* ("TV") range, which is what
FFmpeg's own RGB→YUV conversion produces and what VMAF was trained on — rounded half-to-even to
8 bits, and handed to libvmaf as raw planes. With ``subsampling="420"`` the chroma planes are
2×2-averaged (:func:`dlic_lib.color.subsample_420`); chroma matters only to ``psnr_cb/psnr_cr``.

Features returned per pair (libvmaf names): ``vmaf``; ``psnr_y``, ``psnr_cb``, ``psnr_cr``
(libvmaf caps 8-bit PSNR at 60 dB); ``float_ssim`` and ``float_ms_ssim`` (libvmaf's IQA-based
SSIM on the luma plane: ``float_ssim`` first box-decimates by ``max(1, round(min(H, W)/256))``);
``vif_scale0..3`` (float VIF per scale) and the integer features of the model
(``integer_adm2``, ``integer_vif_scale0..3``, ...). Motion is forced to 0 (``motion_force_zero``):
each pair is a still image, so a batch gives the same scores as one call per pair.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import color
from ..ffmpeg import FFmpegError, ffmpeg_exe, run_ffmpeg
from ._batch import MetricInputError, as_batch

__all__ = ["libvmaf", "ffmpeg_exe", "DEFAULT_FEATURES", "VMAF_MODEL"]

VMAF_MODEL = "version=vmaf_v0.6.1"
DEFAULT_FEATURES = ("psnr", "float_ssim", "float_ms_ssim", "float_vif")
_MIN_SIZE = 32


def _as_uint8_rgb_batch(x: Any, name: str) -> np.ndarray:
    t = as_batch(x, name)
    a = t.detach().cpu().numpy().transpose(0, 2, 3, 1)
    if a.dtype != np.uint8:
        raise MetricInputError(f"libvmaf needs 8-bit images (uint8); {name} has dtype {a.dtype}")
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return a


def _yuv_bytes(batch: np.ndarray, standard: str, range: str, subsampling: str) -> bytes:
    frames = []
    for rgb in batch:
        ycc = color.rgb_to_ycbcr(rgb, standard=standard, range=range)
        y = color.to_uint8(ycc[..., 0])
        cb, cr = ycc[..., 1], ycc[..., 2]
        if subsampling == "420":
            cb, cr = color.subsample_420(cb), color.subsample_420(cr)
        frames += [y.tobytes(), color.to_uint8(cb).tobytes(), color.to_uint8(cr).tobytes()]
    return b"".join(frames)


def libvmaf(
    reference: Any,
    distorted: Any,
    *,
    standard: str = "bt601",
    range: str = "limited",
    subsampling: str = "444",
    features: tuple[str, ...] = DEFAULT_FEATURES,
    model: str = VMAF_MODEL,
    n_threads: int | None = None,
) -> list[dict[str, float]]:
    """Run libvmaf on RGB uint8 pairs; one ``{feature: value}`` dict per pair (see module docstring).

    ``reference``/``distorted``: one image ``(H, W, 3)``, a batch ``(N, H, W, 3)`` or a list of
    equal-size images. ``features`` are libvmaf feature extractor names added to the model's own.
    """
    ref = _as_uint8_rgb_batch(reference, "reference")
    dist = _as_uint8_rgb_batch(distorted, "distorted")
    if ref.shape != dist.shape:
        raise MetricInputError(f"vmaf: reference and distorted shapes differ ({ref.shape} vs {dist.shape})")
    n, h, w, _ = ref.shape
    if min(h, w) < _MIN_SIZE:
        raise MetricInputError(f"vmaf needs images of at least {_MIN_SIZE}×{_MIN_SIZE} pixels, got {h}×{w}")
    if subsampling not in ("444", "420"):
        raise MetricInputError(f"subsampling must be '444' or '420', got {subsampling!r}")
    if subsampling == "420" and (h % 2 or w % 2):
        raise MetricInputError(f"4:2:0 needs even image sides, got {h}×{w}")
    for name in features:
        if not name.replace("_", "").isalnum():
            raise MetricInputError(f"invalid libvmaf feature name {name!r}")
    pix_fmt = "yuv444p" if subsampling == "444" else "yuv420p"
    threads = n_threads if n_threads is not None else min(8, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="dlic-vmaf-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "ref.yuv").write_bytes(_yuv_bytes(ref, standard, range, subsampling))
        (tmpdir / "dist.yuv").write_bytes(_yuv_bytes(dist, standard, range, subsampling))
        feature_opt = "|".join(f"name={f}" for f in features)
        # every pair is a still image: force libvmaf's motion feature to 0, otherwise consecutive
        # frames of a batch (unrelated images) would count as motion and raise the score
        model_opt = model if "motion_force_zero" in model else model + "\\\\:motion.motion_force_zero=true"
        opts = [f"model={model_opt}", "log_fmt=json", "log_path=vmaf.json", f"n_threads={threads}"]
        if feature_opt:
            opts.insert(1, f"feature={feature_opt}")
        raw = ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{w}x{h}", "-r", "1"]
        args = [
            *raw, "-i", "dist.yuv", *raw, "-i", "ref.yuv",
            "-lavfi", "[0:v][1:v]libvmaf=" + ":".join(opts), "-f", "null", "-",
        ]  # fmt: skip
        try:
            run_ffmpeg(args, what="libvmaf", pixels=n * h * w, cwd=tmpdir, allow_empty=True)
        except FFmpegError as exc:
            raise MetricInputError(str(exc)) from None
        log = tmpdir / "vmaf.json"
        if not log.exists():
            raise MetricInputError("libvmaf failed: it wrote no log")
        frames = json.loads(log.read_text())["frames"]
    if len(frames) != n:
        raise MetricInputError(f"libvmaf returned {len(frames)} frames for {n} image pairs")
    return [{k: float(v) for k, v in f["metrics"].items()} for f in sorted(frames, key=lambda f: f["frameNum"])]
