"""Chapter 3, CNNs around JPEG (seed 001): settings per profile, training, evaluation, tables.

:func:`train_all` runs every network of the chapter through the training engine (one
:class:`~dlic_lib.train.tasks.jpeg_cnn.PipelineTask` or ``FakeCodecTask`` per run, resumable, cached
in the checkpoint zoo): the FakeCodec ablations (E2), CNN-YL S1–S4 (E1), the FakeCodec frameworks
(E4), the λ study (E5) and CNN-RD / CNN-MSE / CNN-RDv2 (E6). :func:`rd_table` codes the test images
with every pipeline's codec (real files, bpp from bytes). Verdicts: :mod:`.cnn_jpeg_claims`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import DlicError
from ..jpeg import decode_luma, encode_luma, hard_nonzero_count, rgb_to_luma, soft_nonzero_count

__all__ = ["CHAPTER", "SETTINGS", "ROLES", "chapter_settings", "train_all", "rd_table", "bd_tables", "proxy_table",
           "detail_table", "ablation_table", "test_images", "PIPELINE_QFS", "JPEG_QFS"]

CHAPTER = "03_cnn_around_jpeg"
JPEG_QFS = (5, 10, 15, 25, 35)  #: plain JPEG (§4.1)
PIPELINE_QFS = (25, 55, 75, 90)  #: every down/up pipeline (§4.1)
#: Commons test image → the thesis image it stands in for (by the property the thesis uses, notes A4)
ROLES = {"006": "Bike", "025": "Cactus", "044": "Johnny", "043": "p08", "018": "extra", "021": "extra", "030": "extra",
         "019": "0896-like (smooth)"}

#: FakeCodec runs of E2: name → (variant, kernels, depth, width factor, padding, patch factor); the
#: first three are the final models of Table 3.10
ABLATIONS: dict[str, tuple] = {
    "frame": ("frame", "9to1", 8, 1, "zeros", 1), "block-pixel": ("block-pixel", "3x3", 8, 1, "zeros", 1),
    "block-dct": ("block-dct", "3x3", 8, 1, "zeros", 1), "block-pixel 9to1": ("block-pixel", "9to1", 8, 1, "zeros", 1),
    "block-dct replicate": ("block-dct", "3x3", 8, 1, "replicate", 1), "block-dct 9to1": ("block-dct", "9to1", 8, 1, "zeros", 1),
    "frame 3x3 d4": ("frame", "3x3", 4, 1, "zeros", 1), "frame 9to1 d4": ("frame", "9to1", 4, 1, "zeros", 1),
    "frame d12": ("frame", "9to1", 12, 1, "zeros", 1), "frame 128 filters": ("frame", "9to1", 8, 2, "zeros", 1),
    "frame 256 filters": ("frame", "9to1", 8, 4, "zeros", 1), "frame 3x3 d4 patch 256": ("frame", "3x3", 4, 1, "zeros", 16 / 3),
}
_QUICK_ABLATIONS = ("frame", "block-pixel", "block-dct", "block-pixel 9to1", "block-dct replicate")

SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": dict(width=0.125, fake_patch=16, fake_batch=4, fake_steps=3, hr_patch=32, batch=4, s1=3, s2=3, s3=3, s4=2, fc=2,
                  rd=2, lambda_steps=2, lr=5e-4, ablations=("frame", "block-pixel", "block-dct"), fc_variants=("block-dct",),
                  lambdas=(1e-6, 1e-7), lambda_qfs=(25,), images=("025", "044"), max_side=128, train_images=2,
                  train_side=256, val_crop=48, proxy_patches=20, seeds=(0,), qfs=(25, 90)),
    "quick": dict(width=0.25, fake_patch=32, fake_batch=16, fake_steps=100, hr_patch=64, batch=8, s1=150, s2=100, s3=100,
                  s4=50, fc=50, rd=75, lambda_steps=50, lr=5e-4, ablations=_QUICK_ABLATIONS, fc_variants=("block-dct",),
                  lambdas=(1e-6, 1e-7, 1e-8), lambda_qfs=(25, 90), images=("006", "025", "044", "043", "019"),
                  max_side=512, train_images=None, train_side=1024, val_crop=256, proxy_patches=100, seeds=(0,),
                  qfs=PIPELINE_QFS),
    "full": dict(width=1.0, fake_patch=48, fake_batch=16, fake_steps=221_072, hr_patch=96, batch=16, s1=221_072, s2=221_072,
                 s3=221_072, s4=221_072, fc=221_072, rd=73_690, lambda_steps=73_690, lr=1e-4, ablations=tuple(ABLATIONS),
                 fc_variants=("frame", "block-pixel", "block-dct"), lambdas=(1e-6, 5e-7, 1e-7, 5e-8, 1e-8, 0.0),
                 lambda_qfs=PIPELINE_QFS, images=tuple(ROLES), max_side=None, train_images=None, train_side=None,
                 val_crop=None, proxy_patches=100, seeds=(0, 1), qfs=PIPELINE_QFS),
}


def chapter_settings(profile: str, **overrides: Any) -> dict[str, Any]:
    """The chapter's settings at ``profile`` with non-``None`` overrides (unknown keys refused)."""
    from ..profiles import settings_from

    return {**settings_from(SETTINGS, CHAPTER, profile, **overrides), "profile": profile}


