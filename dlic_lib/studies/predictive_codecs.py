"""Chapter 5, predictive codecs (seed 003 §4.2–4.3, §5.3–5.5; claims C36, C37, C39).

Settings per profile, the networks (from the zoo, trained when missing: the recursive baseline by
its own task, the intra autoencoders by chapter 4's settings, the residual networks warm-started from
the baseline, the VAEs per λ with the intra variants warm-started from the baseline VAE at the same
λ), the evaluation of every codec on Kodak into one tidy table (bytes, bpp with and without side
information, PSNR-Y, PSNR-RGB, MS-SSIM, mode shares) and the verdicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DlicError

__all__ = ["CHAPTER", "SETTINGS", "chapter_settings", "networks", "evaluate", "mode_shares", "curves", "common_points",
           "verdicts", "verdict_c36", "verdict_c37", "verdict_c39", "VERDICT_CODECS"]

CHAPTER = "05_predictive_codecs"

#: per profile (seed 003 notes A.4): test images and crop, residual-codec steps, VAE sizes, learning rate and
#: schedule (10⁻³, ÷10 at 80 %, below full: the thesis' 10⁻⁴ leaves every λ at one rate after minutes), λ (the recursive
#: baseline's width and iterations are the zoo preset's, :func:`baseline_settings`)
SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": dict(kodak=1, crop=64, ba_images=1, loop_images=1, residual_steps=2, batch=2,
                  vae_N=16, vae_steps=4, intra_steps=2, vae_lr=1e-4, vae_decay=(), lambdas=(1e-4, 1e-3),
                  thresholds=(30.0,), max_side=384),
    "quick": dict(kodak=2, crop=None, ba_images=1, loop_images=2, residual_steps=150, batch=16,
                  vae_N=64, vae_steps=1000, intra_steps=300, vae_lr=1e-3, vae_decay=(0.8,),
                  lambdas=(1e-4, 1e-3, 1e-2, 1e-1), thresholds=(22.0, 26.0, 30.0), max_side=None),
    "full": dict(kodak=24, crop=None, ba_images=24, loop_images=24, residual_steps=300_000,
                 batch=64, vae_N=128, vae_steps=1_000_000, intra_steps=1_000_000, vae_lr=1e-4, vae_decay=(),
                 lambdas=(0.5, 0.1, 0.05, 0.01, 0.005, 0.001, 0.0001), thresholds=tuple(range(19, 37)) + (38, 40, 43),
                 max_side=None),
}


def baseline_settings(profile: str):
    """The recursive baseline: the checkpoint zoo's ``toderici2017-rnn`` of the profile (shared by chapters)."""
    from ..train.tasks.recurrent import PRESETS

    return PRESETS[profile]


def chapter_settings(profile: str, **overrides: Any) -> dict[str, Any]:
    """The chapter's settings at ``profile`` with non-``None`` overrides (unknown keys refused).

    ``width``, ``iterations`` and ``steps`` are those of the shared recursive baseline (:func:`baseline_settings`).
    """
    from ..profiles import settings_from

    s = settings_from(SETTINGS, CHAPTER, profile, **overrides)
    base = baseline_settings(profile)
    return {**s, "width": base.width, "iterations": base.iterations, "steps": base.steps, "profile": profile}


