"""The ProxIQA chapter's verdicts: the numbers each claim rule of :mod:`dlic_lib.studies.proxiqa_claims`
takes, read from the chapter's results (BD summaries, per-image BD-rates, times, the frozen-proxy example)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["chapter_verdicts", "MSH_NOTE"]

#: what the C43 verdict says when chapter 2's mean-scale hyperprior stands in for BMSHJ
MSH_NOTE = ("; chapter 2's mean-scale hyperprior (MM-E rungs, fine-tuned with VMAF_p) stands in for BMSHJ's "
            "scale hyperprior trained from scratch")


def chapter_verdicts(results: dict[str, Any], settings_table: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Every claim's verdict (C40–C48) from ``results`` of :func:`dlic_lib.studies.proxiqa.run`.

    ``settings_table`` (the chapter's settings per profile) says where an experiment absent from
    ``results`` runs.
    """
    from ..claims import published_table
    from . import proxiqa_claims as pc

    summary, per_image = results["summary"], results["per_image"]

    def mean(dataset: str, metric: str, codec: str = "BLS VMAF_p") -> float | None:
        row = summary[(summary["dataset"] == dataset) & (summary["metric"] == metric) & (summary["codec"] == codec)]
        return float(row["mean"].iloc[0]) if len(row) and np.isfinite(row["mean"].iloc[0]) else None

    kodak = per_image[(per_image["dataset"] == "Kodak") & (per_image["codec"] == "BLS VMAF_p")]
    wide = kodak.pivot(index="image", columns="metric", values="bd_rate").dropna() if len(kodak) else None
    rd, conv = results["rd"], results["conventional"]
    times = {"mse": rd.loc[rd["codec"] == "BLS-MSE", "encode_ms"].mean(),
             "vmaf_p": rd.loc[rd["codec"] == "BLS VMAF_p", "encode_ms"].mean(),
             "hevc": conv.loc[conv["codec"].str.startswith("x265"), "encode_ms"].mean() if len(conv) else float("nan")}  # fmt: skip
    if len(conv):  # x265 against BLS-MSE on the same image
        times["mse_probe"] = rd.loc[(rd["codec"] == "BLS-MSE") & (rd["image"] == conv["image"].iloc[0]), "encode_ms"].mean()
    frozen = results["frozen"]
    gaps = (None, None) if frozen is None else (float(frozen["gap"].iloc[0]), float(frozen["gap"].iloc[1]))
    ours_max = float(wide["vmaf"].min()) if wide is not None and len(wide) else None
    t1, t2 = published_table("seed004_table1_kodak_bdrate"), published_table("seed004_table2_mean_bdrate")
    cfg = results.get("settings") or {}

    def trained(key: str) -> bool:
        return bool(cfg.get(key))

    def missing(keys: tuple[str, ...], what: str) -> str | None:
        """Why ``what`` is absent: the profile leaves it out (and where it runs), or ``None`` when it ran."""
        if any(trained(k) for k in keys):
            return None
        where = [p for p, c in settings_table.items() if any(c.get(k) for k in keys)]
        return f"{what}: not run at the {cfg.get('profile', 'this')} profile (runs at {' and '.join(where)})"

    def pair(label: str, metric: str) -> tuple[float | None, float | None] | None:
        return (mean("Kodak", metric, label), mean("Kodak", "psnr", label)) if trained("extra_rungs") else None

    def table4() -> tuple[dict, dict]:
        labels = {"direct": "BLS SSIM direct", "direct+pixel": "BLS SSIM direct + MSE", "ssim_p": "BLS SSIM_p"}
        return tuple({k: mean("Kodak", metric, v) for k, v in labels.items()} for metric in ("ssim", "psnr"))

    hyper, note = ("BMSHJ", "") if trained("bmshj_steps") else ("MSH", MSH_NOTE)
    mse_label = "BMSHJ MSE" if hyper == "BMSHJ" else "MSH MSE (chapter 2)"
    rows = {
        "C40": pc.verdict_c40(mean("Kodak", "vmaf"), mean("High-res stand-in", "vmaf")),
        "C41": pc.verdict_c41(wide),
        "C42": pc.verdict_c42(*(pair(label, metric) for label, metric in (("BLS SSIM_p", "ssim"), ("BLS MS-SSIM_p", "msssim"))),
                              not_run=missing(("extra_rungs",), "SSIM_p and MS-SSIM_p")),  # fmt: skip
        "C43": pc.verdict_c43(mean("Kodak", "vmaf", mse_label), mean("Kodak", "vmaf", f"{hyper} VMAF_p"),
                              not_run=missing(("bmshj_steps", "msh_steps"), "a hyperprior codec (BMSHJ or a stand-in)"),
                              codec=hyper, note=note),  # fmt: skip
        "C44": pc.verdict_c44(*(table4() if trained("extra_rungs") else (None, None)),
                              not_run=missing(("extra_rungs",), "Table IV's trainings")),  # fmt: skip
        "C45": pc.verdict_c45(times),
        "C46": pc.verdict_c46(*gaps),
        "C47": pc.verdict_c47(results["savings"]),
        "C48": pc.verdict_c48(t1, t2, ours_max)[:2],
    }
    return pd.DataFrame([{"id": k, "verdict": v, "why": why} for k, (v, why) in rows.items()])