def _milestones(cfg: dict, steps: int) -> tuple[int, ...]:
    """quick/smoke: halve at 50 % and 75 % of the steps; full: every 10 epochs of 7,369 updates."""
    if cfg["profile"] == "full":
        return tuple(range(73_690, steps, 73_690))
    return (steps // 2, 3 * steps // 4)


def _files(cfg: dict) -> dict[str, Any]:
    from ..train.tasks.jpeg_cnn_data import luma_files

    train = luma_files("train")
    if cfg["train_images"]:
        train = train[: cfg["train_images"]]
    return dict(train_files=[str(p) for p in train], val_files=[str(p) for p in luma_files("val")],
                max_side=cfg["train_side"], val_crop=cfg["val_crop"], profile=cfg["profile"],
                identity_init=cfg["profile"] != "full")


def train_all(cfg: dict[str, Any], *, progress: bool = True, device: str | None = None) -> dict[str, Any]:
    """Train (or find finished) every run of the chapter; returns the results by role."""
    from ..train.task import Trainer
    from ..train.tasks.jpeg_cnn import FakeCodecTask, PipelineTask

    files, out = _files(cfg), {"ablations": {}, "fakecodecs": {}, "lambda_study": {}}

    def fit(task, register=True):
        return Trainer(task, progress=progress, device=device, register=register).fit()

    def fake(name: str, quality: int, seed: int = 0, register: bool = False):
        variant, kernels, depth, wf, padding, pf = ABLATIONS[name]
        patch = int(round(cfg["fake_patch"] * pf / 8)) * 8
        return fit(FakeCodecTask(variant=variant, quality=quality, width=cfg["width"] * wf, depth=depth, kernels=kernels,
                                 padding=padding, patch=patch, batch=cfg["fake_batch"], steps=cfg["fake_steps"], lr=cfg["lr"],
                                 milestones=_milestones(cfg, cfg["fake_steps"]), seed=seed,
                                 **{**files, "identity_init": False}), register)  # from identity it barely moves in 100 steps

    def stage(stage_name, steps, init=None, **kw):
        rel = {k: Path(v.run_dir) / "release.pt" for k, v in (init or {}).items()}
        return fit(PipelineTask(stage=stage_name, width=cfg["width"], patch=cfg["hr_patch"], batch=cfg["batch"], steps=steps,
                                lr=cfg["lr"], milestones=_milestones(cfg, steps), init=rel, **kw, **files))

    for seed in cfg["seeds"]:  # E2
        for name in cfg["ablations"]:
            out["ablations"][(name, seed)] = fake(name, 10, seed, register=seed == 0 and name in ("frame", "block-pixel", "block-dct"))
    s1 = stage("s1", cfg["s1"])  # E1
    s2 = stage("s2", cfg["s2"], init={"sr": s1})
    yl = stage("s3", cfg["s3"], init={"cr": s2, "sr": s2})
    qfs = tuple(cfg["qfs"])
    out.update(s1=s1, s2=s2, yl=yl, yl_s4={q: stage("s4", cfg["s4"], quality=q, init={"cr": yl, "sr": yl}) for q in qfs})
    for variant in cfg["fc_variants"]:  # E4
        for q in qfs:
            fk = fake(variant, q, register=True)
            out["fakecodecs"][(variant, q)] = stage("fc", cfg["fc"], pipeline=f"cnn-fc-{variant}", quality=q,
                                                    init={"cr": yl, "sr": out["yl_s4"][q], "fake": fk})
    for q in cfg["lambda_qfs"]:  # E5: S3 with the rate term, evaluated with its own (S3) SR
        for lam in cfg["lambdas"]:
            out["lambda_study"][(q, lam)] = stage("s3", cfg["lambda_steps"], pipeline="lambda-study", quality=q, lmbda=lam,
                                                  init={"cr": s2, "sr": s2})
    out["yl_s3_points"] = {q: _val_point(yl, q, cfg) for q in cfg["lambda_qfs"]}
    study = lambda_table(out)
    from .cnn_jpeg_claims import select_lambda

    chosen = select_lambda(study, {q: out["yl_s3_points"][q] for q in cfg["lambda_qfs"]})
    out["chosen_lambda"] = chosen
    lam_for = {q: chosen.get(q) or chosen.get(min(chosen, key=lambda c: abs(c - q))) or 1e-7 for q in qfs}
    out["lambda_used"] = lam_for
    out["rd"] = {}
    for q in qfs:  # E6
        s3 = stage("s3", cfg["rd"], pipeline="cnn-rd", quality=q, lmbda=lam_for[q], init={"cr": s2, "sr": s2})
        out["rd"][q] = stage("s4", cfg["s4"], pipeline="cnn-rd", quality=q, init={"cr": s3, "sr": s3})
    mse = stage("s3", cfg["rd"], pipeline="cnn-mse", init={"cr": s2, "sr": s2})
    out["mse"] = {q: stage("s4", cfg["s4"], pipeline="cnn-mse", quality=q, init={"cr": mse, "sr": mse}) for q in qfs}
    v2 = stage("s3", cfg["rd"], pipeline="cnn-rdv2", quality=90, lmbda=1e-8, init={"cr": s2, "sr": s2})
    out["rdv2"] = stage("s4", cfg["s4"], pipeline="cnn-rdv2", quality=90, init={"cr": v2, "sr": v2})
    return out


def _val_point(result, quality: int, cfg: dict) -> tuple[float, float]:
    """(bpp, PSNR) of a released S3 pair through the real JPEG at ``quality`` on the validation crops."""
    from ..train.tasks.jpeg_cnn import PipelineTask

    task = PipelineTask(stage="s3", quality=quality, width=cfg["width"], steps=1, **_files(cfg),
                        init={"cr": Path(result.run_dir) / "release.pt", "sr": Path(result.run_dir) / "release.pt"})
    from ..train.task import Trainer

    trainer = Trainer(task, progress=False, register=False)
    task.setup(trainer)
    trainer.nets = task.build(trainer)
    val = task.validate(trainer)
    return val["bpp"], val["psnr"]


def lambda_table(out: dict) -> pd.DataFrame:
    """The λ study: one row per (QF, λ) with the S3 pair's validation bpp and PSNR at that QF."""
    rows = [{"qf": q, "lmbda": lam, "bpp": r.val["bpp"], "psnr": r.val["psnr"]} for (q, lam), r in out["lambda_study"].items()]
    return pd.DataFrame(rows, columns=["qf", "lmbda", "bpp", "psnr"])


def ablation_table(out: dict) -> pd.DataFrame:
    """E2 results: one row per FakeCodec run (name, seed) with validation PSNR/SSIM against JPEG QF 10."""
    rows = []
    for (name, seed), r in out["ablations"].items():
        variant, kernels, depth, wf, padding, pf = ABLATIONS[name]
        rows.append({"run": name, "seed": seed, "variant": variant, "kernels": kernels, "depth": depth, "width_factor": wf,
                     "padding": padding, "psnr_db": r.val["psnr"], "ssim": r.val["ssim"]})
    return pd.DataFrame(rows)


def test_images(cfg: dict[str, Any]) -> dict[str, np.ndarray]:
    """The Commons test images of the profile (down-scaled to ``max_side`` where set) as RGB arrays."""
    from ..data import read_image, resolve_dataset
    from ..train.crops import _downscale_to

    files = {Path(p).stem: p for p in resolve_dataset("wikimedia-photos").images(split="test")}
    names = [n for n in cfg["images"] if n in files]
    if len(names) < len(cfg["images"]):  # the embedded default (a fresh offline machine): its own test images
        names += [n for n in sorted(files) if n not in names][: len(cfg["images"]) - len(names)]
    return {name: _downscale_to(read_image(files[name]), cfg["max_side"]) for name in names}


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def rd_table(cfg: dict[str, Any], images: dict[str, np.ndarray], codecs: tuple[str, ...]) -> pd.DataFrame:
    """Every (image, codec, QF) coded for real: bytes, bpp, PSNR-Y (uint8 planes), with the profile."""
    from ..codecs import get_codec

    rows = []
    for name in codecs:
        options = {} if name in ("jpeg-y", "bicubic-jpeg") else {"profile": cfg["profile"]}
        codec = get_codec(name, **options)
        for image_name, image in images.items():
            y = rgb_to_luma(image)
            for q in JPEG_QFS if name == "jpeg-y" else cfg["qfs"]:
                coded = codec.encode(image, q)
                rows.append({"image": image_name, "role": ROLES.get(image_name, ""), "codec": name, "qf": q, "bytes": coded.n_bytes,
                             "bpp": coded.bpp, "psnr": _psnr(y, coded.decoded[..., 0]), "weights": coded.weights,
                             "profile": cfg["profile"]})
    return pd.DataFrame(rows)


def bd_tables(rd: pd.DataFrame, anchors: tuple[str, ...] = ("jpeg-y", "cnn-yl", "cnn-mse")) -> pd.DataFrame:
    """Per-image BD-rate / BD-PSNR of every codec against each anchor (cubic, overlap only)."""
    from ..rd import bd_table

    tables = []
    for anchor in anchors:
        if anchor in set(rd.codec):
            tables.append(bd_table(rd, anchor=anchor, metrics=["psnr"], rate="bpp", by="image", method="cubic", min_points=4))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def detail_table(images: dict[str, np.ndarray]) -> pd.Series:
    """How detailed each test image is: plain JPEG PSNR-Y at QF 35 (standard tables), lower = more detail."""
    out = {}
    for name, image in images.items():
        y = rgb_to_luma(image)
        out[name] = _psnr(y, decode_luma(encode_luma(y, 35)))
    return pd.Series(out, name="jpeg_psnr_qf35")


def proxy_table(images: dict[str, np.ndarray], n: int, qualities=(10, 25, 55, 75), patch: int = 48, seed: int = 0) -> pd.DataFrame:
    """E3 (Fig. 3.11): ``n`` random ``patch``² luma patches; soft and hard counts, libjpeg's count, file bits."""
    from ..jpeg import read_quantised

    rng = np.random.default_rng(seed)
    planes = [rgb_to_luma(im) for im in images.values()]
    names = list(images)
    rows = []
    for i in range(n):
        k = i % len(planes)
        y = planes[k]
        r, c = rng.integers(0, y.shape[0] - patch + 1), rng.integers(0, y.shape[1] - patch + 1)
        p = np.ascontiguousarray(y[r:r + patch, c:c + patch])
        x = torch.tensor(p[None, None] / 255.0, dtype=torch.float32)
        for q in qualities:
            data = encode_luma(p, q)
            coeffs, _ = read_quantised(data)
            rows.append({"patch": i, "image": names[k], "qf": q, "soft": float(soft_nonzero_count(x, q)),
                         "hard": int(hard_nonzero_count(x.double(), q)), "libjpeg": int((coeffs != 0).sum()),
                         "file_bits": 8 * len(data)})
    return pd.DataFrame(rows)