# --- networks ---------------------------------------------------------------------------------
def networks(s: dict[str, Any]) -> dict[str, Any]:
    """Every network of the chapter (trained when missing, resumed when interrupted), with training logs."""
    from .. import zoo
    from ..train.tasks.predictive import ResidualRnnTask, VaeTask, train
    from ..train.tasks.recurrent import train_recurrent
    from . import intra_prediction

    out: dict[str, Any] = {"logs": {}}
    # the zoo's recursive codec of this profile, the one chapters 2 and 7 use (trained once for all three)
    base = train_recurrent(baseline_settings(s["profile"]), progress=True)
    out["baseline"], out["logs"]["baseline"] = zoo.load_model(base.entry), base.log
    intra_s = intra_prediction.chapter_settings(s["profile"])
    (out["ae1"], _), (out["ae2"], _) = intra_prediction.intra_models(intra_s).values()
    for kind in ("single", "multi"):
        res = train(ResidualRnnTask(kind=kind, width=s["width"], iterations=s["iterations"], steps=s["residual_steps"],
                                    batch=s["batch"], warm_start=str(base.entry.path), profile=s["profile"],
                                    intra_profile=s["profile"], max_side=s["max_side"]), progress=True)
        out[kind], out["logs"][kind] = zoo.load_model(res.entry), res.log
    out["vae"] = {}
    for lmbda in s["lambdas"]:
        common = dict(lmbda=lmbda, N=s["vae_N"], batch=8 if s["profile"] != "smoke" else 2, profile=s["profile"],
                      intra_profile=s["profile"], max_side=s["max_side"], lr=s["vae_lr"], lr_decay_at=tuple(s["vae_decay"]))
        plain = train(VaeTask(kind="vae", patch=64, steps=s["vae_steps"], **common), progress=True)
        nets = {"vae": zoo.load_model(plain.entry)}
        for kind in ("intra-ae", "embedded"):
            r = train(VaeTask(kind=kind, patch=32, steps=s["intra_steps"], warm_start=str(plain.entry.path), **common), progress=True)
            nets[kind] = zoo.load_model(r.entry)
            if kind == "embedded":
                nets["predictor"] = zoo.load_model(zoo.find("jung2021-embedded-intra", objective="embedded-p32",
                                                            rate_key={"lmbda": lmbda}, profile=s["profile"]))
            out["logs"][f"{kind} λ={lmbda:g}"] = r.log
        out["logs"][f"vae λ={lmbda:g}"] = plain.log
        out["vae"][lmbda] = nets
    return out


# --- evaluation -------------------------------------------------------------------------------
def _metrics(ref: np.ndarray, dec: np.ndarray) -> dict[str, float]:
    from ..metrics import ms_ssim, psnr_rgb, psnr_y

    out = {"psnr_y": float(psnr_y(ref, dec, data_range=255)), "psnr_rgb": float(psnr_rgb(ref, dec, data_range=255))}
    out["ms_ssim"] = float(ms_ssim(ref, dec, data_range=255)) if min(ref.shape[:2]) >= 176 else float("nan")
    return out


def _codecs(s: dict[str, Any], nets: dict[str, Any]):
    """(label, codec, qualities, images limit, networks) for every curve of the chapter."""
    from ..codecs import get_codec

    ks = list(range(1, s["iterations"] + 1))
    if s["profile"] == "quick":
        ks = [1, 2, 4, 8]
    ae = {"ae1": nets["ae1"], "ae2": nets["ae2"]}
    yield "baseline", get_codec("rnn", mode="raw", model=nets["baseline"]), ks, None, (nets["baseline"],)
    loop = s["loop_images"]  # closed-loop codecs decode patch after patch (verdicts compare curves on equal images)
    yield ("single-mode", get_codec("rnn-single", residual=nets["single"], **ae), ks, loop,
           (nets["single"], *ae.values()))
    yield "multi-mode", get_codec("rnn-multi", residual=nets["multi"], **ae), ks, loop, (nets["multi"], *ae.values())
    k_max = s["iterations"]
    yield ("baseline + BA", get_codec("rnn-ba", residual=nets["baseline"], k_max=k_max), list(s["thresholds"]), None,
           (nets["baseline"],))
    yield ("multi-mode + BA", get_codec("rnn-multi-ba", residual=nets["multi"], k_max=k_max, **ae),
           list(s["thresholds"]), s["ba_images"], (nets["multi"], *ae.values()))
    for lmbda, v in nets["vae"].items():
        yield f"VAE λ={lmbda:g}", get_codec("vae", vae=v["vae"]), [lmbda], None, (v["vae"],)
        yield (f"VAE + intra AE λ={lmbda:g}", get_codec("vae-intra-ae", vae=v["intra-ae"], ae1=nets["ae1"]), [lmbda],
               loop, (v["intra-ae"], nets["ae1"]))
        yield (f"VAE + embedded intra λ={lmbda:g}", get_codec("vae-embedded", vae=v["embedded"], predictor=v["predictor"]),
               [lmbda], loop, (v["embedded"], v["predictor"]))
    yield "JPEG", get_codec("jpeg"), [5, 10, 20, 30, 50, 75, 90], None, ()
    yield "JPEG 2000", get_codec("jpeg2000"), [0.1, 0.25, 0.5, 1.0], None, ()


