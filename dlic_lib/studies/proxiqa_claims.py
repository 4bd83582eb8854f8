"""Verdict rules for the ProxIQA claims C40–C48 (seed 004), one pure function per claim.

Each rule takes the numbers the chapter measured (``None`` where an experiment was not run at this
profile) and returns ``(verdict, why)`` with a verdict of :data:`dlic_lib.claims.VERDICTS`. C48 is a
check of the paper's own numbers and is computed from the published tables alone
(:func:`published_consistency`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "PUBLISHED", "verdict_c40", "verdict_c41", "verdict_c42", "verdict_c43", "verdict_c44", "verdict_c45",
    "verdict_c46", "verdict_c47", "published_consistency", "verdict_c48",
]

#: the paper's figures the rules compare with
PUBLISHED = {
    "C40": {"kodak": -23.35, "tecnick": -23.78, "nflx": -21.97},
    "C42": {"ssim_p": -21.31, "ms_ssim_p": -21.77},
    "C43": {"mse": -25.78, "vmaf_p": -47.11},
    "C44": {"direct": -29.41, "ssim_p": -19.04, "direct+pixel": -22.39},
    "C46": {"proxy": 97.74, "libvmaf": 5.35},
    "C47": {"mse": 34.4, "jpeg2000": 27.4, "hevc": 21.7},
}
NOT_RUN = "not testable here"


def _ok(x: float | None) -> bool:
    return x is not None and math.isfinite(float(x))


def verdict_c40(kodak_mean: float | None, highres_mean: float | None = None) -> tuple[str, str]:
    """Kodak mean VMAF BD-rate of VMAF_p vs BLS-MSE: negative and within ±5 points of −23.35."""
    if not _ok(kodak_mean):
        return NOT_RUN, "no Kodak BD-rate was measured at this profile"
    hr = f"; high-resolution stand-in for Tecnick {highres_mean:+.2f} %" if _ok(highres_mean) else ""
    tail = f"{hr}; NFLX billboard images are not available"
    if kodak_mean < 0 and abs(kodak_mean - PUBLISHED["C40"]["kodak"]) <= 5:
        return "reproduced", f"Kodak {kodak_mean:+.2f} % is within 5 points of −23.35 %{tail}"
    if kodak_mean < 0:
        return "partly reproduced", f"VMAF_p saves VMAF bits on Kodak ({kodak_mean:+.2f} %) but not about 23 %{tail}"
    return "not reproduced", f"VMAF_p costs VMAF bits on Kodak ({kodak_mean:+.2f} %){tail}"


def verdict_c41(per_image: pd.DataFrame | None, min_share: float = 22 / 24) -> tuple[str, str]:
    """Per image: PSNR BD > 0 and SSIM, MS-SSIM, VMAF BD < 0 (columns ``psnr, ssim, msssim, vmaf``)."""
    if per_image is None or per_image.empty:
        return NOT_RUN, "no per-image BD-rates were measured at this profile"
    signs = (per_image["psnr"] > 0) & (per_image["ssim"] < 0) & (per_image["msssim"] < 0) & (per_image["vmaf"] < 0)
    share = float(signs.mean())
    means = per_image[["psnr", "ssim", "msssim", "vmaf"]].mean()
    mean_signs = means["psnr"] > 0 and (means[["ssim", "msssim", "vmaf"]] < 0).all()
    text = f"all four signs as published on {int(signs.sum())}/{len(signs)} images"
    if share >= min_share:
        return "reproduced", text
    if mean_signs:
        return "partly reproduced", text + "; the mean BD-rates have the published signs"
    return "not reproduced", text + "; the mean BD-rates do not all have the published signs"


def _measured(*values: float | None) -> bool:
    return all(_ok(v) for v in values)


def verdict_c42(ssim_p: tuple[float, float] | None, ms_ssim_p: tuple[float, float] | None,
                not_run: str | None = None) -> tuple[str, str]:
    """``(own-metric mean BD, PSNR mean BD)`` of SSIM_p and MS-SSIM_p on Kodak (``not_run``: why they are absent)."""
    if ssim_p is None or ms_ssim_p is None:
        return NOT_RUN, not_run or "SSIM_p and MS-SSIM_p were not trained at this profile"
    if not _measured(*ssim_p, *ms_ssim_p):
        return NOT_RUN, "SSIM_p or MS-SSIM_p has no BD-rate against BLS-MSE (no overlapping quality range)"
    pairs = {"ssim_p": ssim_p, "ms_ssim_p": ms_ssim_p}
    gains = all(own <= -10 and psnr > 0 for own, psnr in pairs.values())
    close = all(abs(own - PUBLISHED["C42"][k]) <= 5 for k, (own, _) in pairs.items())
    text = "; ".join(f"{k}: own metric {own:+.2f} %, PSNR {psnr:+.2f} %" for k, (own, psnr) in pairs.items())
    if gains and close:
        return "reproduced", text
    if gains:
        return "partly reproduced", text + " (gains of at least 10 %, not within 5 points of the paper)"
    return "not reproduced", text


def verdict_c43(mse: float | None, vmaf_p: float | None, not_run: str | None = None, *, codec: str = "BMSHJ",
                note: str = "") -> tuple[str, str]:
    """VMAF BD (vs BLS-MSE) of the hyperprior codec's VMAF_p at least 10 points below its MSE training.

    ``not_run`` says why no hyperprior codec was trained; ``codec`` names the one that was (BMSHJ, or a
    stand-in such as chapter 2's mean-scale hyperprior, explained in ``note``).
    """
    if not_run:
        return NOT_RUN, not_run
    if not (_ok(mse) and _ok(vmaf_p)):
        return NOT_RUN, f"{codec} has no VMAF BD-rate against BLS-MSE (no overlapping quality range)"
    text = f"{codec} MSE {mse:+.2f} %, {codec} VMAF_p {vmaf_p:+.2f} %{note}"
    if vmaf_p <= mse - 10:
        return "reproduced", text
    if vmaf_p < mse:
        return "partly reproduced", text + " (lower, by less than 10 points)"
    return "not reproduced", text


def verdict_c44(ssim: Mapping[str, float] | None, psnr: Mapping[str, float] | None,
                not_run: str | None = None) -> tuple[str, str]:
    """SSIM BD: direct < direct+pixel ≤ SSIM_p with a gap ≥ 5 points; PSNR BD of direct far above the others."""
    keys = ("direct", "direct+pixel", "ssim_p")
    if not ssim or not psnr:
        return NOT_RUN, not_run or "Table IV's three trainings were not run at this profile"
    if not all(_ok(ssim.get(k)) and _ok(psnr.get(k)) for k in keys):
        return NOT_RUN, "a Table IV setting has no BD-rate against BLS-MSE (no overlapping quality range)"
    order = ssim["direct"] < ssim["direct+pixel"] <= ssim["ssim_p"]
    gap = ssim["ssim_p"] - ssim["direct"]
    psnr_far = psnr["direct"] > max(psnr["direct+pixel"], psnr["ssim_p"]) + 20
    text = (f"SSIM BD direct {ssim['direct']:+.2f}, direct+pixel {ssim['direct+pixel']:+.2f}, SSIM_p {ssim['ssim_p']:+.2f} %; "
            f"PSNR BD {psnr['direct']:+.2f} / {psnr['direct+pixel']:+.2f} / {psnr['ssim_p']:+.2f} %")
    if order and gap >= 5 and psnr_far:
        return "reproduced", text
    if ssim["direct"] < ssim["ssim_p"]:
        return "partly reproduced", text + " (direct beats SSIM_p, not every part of the ordering holds)"
    return "not reproduced", text


def verdict_c45(encode_ms: Mapping[str, float]) -> tuple[str, str]:
    """``encode_ms`` keys ``mse``, ``vmaf_p``, ``hevc`` (and ``mse_probe``, BLS-MSE on x265's image):
    same-architecture times within ±10 %; HEVC by x265."""
    if not all(_ok(encode_ms.get(k)) for k in ("mse", "vmaf_p", "hevc")):
        return NOT_RUN, "encoding times were not measured"
    rel = encode_ms["vmaf_p"] / encode_ms["mse"] - 1
    ratio = encode_ms["hevc"] / encode_ms.get("mse_probe", encode_ms["mse"])
    text = (f"VMAF_p encodes in {encode_ms['vmaf_p']:.1f} ms vs MSE {encode_ms['mse']:.1f} ms ({rel:+.1%}); "
            f"x265 takes {ratio:.2f}× BLS (HM-16.9 is not available; x265 is far faster than HM)")
    if abs(rel) <= 0.10:
        return "partly reproduced", text
    return "not reproduced", text


def verdict_c46(frozen_gap: float | None, alternating_gap: float | None) -> tuple[str, str]:
    """Proxy − libvmaf on kodim01: ≥ 30 points for the frozen proxy, |gap| ≤ 5 for the alternating one."""
    if not (_ok(frozen_gap) and _ok(alternating_gap)):
        return NOT_RUN, "the frozen-proxy experiment was not run"
    text = f"proxy − libvmaf on kodim01: frozen {frozen_gap:+.1f}, alternating {alternating_gap:+.1f} points"
    if frozen_gap >= 30 and abs(alternating_gap) <= 5:
        return "reproduced", text
    if frozen_gap >= 30 or (frozen_gap > 10 and abs(alternating_gap) < frozen_gap / 2):
        return "partly reproduced", text
    return "not reproduced", text


def verdict_c47(savings: Mapping[str, float]) -> tuple[str, str]:
    """kodim19 savings (%) at equal VMAF vs ``mse``, ``jpeg2000`` and ``hevc444``/``hevc420`` (either counts)."""
    hevc = [savings.get(k) for k in ("hevc444", "hevc420") if _ok(savings.get(k))]
    if not (_ok(savings.get("mse")) and _ok(savings.get("jpeg2000")) and hevc):
        return NOT_RUN, "kodim19 savings could not be interpolated (no VMAF overlap)"
    pub = PUBLISHED["C47"]
    best_hevc = min(hevc, key=lambda v: abs(v - pub["hevc"]))
    text = (f"savings vs BLS-MSE {savings['mse']:.1f} %, JPEG 2000 {savings['jpeg2000']:.1f} %, HEVC "
            + " / ".join(f"{k[-3:]} {savings[k]:.1f} %" for k in ("hevc444", "hevc420") if _ok(savings.get(k))))
    values = (savings["mse"], savings["jpeg2000"], best_hevc)
    if all(v > 0 for v in values):
        if all(abs(v - p) <= 10 for v, p in zip(values, (pub["mse"], pub["jpeg2000"], pub["hevc"]))):
            return "reproduced", text
        return "partly reproduced", text + " (all positive, not all within 10 points)"
    return "not reproduced", text


def published_consistency(table1: pd.DataFrame, table2: pd.DataFrame) -> pd.DataFrame:
    """Table I's per-image columns against Table II's Kodak rows: mean and population SD, differences."""
    rows = []
    names = {"ssim_p": "BLS SSIM_p", "msssim_p": "BLS MS-SSIM_p", "vmaf_p": "BLS VMAF_p"}
    for (target, metric), part in table1.groupby(["target", "bd_metric"], sort=True):
        ref = table2[(table2["codec"] == names[target]) & (table2["dataset"] == "Kodak") & (table2["bd_metric"] == metric)]
        values = part["value_pct"].to_numpy(float)
        row = {"target": target, "bd_metric": metric, "n": len(values), "mean_table1": values.mean(),
               "sd_table1": float(np.std(values, ddof=0)), "min_table1": values.min(), "max_table1": values.max()}  # fmt: skip
        if len(ref):
            row.update(mean_table2=float(ref["mean_pct"].iloc[0]), sd_table2=float(ref["sd_pct"].iloc[0]))
            row.update(mean_diff=row["mean_table1"] - row["mean_table2"], sd_diff=row["sd_table1"] - row["sd_table2"])
        rows.append(row)
    return pd.DataFrame(rows)


def verdict_c48(table1: pd.DataFrame, table2: pd.DataFrame, ours_max: float | None = None) -> tuple[str, str, dict]:
    """'As much as 31 %' (abstract) vs 20 % (conclusion) vs Table II's 21.97–23.78 % means.

    The claim is an inconsistency of the paper; it is reproduced when Table II's VMAF_p means lie in
    21.97–23.78 and the 31 % matches a per-image maximum of Table I (within 3 points), not a mean.
    """
    vm = table2[(table2["codec"] == "BLS VMAF_p") & (table2["bd_metric"] == "vmaf")]
    means = -vm["mean_pct"].to_numpy(float)
    per_image = table1[(table1["target"] == "vmaf_p") & (table1["bd_metric"] == "vmaf")].sort_values("value_pct")
    best = per_image.iloc[0]
    found = {"table2_means": sorted(means.round(2).tolist()), "max_image": str(best["image"]),
             "max_saving": -float(best["value_pct"])}  # fmt: skip
    consistent_means = bool(np.all((means >= 21.97 - 1e-9) & (means <= 23.78 + 1e-9)))
    per_image_match = abs(found["max_saving"] - 31) <= 3
    ours = f"; our largest per-image VMAF saving {-ours_max:.1f} %" if _ok(ours_max) else ""
    text = (f"Table II's VMAF_p VMAF means are {', '.join(f'{m:.2f}' for m in found['table2_means'])} % (none is 31 or 20); "
            f"Table I's largest per-image saving is {found['max_saving']:.1f} % ({found['max_image']}), "
            f"so 'as much as 31 %' is a per-image maximum{ours}")
    if consistent_means and per_image_match and all(m > 20 for m in means):
        return "reproduced", text, found
    return "not reproduced", text, found

