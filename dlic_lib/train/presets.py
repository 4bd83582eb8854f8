"""Training sizes per profile: ``smoke`` (seconds), ``quick`` (2 CPU cores, 5–9 min per λ), ``full`` (GPU).

``full`` follows CompressAI's published training recipe (its zoo documentation and
``examples/train.py``): the zoo's ``N``/``M`` for each quality (``None`` here), 256×256 crops, batch 16,
Adam at 1e-4 for the first ~1.5M steps, 4M steps in all, aux Adam at 1e-3, gradient clipping at 1.0.
CompressAI halves the rate when the validation loss plateaus; ``full`` halves it at fixed steps
instead (1.5M, 2M, 2.5M, 3M, 3.5M) so that a run is reproducible and resumable step by step.

``quick`` uses small transforms (N=64, M=96), 96×96 crops, batch 8, 5000 steps and a learning rate
of 1e-3. On two CPU cores one λ takes about 5 minutes where the CPU computes bfloat16 natively
(AVX512-BF16 or AMX: the engine's default bfloat16 autocast and channels-last, 290 s for λ=0.0018)
and about 9 minutes in float32. On Kodak these settings gave better RD points than 128×128 crops
for 3000 steps (same compute, +0.5 dB PSNR-Y at λ=0.0035) and than learning rates of 5e-4 or 2e-3;
they match JPEG 4:2:0 in PSNR-Y at λ=0.0018 (0.147 bpp) and trail it by 0.8 dB at λ=0.0035 (0.239 bpp).

More steps buy the most, and warm-starting a rung from the release of the rung below
(``train_ladder(warm_start=True)``, ``dlic train --warm-start``) buys more per step: λ=0.0067
started from λ=0.0018 reached on Kodak the PSNR-Y of the 5000-step scratch run (27.84 vs 27.87 dB)
in 2500 steps at 12 % fewer bits. ``dlic train --qualities 1,2 --warm-start --steps 10000
--warm-steps 20000`` (26 min on two AVX512-BF16 cores: 8 + 18) beats JPEG 4:2:0 in PSNR-Y per
Kodak image at matched bpp (``benchmarks/train_kodak_rd.py``): +0.41 dB at 0.150 bpp, +0.26 dB at
0.225 bpp, +0.35 dB over all 41 image points at ≤ 0.25 bpp. With 10000 warm steps (17 min in all)
λ=0.0035 gave +0.08 dB at 0.225 bpp; in float32 the same two rungs (5000 + 10000 steps, 26 min)
only tied JPEG (+0.02 and −0.03 dB).
"""

from __future__ import annotations

from ..errors import DlicError

__all__ = ["TRAIN_PRESETS", "FINETUNE_PRESETS", "preset"]

TRAIN_PRESETS: dict[str, dict] = {
    "smoke": dict(
        steps=8, N=16, M=24, crop=64, batch=2, lr=1e-3, aux_lr=1e-3, lr_decay_at=(0.75,), lr_gamma=0.1,
        clip_max_norm=1.0, scale_range=(1.0, 1.0), max_side=512, val_every=4, val_crop=64, val_images=2,
        ckpt_every=4, log_every=2, release_dtype="fp32",
    ),
    "quick": dict(
        steps=5000, N=64, M=96, crop=96, batch=8, lr=1e-3, aux_lr=1e-3, lr_decay_at=(0.8, 0.95), lr_gamma=0.3,
        clip_max_norm=1.0, scale_range=(1.0, 2.0), max_side=None, val_every=500, val_crop=256, val_images=4,
        ckpt_every=500, log_every=25, release_dtype="fp16",
    ),
    "full": dict(
        steps=4_000_000, N=None, M=None, crop=256, batch=16, lr=1e-4, aux_lr=1e-3,
        lr_decay_at=(0.375, 0.5, 0.625, 0.75, 0.875), lr_gamma=0.5,
        clip_max_norm=1.0, scale_range=(1.0, 2.0), max_side=None, val_every=10_000, val_crop=512, val_images=4,
        ckpt_every=5_000, log_every=100, release_dtype="fp32",
    ),
}


#: overrides for fine-tuning a released model into the other objective (e.g. MSE → MS-SSIM) per
#: profile; ``full`` trains every objective from scratch, as CompressAI's zoo does. On two CPU cores
#: the ``quick`` fine-tune (192×192 crops for MS-SSIM, batch 4, 500 steps) costs about a fifth of
#: a ``quick`` run from scratch.
FINETUNE_PRESETS: dict[str, dict | None] = {
    "smoke": dict(steps=4, batch=2, lr=1e-4, lr_decay_at=(), val_every=2, ckpt_every=2, log_every=1),
    "quick": dict(steps=500, batch=4, lr=1e-4, lr_decay_at=(0.8,), val_every=250, ckpt_every=250, log_every=25),
    "full": None,
}


def preset(profile: str) -> dict:
    """A copy of the training sizes of ``profile``."""
    if profile not in TRAIN_PRESETS:
        raise DlicError(f"unknown training profile {profile!r}; expected one of {', '.join(TRAIN_PRESETS)}")
    return dict(TRAIN_PRESETS[profile])
