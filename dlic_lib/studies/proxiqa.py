"""The ProxIQA chapter (seed 004): settings per profile, training, real-bitstream evaluation, tables, claims.

What runs (notes on seed 004, B3):

1. a BLS MSE ladder (warm-started: each rung starts from the release of the rung below);
2. VMAF_p per rung, fine-tuned from the MSE release: proxy-only warm-up, then alternating steps with
   libvmaf labels (:class:`dlic_lib.train.tasks.proxiqa.ProxiqaTask`);
3. the frozen-proxy experiment (Fig. 6, C46): a proxy pre-trained on JPEG/blur/noise patches with
   libvmaf labels, frozen, then used as the only distortion loss (``alpha = 1``) of one rung;
4. on ``extra_rungs``: SSIM_p and MS-SSIM_p (C42), direct SSIM training with and without the pixel
   loss (Table IV, C44); where ``bmshj_steps`` is set, BMSHJ with MSE and VMAF_p (C43), where
   ``msh_steps`` is set, chapter 2's mean-scale hyperprior with MSE and VMAF_p in its place
   (:mod:`dlic_lib.studies.proxiqa_train`);
5. Kodak and the high-resolution stand-in coded by the ``bls2017`` codec (real rANS bitstreams, exact
   decoding); per image bpp from the bytes, libvmaf VMAF, SSIM, MS-SSIM and PSNR by eq. 12; per-image
   BD-rates against BLS-MSE, mean and population SD; kodim19 against JPEG 2000 and x265 (C47);
   encode/decode times (C45). The settings of item 4 are coded on Kodak only (their claims are Kodak's).

What ``quick`` keeps within its budget (measured on the book's idle 2-core CPU, N = 32, float32): an MSE
step costs 0.05 s (2000 steps in 110 s), a VMAF_p rung of 100 proxy-only and 250 alternating steps
(batch 8 at 128², one libvmaf call per step) 155–185 s, and coding plus libvmaf scoring 0.5 s per Kodak
image and 1.2 s per high-res image. Four rungs at those sizes, the extra settings and the evaluation of
every image took over 30 minutes; ``quick`` therefore trains three rungs (1500 + 500 + 500 MSE steps at
a learning rate of 1e-3 — at the paper's 1e-4 the rate was still falling after 1000 + 500 + 500 steps,
so the warm-started rungs came out in inverted rate order —, VMAF_p 50 + 120 steps at 1e-4), the
pre-trained and frozen proxies for 150 and 100 steps, the extra settings of item 4 for 30 + 40 steps
on two rungs, codes four high-res images, and measures the proxies' agreement with libvmaf on the
eight Kodak images of item 4 (one image where item 4 is not run). BMSHJ runs at ``full`` only: its own MSE
ladder does not fit ``quick``'s 15 minutes; at ``quick`` chapter 2's mean-scale hyperprior MSE rungs
(MM-E, from the zoo) stand in for it and VMAF_p is fine-tuned from each (``msh_steps``: warm-up,
alternating steps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .proxiqa_train import release_paths, train_all

__all__ = ["SETTINGS", "LABELS", "settings", "train_all", "release_codec", "score_pair", "evaluate", "conventional_points",
           "frozen_example", "bd_summary", "kodim19_savings", "chapter_images", "run", "verdicts", "proxy_agreement",
           "agreement_table", "training_logs"]  # fmt: skip

_LADDER = (0.0018, 0.0067, 0.025, 0.0932)
#: release key → curve label; the first two are coded on every set, the others on Kodak
LABELS = {"mse": "BLS-MSE", "vmaf_p": "BLS VMAF_p", "ssim_p": "BLS SSIM_p", "ms_ssim_p": "BLS MS-SSIM_p",
          "ssim_direct": "BLS SSIM direct", "ssim_direct_pixel": "BLS SSIM direct + MSE", "bmshj_mse": "BMSHJ MSE",
          "bmshj_vmaf_p": "BMSHJ VMAF_p", "msh_mse": "MSH MSE (chapter 2)", "msh_vmaf_p": "MSH VMAF_p"}  # fmt: skip

#: the chapter's settings per profile (λ: CompressAI's MSE convention; VMAF_p uses 2·λ with α = 0.5)
SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": dict(N=8, lambdas=(0.0067, 0.0932), mse_steps=(8, 4), mse_lr=1e-3, crop=64, batch=4, patch=64,
                  vmafp_warmup=1, vmafp_steps=2, pretrain_steps=3, frozen_steps=2, frozen_rung=0,
                  kodak=1, highres=0, max_side=384, conventional=(("hevc", "420"),), conventional_points=2, agreement_tiles=4,
                  extra_rungs=(), extra_steps=0, extra_warmup=0, extra_batch=4, extra_kodak=0, msssim_patch=176,
                  bmshj_steps=None, msh_steps=None),
    "quick": dict(N=32, lambdas=_LADDER[:3], mse_steps=(1500, 500), mse_lr=1e-3, crop=96, batch=8, patch=128,
                  vmafp_warmup=50, vmafp_steps=120, pretrain_steps=150, frozen_steps=100, frozen_rung=1,
                  kodak=24, highres=4, max_side=None, conventional=(("jpeg2000", None), ("hevc", "444"), ("hevc", "420")),
                  conventional_points=7, agreement_tiles=24,
                  extra_rungs=(1, 2), extra_steps=40, extra_warmup=30, extra_batch=4, extra_kodak=8, msssim_patch=176,
                  bmshj_steps=None, msh_steps=(30, 60)),
    "full": dict(N=192, lambdas=(0.0009, 0.0018, 0.0035, 0.0067, 0.013, 0.025, 0.0483, 0.0932), mse_steps=(2_000_000, 2_000_000),
                 mse_lr=1e-4, crop=256, batch=8, patch=128, vmafp_warmup=1000, vmafp_steps=100_000, pretrain_steps=20_000,
                 frozen_steps=20_000, frozen_rung=3, kodak=24, highres=8, max_side=None,
                 conventional=(("jpeg2000", None), ("hevc", "444"), ("hevc", "420")), conventional_points=7,
                 agreement_tiles=24, extra_rungs=tuple(range(8)), extra_steps=100_000, extra_warmup=1000,
                 extra_batch=8, extra_kodak=24, msssim_patch=192, bmshj_steps=(2_000_000, 2_000_000, 100_000), msh_steps=None),
}  # fmt: skip
#: the conventional codecs' rate parameters: JPEG 2000 takes the requested bpp (compression ratios 10–640 of
#: the 24-bit original, 24 / ratio), x265 its QP (up to 51, HEVC's coarsest); the low rates reach down to the
#: VMAF of small CPU-trained BLS networks, so that kodim19's curves overlap (C47)
_CONVENTIONAL_QUALITIES = {"jpeg2000": tuple(24 / r for r in (10, 20, 40, 80, 160, 320, 640)),
                           "hevc": (22, 27, 32, 37, 42, 47, 51)}


def settings(profile: str, **overrides: Any) -> dict[str, Any]:
    """A copy of the settings at ``profile`` with non-``None`` overrides; unknown keys are refused."""
    from ..profiles import settings_from

    return {**settings_from(SETTINGS, "06_proxiqa", profile, **overrides), "profile": profile}


# -- coding and scoring --------------------------------------------------------------------------------
def release_codec(path: str | Path) -> Any:
    """The codec of a release: ``bls2017`` (:class:`~dlic_lib.codecs.bls2017.Bls2017Codec`), or a hyperprior
    codec (this chapter's or chapter 2's release) through :class:`~dlic_lib.codecs.learned.LearnedCodec`."""
    from ..codecs import LearnedCodec
    from ..codecs.bls2017 import Bls2017Codec
    from ..zoo import load_release as read

    blob = read(path)
    if "settings" not in blob and "model" in blob:  # a rate–distortion release of chapter 2's ladders
        from ..zoo import model_from_release

        return LearnedCodec(blob["model"], model=model_from_release(path, blob["model"], {"N": blob["N"], "M": blob["M"]}))
    architecture = blob.get("settings", {}).get("architecture", "bls2017")
    if architecture == "bls2017":
        return Bls2017Codec(checkpoint=str(path))
    from ..train.tasks.proxiqa import load_release

    return LearnedCodec(architecture, model=load_release(path)[0])


def score_pair(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """libvmaf VMAF, SSIM, MS-SSIM and PSNR by eq. 12, ``(4·PSNR_Y + PSNR_U + PSNR_V)/6`` (BT.601 limited, 4:4:4)."""
    from ..metrics import libvmaf

    r = libvmaf(reference, decoded, features=("psnr", "float_ssim", "float_ms_ssim"))[0]
    # libvmaf leaves MS-SSIM out for images too small for its five scales
    return {"vmaf": r["vmaf"], "ssim": r["float_ssim"], "msssim": r.get("float_ms_ssim", float("nan")),
            "psnr": (4 * r["psnr_y"] + r["psnr_cb"] + r["psnr_cr"]) / 6}  # fmt: skip


def evaluate(releases: dict[float, Path], label: str, images: dict[str, np.ndarray], dataset: str) -> pd.DataFrame:
    """One row per (image, λ) of a BLS setting: bpp from the bytes, metrics, times."""
    from .. import progress

    rows = []
    with progress.task(f"coding {dataset}: {label}", total=len(releases) * len(images), unit="file") as bar:
        for lam, path in releases.items():
            codec = release_codec(path)
            codec.encode(next(iter(images.values())), use_cache=False)  # warm-up, so the first timed image is not penalised
            for name, image in images.items():
                bar.set_detail(f"λ={lam:g} · {name}")
                coded = codec.encode(image, use_cache=False)
                bar.update(1)
                rows.append({"dataset": dataset, "image": name, "codec": label, "lmbda": lam, "bpp": coded.bpp,
                             **score_pair(image, coded.decoded), "encode_ms": 1e3 * coded.encode_s,
                             "decode_ms": 1e3 * coded.decode_s})  # fmt: skip
    return pd.DataFrame(rows)


def conventional_points(images: dict[str, np.ndarray], codecs: tuple, dataset: str, points: int = 6) -> pd.DataFrame:
    """RD points (and encode times) of the conventional codecs at up to ``points`` fixed quality settings."""
    from .. import progress
    from ..codecs import get_codec

    rows = []
    steps = {name: qs[:: max(1, -(-len(qs) // points))] for name, qs in _CONVENTIONAL_QUALITIES.items()}
    total = sum(len(steps[name]) for name, _ in codecs) * len(images)
    with progress.task(f"coding {dataset}: conventional codecs", total=total, unit="file") as bar:
        for name, chroma in codecs:
            codec = get_codec(name, **({"chroma": chroma} if chroma else {}))
            label = "JPEG 2000" if name == "jpeg2000" else f"x265 {chroma}"
            for q in steps[name]:
                for image_name, image in images.items():
                    bar.set_detail(f"{label} q={q} · {image_name}")
                    coded = codec.encode(image, q, use_cache=False)
                    bar.update(1)
                    rows.append({"dataset": dataset, "image": image_name, "codec": label, "lmbda": q, "bpp": coded.bpp,
                                 **score_pair(image, coded.decoded), "encode_ms": 1e3 * coded.encode_s,
                                 "decode_ms": 1e3 * coded.decode_s})  # fmt: skip
    return pd.DataFrame(rows)


def frozen_example(frozen: Path, alternating: Path, image: np.ndarray) -> pd.DataFrame:
    """Proxy (tile mean) against libvmaf on one image, for the frozen-proxy codec and the alternating one."""
    from ..train.tasks.proxiqa import load_release

    rows = []
    for label, path in (("frozen proxy (α = 1)", frozen), ("alternating (α = 0.5)", alternating)):
        proxy = load_release(path)[1]
        coded = release_codec(path).encode(image, use_cache=False)
        data, decoded = coded.data, coded.decoded
        x = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 255
        y = torch.from_numpy(np.array(decoded, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            predicted = float(proxy.score_image(x, y)[0])
        true = score_pair(image, decoded)["vmaf"]
        rows.append({"setting": label, "bpp": 8 * len(data) / (image.shape[0] * image.shape[1]), "proxy_vmaf": predicted,
                     "libvmaf": true, "gap": predicted - true})  # fmt: skip
    return pd.DataFrame(rows)


def _tiles(image: np.ndarray, p: int) -> np.ndarray:
    h, w = (image.shape[0] // p) * p, (image.shape[1] // p) * p
    t = image[:h, :w].reshape(h // p, p, w // p, p, 3).transpose(0, 2, 1, 3, 4)
    return t.reshape(-1, p, p, 3)


def proxy_agreement(releases: dict[str, Any], images: dict[str, np.ndarray], max_tiles: int = 24) -> pd.DataFrame:
    """Each proxy and vmaf-torch against libvmaf on held-out tiles of the BLS reconstructions (Fig. 7).

    Tiles are the proxy's patches of Kodak images coded by every BLS release (MSE and VMAF_p rungs);
    libvmaf labels each tile pair (one FFmpeg call per image and codec). Returns one row per
    (predictor, tile) with the prediction and the libvmaf label.
    """
    from ..metrics.vmaf_batch import vmaf_labels
    from ..metrics.vmaf_torch import available, vmaf_torch
    from ..train.tasks.proxiqa import load_release

    proxies = {"pre-trained proxy (frozen)": load_release(releases["proxy"])[1]}
    lam, path = next(iter(releases["vmaf_p"].items()))
    proxies[f"alternating proxy (λ={lam:g})"] = load_release(path)[1]
    p = next(iter(proxies.values())).patch
    rows = []
    for key in ("mse", "vmaf_p"):
        for lam, path in releases[key].items():
            codec = release_codec(path)
            for name, image in images.items():
                ref = _tiles(image, p)[:max_tiles]
                dist = _tiles(codec.encode(image, use_cache=False).decoded, p)[:max_tiles]
                x = torch.from_numpy(np.ascontiguousarray(ref)).permute(0, 3, 1, 2).float() / 255
                y = torch.from_numpy(np.ascontiguousarray(dist)).permute(0, 3, 1, 2).float() / 255
                truth = vmaf_labels(x, y).numpy()
                preds = {}
                with torch.no_grad():
                    for label, net in proxies.items():
                        preds[label] = net(x, y).numpy()
                if available():
                    preds["vmaf-torch"] = vmaf_torch(ref, dist, round_luma=True).numpy()
                for label, values in preds.items():
                    rows += [{"predictor": label, "codec": key, "lmbda": lam, "image": name, "tile": i,
                              "predicted": float(v), "libvmaf": float(t)} for i, (v, t) in enumerate(zip(values, truth))]  # fmt: skip
    return pd.DataFrame(rows)


def agreement_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """PLCC, SROCC and RMSE of each predictor against libvmaf."""
    from scipy.stats import pearsonr, spearmanr

    rows = []
    for label, part in pairs.groupby("predictor", sort=False):
        a, b = part["predicted"].to_numpy(), part["libvmaf"].to_numpy()
        rows.append({"predictor": label, "tiles": len(part), "plcc": pearsonr(a, b)[0], "srocc": spearmanr(a, b)[0],
                     "rmse": float(np.sqrt(np.mean((a - b) ** 2)))})  # fmt: skip
    return pd.DataFrame(rows)


def training_logs(releases: dict[str, Any]) -> pd.DataFrame:
    """Validation rows (true and proxy VMAF, bpp) of the frozen run and the alternating run of the same λ."""
    lam, frozen = releases["frozen"]
    frames = []
    for label, path in (("frozen proxy", frozen), ("alternating", releases["vmaf_p"][lam])):
        log = pd.read_csv(Path(path).parent / "log.csv")
        frames.append(log[log["split"] == "val"].assign(setting=label))
    return pd.concat(frames, ignore_index=True)


# -- tables ---------------------------------------------------------------------------------------------
def bd_summary(rd: pd.DataFrame, anchor: str = "BLS-MSE", method: str = "pchip") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-image BD-rates against ``anchor`` (every metric) and their mean and population SD per dataset."""
    from ..rd import bd_table, summarize_bd

    per_image = bd_table(rd, anchor=anchor, metrics=["psnr", "ssim", "msssim", "vmaf"], by=["dataset", "image"],
                         method=method, min_points=2)  # fmt: skip
    summary = summarize_bd(per_image, by=("dataset", "codec", "metric"), ddof=0)
    return per_image, summary


