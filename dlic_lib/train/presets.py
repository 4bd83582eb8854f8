"""Training sizes per profile: ``smoke`` (seconds), ``quick`` (2 CPU cores, ~10 min per λ), ``full`` (GPU).

``full`` follows CompressAI's published training recipe (``examples/train.py`` and the zoo): the zoo's
``N``/``M`` for each quality (``None`` here), 256×256 crops, batch 16, Adam at 1e-4, aux Adam at 1e-3,
gradient clipping at 1.0. ``quick`` uses small transforms and 128×128 crops so that a 3-λ ladder
trains in about half an hour on two CPU cores.
"""

from __future__ import annotations

from ..errors import DlicError

__all__ = ["TRAIN_PRESETS", "preset"]

TRAIN_PRESETS: dict[str, dict] = {
    "smoke": dict(
        steps=8, N=16, M=24, crop=64, batch=2, lr=1e-3, aux_lr=1e-3, lr_decay_at=(0.75,), lr_gamma=0.1,
        clip_max_norm=1.0, scale_range=(1.0, 1.0), max_side=512, val_every=4, val_crop=64, val_images=2,
        ckpt_every=4, log_every=2, release_dtype="fp32",
    ),
    "quick": dict(
        steps=3000, N=64, M=96, crop=128, batch=8, lr=5e-4, aux_lr=1e-3, lr_decay_at=(0.8, 0.95), lr_gamma=0.3,
        clip_max_norm=1.0, scale_range=(1.0, 2.0), max_side=None, val_every=500, val_crop=256, val_images=4,
        ckpt_every=250, log_every=25, release_dtype="fp16",
    ),
    "full": dict(
        steps=1_000_000, N=None, M=None, crop=256, batch=16, lr=1e-4, aux_lr=1e-3, lr_decay_at=(0.9,), lr_gamma=0.1,
        clip_max_norm=1.0, scale_range=(1.0, 2.0), max_side=None, val_every=10_000, val_crop=512, val_images=4,
        ckpt_every=5_000, log_every=100, release_dtype="fp32",
    ),
}


def preset(profile: str) -> dict:
    """A copy of the training sizes of ``profile``."""
    if profile not in TRAIN_PRESETS:
        raise DlicError(f"unknown training profile {profile!r}; expected one of {', '.join(TRAIN_PRESETS)}")
    return dict(TRAIN_PRESETS[profile])
