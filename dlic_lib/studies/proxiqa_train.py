"""Every network of the ProxIQA chapter, trained (or found again) by the engine, with release paths by setting.

The settings of one profile (:data:`dlic_lib.studies.proxiqa.SETTINGS`) say what runs:

1. the BLS MSE ladder at learning rate ``mse_lr``, warm-started (each rung starts from the release of the
   rung below);
2. VMAF_p per rung, fine-tuned from the MSE release (proxy-only warm-up, then alternating steps
   with libvmaf labels);
3. the proxy pre-trained on JPEG/blur/noise patches, frozen, then the only distortion loss of one rung;
4. on the rungs ``extra_rungs``, fine-tuned from their MSE releases for ``extra_steps`` (batch
   ``extra_batch``): SSIM_p and
   MS-SSIM_p (alternating, labels from the library's SSIM and MS-SSIM ×100; MS-SSIM needs
   ``msssim_patch`` ≥ 161), and direct SSIM training without (eq. 14, α = 1) and with the pixel
   loss (eq. 13, α = 0.5) — Table IV;
5. where ``bmshj_steps`` is set, BMSHJ (scale hyperprior, N = M) on the same rungs: an MSE ladder
   from scratch, then VMAF_p fine-tuned from it (§IV-C); where ``msh_steps`` (warm-up, alternating
   steps) is set instead, chapter 2's mean-scale hyperprior MSE rungs (MM-E, from the zoo; trained
   with chapter 2's recipe when missing) stand in for BMSHJ's MSE ladder and VMAF_p is fine-tuned
   from each of them — the hyperprior comparison of §IV-C at the cost of two fine-tunings.

Every perceptual setting uses λ = 2·λ_MSE and α = 0.5 (the authors' script), except direct SSIM
alone (α = 1).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

__all__ = ["train_all", "EXTRA_SETTINGS", "release_paths", "chapter2_rungs"]

#: the Table IV / C42 settings trained on ``extra_rungs``: key → task settings
EXTRA_SETTINGS: dict[str, dict[str, Any]] = {
    "ssim_p": dict(proxy="alternating", target="ssim"),
    "ms_ssim_p": dict(proxy="alternating", target="ms_ssim"),
    "ssim_direct": dict(proxy="direct", target="ssim", alpha=1.0, proxy_warmup=0),
    "ssim_direct_pixel": dict(proxy="direct", target="ssim", alpha=0.5, proxy_warmup=0),
}


def train_all(cfg: dict[str, Any], *, progress: bool = False, runs_dir: Path | None = None) -> dict[str, Any]:
    """Train (or find, when already done) every network of ``cfg``; release paths by setting and λ_MSE."""
    from ..train.task import Trainer
    from ..train.tasks.proxiqa import ProxiqaSettings, ProxiqaTask

    def fit(settings: ProxiqaSettings) -> Path:
        # float32: on a 2-core CPU with native bfloat16, BLS steps under bfloat16 autocast took 2.5× as
        # long as in float32 (N = 64, 96² crops, batch 8; both channels-last)
        trainer = Trainer(ProxiqaTask(settings), progress=progress, runs_dir=runs_dir, amp=False)
        return trainer.fit().run_dir / "release.pt"

    def ladder(start: ProxiqaSettings, lambdas: tuple, steps: tuple[int, int]) -> dict[float, Path]:
        rungs: dict[float, Path] = {}
        previous = None
        for i, lam in enumerate(lambdas):
            rungs[lam] = previous = fit(replace(start, proxy="none", lmbda=lam, steps=steps[0 if i == 0 else 1],
                                                lr=cfg["mse_lr"], init_codec=str(previous) if previous else None))  # fmt: skip
        return rungs

    base = ProxiqaSettings(N=cfg["N"], batch=cfg["batch"], patch=cfg["crop"], val_patches=1 if cfg["N"] < 32 else 4,
                           profile=cfg.get("profile"))  # fmt: skip
    out: dict[str, Any] = {"mse": ladder(base, cfg["lambdas"], cfg["mse_steps"])}
    alt = replace(base, proxy="alternating", patch=cfg["patch"], alpha=0.5, steps=cfg["vmafp_steps"],
                  proxy_warmup=cfg["vmafp_warmup"])  # fmt: skip
    out["vmaf_p"] = {lam: fit(replace(alt, lmbda=2 * lam, init_codec=str(path))) for lam, path in out["mse"].items()}
    out["proxy"] = fit(replace(alt, proxy="pretrain", steps=cfg["pretrain_steps"], proxy_warmup=0))
    lam = cfg["lambdas"][cfg["frozen_rung"]]
    out["frozen"] = (lam, fit(replace(alt, proxy="frozen", alpha=1.0, lmbda=2 * lam, steps=cfg["frozen_steps"],
                                      proxy_warmup=0, init_codec=str(out["mse"][lam]), init_proxy=str(out["proxy"]))))  # fmt: skip
    extra = tuple(cfg["lambdas"][i] for i in cfg["extra_rungs"])
    fine = replace(alt, steps=cfg["extra_steps"], proxy_warmup=cfg["extra_warmup"], batch=cfg["extra_batch"])
    for key, kw in EXTRA_SETTINGS.items():
        patch = {"patch": cfg["msssim_patch"]} if kw["target"] == "ms_ssim" else {}
        out[key] = {lam: fit(replace(fine, lmbda=2 * lam, init_codec=str(out["mse"][lam]), **kw, **patch)) for lam in extra}
    if cfg["bmshj_steps"] and extra:
        mse_first, mse_next, vmafp = cfg["bmshj_steps"]
        bmshj = replace(base, architecture="bmshj2018-hyperprior", patch=cfg["patch"])  # sides: multiples of 64
        out["bmshj_mse"] = ladder(bmshj, extra, (mse_first, mse_next))
        out["bmshj_vmaf_p"] = {lam: fit(replace(alt, architecture="bmshj2018-hyperprior", lmbda=2 * lam, steps=vmafp,
                                                init_codec=str(path))) for lam, path in out["bmshj_mse"].items()}  # fmt: skip
    if cfg.get("msh_steps") and not cfg["bmshj_steps"]:
        warmup, steps = cfg["msh_steps"]
        out["msh_mse"] = {}
        out["msh_vmaf_p"] = {}
        for lam, entry in chapter2_rungs(cfg.get("profile") or "quick").items():
            out["msh_mse"][lam] = entry.path
            out["msh_vmaf_p"][lam] = fit(replace(alt, architecture="mbt2018-mean", N=entry.N, M=entry.M, lmbda=2 * lam,
                                                 steps=steps, proxy_warmup=warmup, init_codec=str(entry.path)))  # fmt: skip
    return out


def chapter2_rungs(profile: str) -> dict[float, Any]:
    """Chapter 2's mean-scale hyperprior MSE rungs (MM-E) at ``profile``: λ → zoo entry, trained when missing."""
    from ..train.ladder import lambda_for_quality
    from ..zoo import resolve
    from . import objective

    P = objective.chapter_profile(profile, learned_codecs="MM-E")
    objective.train_learned(objective.learned_settings(P), P, jobs=1)  # found again when chapter 2 trained them
    return {lambda_for_quality(q, "mse"): resolve("mbt2018-mean", task="rd", objective="mse", rate_key={"quality": q},
                                                  profile=P.train_preset) for q in P.extra["qualities"]}  # fmt: skip


def release_paths(releases: dict[str, Any]) -> list[Path]:
    """Every release file of :func:`train_all`'s result, in a fixed order."""
    paths: list[Path] = []
    for key, value in releases.items():
        if isinstance(value, dict):
            paths += [Path(p) for _, p in sorted(value.items())]
        elif isinstance(value, tuple):
            paths.append(Path(value[1]))
        else:
            paths.append(Path(value))
    return paths