def kodim19_savings(rd: pd.DataFrame, test: str = "BLS VMAF_p") -> dict[str, float]:
    """Mean rate saving (%) of ``test`` at its own VMAF points, others' log-rate interpolated (pchip) in VMAF."""
    from scipy.interpolate import PchipInterpolator

    part = rd[rd["image"] == "kodim19"]
    mine = part[part["codec"] == test].sort_values("vmaf")
    keys = {"BLS-MSE": "mse", "JPEG 2000": "jpeg2000", "x265 444": "hevc444", "x265 420": "hevc420"}
    out: dict[str, float] = {}
    for codec, key in keys.items():
        other = part[part["codec"] == codec].sort_values("vmaf").drop_duplicates("vmaf")
        if len(other) < 2:
            continue
        vm, lr = other["vmaf"].to_numpy(), np.log(other["bpp"].to_numpy())
        inside = mine[(mine["vmaf"] >= vm.min()) & (mine["vmaf"] <= vm.max())]
        if inside.empty:
            out[key] = float("nan")
            continue
        rates = np.exp(PchipInterpolator(vm, lr)(inside["vmaf"].to_numpy()))
        out[key] = float(np.mean(1 - inside["bpp"].to_numpy() / rates) * 100)
    return out


# -- the chapter end to end ----------------------------------------------------------------------------
def chapter_images(cfg: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """Kodak (kodim01 and kodim19 first, so small profiles keep the figures' images) and the high-res stand-in."""
    from ..data import read_image, resolve_dataset
    from ..data.prepare import fit_to_grid

    kodak = resolve_dataset("kodak").images()
    first = [p for p in kodak if p.stem in ("kodim01", "kodim19")]
    chosen = (first + [p for p in kodak if p not in first])[: cfg["kodak"]]
    out = {"Kodak": {p.stem: fit_to_grid(read_image(p), cfg["max_side"], 16) if cfg["max_side"] else read_image(p)
                     for p in sorted(chosen)}}  # fmt: skip
    if cfg["highres"]:
        photos = resolve_dataset("wikimedia-photos").images("test")[: cfg["highres"]]
        out["High-res stand-in"] = {p.stem: fit_to_grid(read_image(p), None, 16) for p in photos}
    return out


_TABLES = ("rd", "conventional", "frozen", "per_image", "summary", "agreement", "logs")


def _cache_folder(cfg: dict[str, Any], releases: dict[str, Any]) -> Path:
    """Where the tables of ``cfg`` computed with exactly these released weights are kept."""
    import hashlib
    import json

    from ..config import cache_dir
    from ..data import sha256_file

    key = json.dumps({"cfg": cfg, "weights": [sha256_file(p) for p in release_paths(releases)]}, sort_keys=True, default=str)
    return cache_dir() / "proxiqa" / hashlib.sha256(key.encode()).hexdigest()[:16]


def run(cfg: dict[str, Any], *, progress: bool = True, runs_dir: Path | None = None) -> dict[str, Any]:
    """Train what is missing, code every test image, and build every table of the chapter (cached)."""
    import json

    from ..outputs import write_table, write_text

    releases = train_all(cfg, progress=progress, runs_dir=runs_dir)
    folder = _cache_folder(cfg, releases)
    if (folder / "savings.json").is_file():
        out: dict[str, Any] = {"releases": releases, "settings": cfg, "savings": json.loads((folder / "savings.json").read_text())}
        for name in _TABLES:
            path = folder / f"{name}.parquet"
            out[name] = pd.read_parquet(path) if path.is_file() else None
        return out
    out = _compute(cfg, releases)
    for name in _TABLES:
        if out[name] is not None:
            write_table(out[name], folder / f"{name}.parquet", what="chapter table")
    write_text(folder / "savings.json", json.dumps(out["savings"]), what="chapter table")  # written last: marks completion
    return out


def _compute(cfg: dict[str, Any], releases: dict[str, Any]) -> dict[str, Any]:
    images = chapter_images(cfg)
    kodak = images["Kodak"]
    subset = dict(list(kodak.items())[: cfg["extra_kodak"]])  # the extra settings: their claims are Kodak's
    rd = pd.concat([evaluate(releases[key], label, ims if key in ("mse", "vmaf_p") else subset, dataset)
                    for dataset, ims in images.items() for key, label in LABELS.items()
                    if releases.get(key) and (dataset == "Kodak" or key in ("mse", "vmaf_p"))], ignore_index=True)  # fmt: skip
    probe = "kodim19" if "kodim19" in kodak else next(iter(kodak))
    conventional = conventional_points({probe: kodak[probe]}, cfg["conventional"], "Kodak", cfg["conventional_points"])
    lam, frozen_path = releases["frozen"]
    frozen = frozen_example(frozen_path, releases["vmaf_p"][lam], kodak["kodim01"]) if "kodim01" in kodak else None
    per_image, summary = bd_summary(rd)
    agreement = proxy_agreement(releases, subset or dict(list(kodak.items())[:1]), max_tiles=cfg["agreement_tiles"])
    savings = kodim19_savings(pd.concat([rd, conventional])) if probe == "kodim19" else {}
    return {"releases": releases, "settings": cfg, "rd": rd, "conventional": conventional, "frozen": frozen, "per_image": per_image,
            "summary": summary, "agreement": agreement, "logs": training_logs(releases), "savings": savings}


def verdicts(results: dict[str, Any]) -> pd.DataFrame:
    """Every claim's verdict from the chapter's results (C48 from the published tables)."""
    from .proxiqa_verdicts import chapter_verdicts

    return chapter_verdicts(results, SETTINGS)