def _family(label: str) -> str:
    return label.split(" λ=")[0]


#: bump when a row's content changes for the same codec, weights and image (metrics, columns)
ROW_FORMAT = 1


def _row_path(label: str, codec: Any, weights: str, quality: Any, image_sha256: str, profile: str):
    """Where the row of (curve, quality, image) coded by ``codec`` with weights ``weights`` is kept."""
    import hashlib
    import json

    from ..config import cache_dir

    payload = {"curve": label, "codec": codec.name, "options": codec.options, "version": codec.version(),
               "weights": weights, "quality": quality, "image": image_sha256, "profile": profile,
               "format": ROW_FORMAT}
    key = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return cache_dir() / "predictive" / key[:2] / f"{key}.json"


def _row(image: np.ndarray, data: bytes, decoded: np.ndarray, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` completed with bytes, bpp (with and without side information) and the metrics."""
    row.update(bytes=len(data), bpp=8 * len(data) / (image.shape[0] * image.shape[1]), **_metrics(image, decoded))
    row["bpp_without_side"] = row["bpp"] - row["side_bpp"]
    return row


def _code_rows(codec: Any, image: np.ndarray, qualities: list[Any]):
    """Code one image at each rate point, yielding its row (bytes, bpp, side information, metrics, mode
    shares) as soon as it is known; a progressive codec codes every rate point in one pass."""
    from ..codecs.predictive import PredictiveRnnCodec
    from ..predictive.predictors import AE1, AE2, NONE

    if getattr(codec, "progressive", False):
        for coded in codec.encode_qualities(image, qualities, use_cache=False):
            yield _row(image, coded.data, coded.decoded, {"side_bpp": 0.0})
        return
    for q in qualities:
        if isinstance(codec, PredictiveRnnCodec):
            patches, data = codec.encode_patches(image, q)
            m = patches.modes
            yield _row(image, data, patches.reconstruction[: image.shape[0], : image.shape[1]], {
                "side_bpp": codec.accounting(data)["side"] / (image.shape[0] * image.shape[1]),
                "mean_iterations": float(patches.counts.mean()), "share_ae1": float(np.mean(m == AE1)),
                "share_ae2": float(np.mean(m == AE2)), "share_hevc": float(np.mean(m < 35)),
                "share_none": float(np.mean(m == NONE))})
        else:
            result = codec.encode(image, q, use_cache=False)
            yield _row(image, result.data, result.decoded, {"side_bpp": 0.0})


def evaluate(s: dict[str, Any], nets: dict[str, Any], images: list[tuple[str, np.ndarray]]) -> pd.DataFrame:
    """One row per (codec, quality, image): bytes, bpp, side-information bpp, metrics, mode shares.

    Every row is kept in the cache as soon as it is computed, keyed by the curve, the codec and its options,
    the networks' weights, the rate point and the image's pixels: a rerun reads the rows back and an
    interrupted run codes only what is missing.
    """
    import json

    from .. import progress
    from ..codecs.rnn import combined_fingerprint
    from ..data.images import sha256_array
    from ..outputs import write_text

    digests = {name: sha256_array(image) for name, image in images}
    todo: dict[tuple[str, str], tuple[Any, np.ndarray, list]] = {}  # (curve, image) → codec, pixels, [(q, path)]
    rows = {}
    for label, codec, qualities, limit, weights in _codecs(s, nets):
        fingerprint = combined_fingerprint(*weights) if weights else ""
        for name, image in images[:limit] if limit else images:
            for q in qualities:
                path = _row_path(label, codec, fingerprint, q, digests[name], s["profile"])
                rows[label, name, q] = {"codec": _family(label), "curve": label, "quality": q, "image": name,
                                        "profile": s["profile"]}
                if path.is_file():
                    rows[label, name, q].update(json.loads(path.read_text()))
                else:
                    todo.setdefault((label, name), (codec, image, []))[2].append((q, path))
    missing = sum(len(items) for _, _, items in todo.values())
    with progress.task("coding", total=len(rows), initial=len(rows) - missing, unit="file") as bar:
        for (label, name), (codec, image, items) in todo.items():
            bar.set_detail(f"{label} · {name}")
            for (q, path), row in zip(items, _code_rows(codec, image, [q for q, _ in items])):
                write_text(path, json.dumps(row), what="coded row")
                rows[label, name, q].update(row)
                bar.update(1)
    return pd.DataFrame(list(rows.values()))


def curves(table: pd.DataFrame) -> pd.DataFrame:
    """Mean bpp and metrics per (codec, quality) over the images (the RD points)."""
    cols = [c for c in ("bpp", "bpp_without_side", "side_bpp", "psnr_y", "psnr_rgb", "ms_ssim", "share_ae1",
                        "share_ae2", "share_hevc", "share_none", "mean_iterations") if c in table]
    out = table.groupby(["codec", "curve", "quality"], as_index=False)[cols].mean()
    out["n_images"] = table.groupby(["codec", "curve", "quality"]).size().values
    return out.sort_values(["codec", "bpp"]).reset_index(drop=True)


#: the curves each verdict compares (a claim is judged on the images all of them coded)
VERDICT_CODECS = {
    "C36": ("baseline", "single-mode", "multi-mode"),
    "C37": ("JPEG", "JPEG 2000", "baseline + BA", "VAE", "VAE + embedded intra"),
    "C39": ("VAE", "VAE + intra AE"),
}


def common_points(table: pd.DataFrame, codecs) -> pd.DataFrame:
    """:func:`curves` of ``codecs`` on the images every one of them coded (the closed-loop codecs may code fewer)."""
    part = table[table["codec"].isin(codecs)]
    per_codec = [set(part.loc[part["codec"] == c, "image"]) for c in codecs if (part["codec"] == c).any()]
    common = set.intersection(*per_codec) if per_codec else set()
    return curves(part[part["image"].isin(common)])


def verdicts(table: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """C36, C37 and C39 from the coded rows, each on the images its curves share."""
    rules = {"C36": verdict_c36, "C37": verdict_c37, "C39": verdict_c39}
    return {cid: rules[cid](common_points(table, codecs)) for cid, codecs in VERDICT_CODECS.items()}


def mode_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Fig. 5.8: shares of AE1, AE2, HEVC and none per iteration count of the multi-mode codec."""
    part = table[table["codec"] == "multi-mode"]
    return part.groupby("quality", as_index=False)[["share_ae1", "share_ae2", "share_hevc", "share_none"]].mean()


# --- verdicts ---------------------------------------------------------------------------------
def _msssim_db(v: pd.Series) -> pd.Series:
    return -10 * np.log10(1 - v.clip(upper=1 - 1e-12))


def verdict_c36(points: pd.DataFrame) -> tuple[str, str]:
    """C36 from the mean PSNR-Y / MS-SSIM per k of baseline, single-mode and multi-mode (notes E5)."""
    pick = {c: points[points["codec"] == c].set_index("quality") for c in ("baseline", "single-mode", "multi-mode")}
    ks = sorted(set(pick["baseline"].index) & set(pick["single-mode"].index) & set(pick["multi-mode"].index))
    if len(ks) < 2:
        return "not testable here", "fewer than two common iteration counts"
    b, s, m = (pick[c].loc[ks] for c in ("baseline", "single-mode", "multi-mode"))
    low = [k for k in ks if k <= 2]
    c1 = bool((s["psnr_y"] < b["psnr_y"]).all())
    c2 = bool((m.loc[low, "psnr_y"] > b.loc[low, "psnr_y"]).all() and m.loc[ks[-1], "psnr_y"] < b.loc[ks[-1], "psnr_y"])
    parts = [f"single < baseline in PSNR at every k: {c1}", f"multi > baseline at k ≤ 2 and < at k = {ks[-1]}: {c2}"]
    held = [c1, c2]
    if m["ms_ssim"].notna().all() and b["ms_ssim"].notna().all():
        d = _msssim_db(m["ms_ssim"]) - _msssim_db(b["ms_ssim"])
        c3 = bool(d.loc[low].mean() - d.loc[ks[-1]] >= 0.5)
        held.append(c3)
        parts.append(f"MS-SSIM gain of multi at k ≤ 2 exceeds the high-rate one by ≥ 0.5 dB: {c3} "
                     f"({d.loc[low].mean():+.2f} vs {d.loc[ks[-1]]:+.2f} dB)")
    else:
        parts.append("MS-SSIM not measured (images too small)")
    n = sum(held)
    verdict = "reproduced" if n == 3 else "partly reproduced" if n else "not reproduced"
    return verdict, "; ".join(parts)


def _interp(points: pd.DataFrame, codec: str, bpp: np.ndarray, metric: str = "psnr_y") -> np.ndarray:
    part = points[points["codec"] == codec].sort_values("bpp")
    if part.empty:
        return np.full(len(bpp), np.nan)
    x, y = part["bpp"].to_numpy(), part[metric].to_numpy()
    return np.where((bpp >= x.min()) & (bpp <= x.max()), np.interp(np.log(bpp), np.log(x), y), np.nan)


def _bd(points: pd.DataFrame, anchor: str, test: str, lo: float = 0.0) -> float:
    """Mean PSNR-Y difference over the overlapping log-rate range (above ``lo`` bpp), piecewise linear in log-rate."""
    a, t = (points[points["codec"] == c] for c in (anchor, test))
    if len(a) < 2 or len(t) < 2:
        return float("nan")
    lo = max(lo, a["bpp"].min(), t["bpp"].min())
    hi = min(a["bpp"].max(), t["bpp"].max())
    if not hi > lo:
        return float("nan")
    grid = np.exp(np.linspace(np.log(lo), np.log(hi), 64))
    return float(np.nanmean(_interp(points, test, grid) - _interp(points, anchor, grid)))


def verdict_c37(points: pd.DataFrame) -> tuple[str, str]:
    """C37 (notes E10): recursive + BA vs JPEG / JPEG 2000, VAEs vs JPEG 2000 above and below 0.1 bpp."""
    checks = {
        "baseline + BA beats JPEG": _bd(points, "JPEG", "baseline + BA") > 0,
        "baseline + BA below JPEG 2000": _bd(points, "JPEG 2000", "baseline + BA") < 0,
        "VAE beats JPEG 2000 above 0.1 bpp": _bd(points, "JPEG 2000", "VAE", lo=0.1) > 0,
        "embedded VAE beats JPEG 2000 above 0.1 bpp": _bd(points, "JPEG 2000", "VAE + embedded intra", lo=0.1) > 0,
    }
    at = np.array([0.08])
    emb, vae, j2k = (_interp(points, c, at)[0] for c in ("VAE + embedded intra", "VAE", "JPEG 2000"))
    if np.isfinite([emb, vae, j2k]).all():
        checks["embedded VAE best at 0.08 bpp"] = bool(emb > vae and emb > j2k)
    n = sum(bool(v) for v in checks.values())
    why = "; ".join(f"{k}: {bool(v)}" for k, v in checks.items())
    if len(checks) < 4:
        return "not testable here", why
    return ("reproduced" if n == len(checks) else "partly reproduced" if n else "not reproduced"), why


def verdict_c39(points: pd.DataFrame) -> tuple[str, str]:
    """C39 (notes E8): bpp(λ=1e-4) > bpp(λ=1e-3) for the pre-trained-intra VAE while the baseline VAE is monotone."""
    def bpp(codec: str) -> pd.Series:
        return points[points["codec"] == codec].set_index("quality")["bpp"].sort_index()

    intra, base = bpp("VAE + intra AE"), bpp("VAE")
    if not {1e-4, 1e-3} <= set(intra.index) or len(base) < 2:
        return "not testable here", "λ = 1e-4 and 1e-3 are not both evaluated"
    collapse = bool(intra.loc[1e-4] > intra.loc[1e-3])
    monotone = bool(np.all(np.diff(base.to_numpy()) > 0))
    why = (f"intra-AE VAE bpp at λ = 1e-4: {intra.loc[1e-4]:.3f}, at 1e-3: {intra.loc[1e-3]:.3f} (collapse: {collapse}); "
           f"baseline VAE bpp increasing in λ: {monotone}")
    return ("reproduced" if collapse and monotone else "partly reproduced" if collapse else "not reproduced"), why
