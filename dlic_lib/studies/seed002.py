"""Chapter 7 (seed 002, Valenzise et al. 2018): settings, stimuli, metrics and the verdicts of C27–C33.

The paper's per-stimulus MOS are not published, so the chapter (i) checks the published tables
(:mod:`.seed002_published`), (ii) repeats Tables I–II on the one offline subjective dataset with a
learned codec, JPEG AIC-4 (:mod:`.metric_accuracy`), and (iii) regenerates the stimulus design —
six contents (:mod:`.seed002_contents`), JPEG 2000 and HEVC-intra 4:2:0 (BPG's core) at five rates
each chosen by MS-SSIM targets "spanning the impairment scale", and the book's learned stand-ins for
Ballé 2017 and Toderici 2017 at their own rates — then scores every stimulus with the nine metrics and
NIQE.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DlicError

__all__ = ["Seed002Settings", "settings_for", "AIC4_GROUPS", "learned_standins", "dsis_plan", "c31_design", "c32_verdict", "c33_verdict", "NINE_METRICS", "CONVENTIONAL", "LEARNED_STANDINS", "stimulus_for_msssim",
           "make_stimuli", "score_stimuli", "c32_comparison", "c33_naturalness", "verdicts_from_aic4"]

#: the nine MeTriX MuX metrics of Tables I–II, as this library names them (luma, 8-bit)
NINE_METRICS = {"PSNR": "psnr_y", "SSIM": "ssim", "MS-SSIM": "ms_ssim", "VSNR": "vsnr", "VIF": "vif_wavelet",
                "UQI": "uqi", "IFC": "ifc", "NQM": "nqm", "WSNR": "wsnr"}
#: conventional codecs of the paper → (codec name, options): BPG is HEVC intra 4:2:0 with a QP
CONVENTIONAL = {"JPEG2000": ("jpeg2000", {}), "BPG (HEVC 4:2:0)": ("hevc", {"chroma": "420", "mode": "qp"})}
#: learned stand-ins → codec: for Ballé 2017 the book's factorized-prior network (the 4-layer GDN model of
#: Ballé et al. 2018 that chapter 2 trains; its rate parameter is the zoo quality), for Toderici 2017 the
#: recursive ConvLSTM codec (rate parameter: iterations)
LEARNED_STANDINS = {"Ballé (factorized prior)": "bmshj2018-factorized", "Toderici 2017 (rnn)": "rnn"}


@dataclass(frozen=True)
class Seed002Settings:
    """What one profile runs: crop, candidates, slots, how the conventional rates are chosen, bootstrap size.

    ``msssim_targets`` — the rate of each conventional stimulus is searched to hit these MS-SSIM values
    ("spanning the impairment scale"); ``fixed_parameters`` replaces the search (smoke) with given
    codec parameters. ``learned_rates`` — the stand-ins' own rate parameters (factorized-prior quality, rnn iterations).
    """

    profile: str
    crop: tuple[int, int]
    candidates: str  # "all" (Commons val/test + T-Labs frames + synthetic) or "commons" (no video decoding)
    slots: dict[str, int]
    msssim_targets: tuple[float, ...]
    n_boot: int
    fixed_parameters: dict[str, tuple[float, ...]] | None = None
    learned_rates: dict[str, tuple[int, ...]] = field(default_factory=dict)
    max_encodes: int = 8
    aic4_metrics: tuple[str, ...] | None = None  # None: every metric of the release (AIC4_METRICS)
    aic4_codecs: tuple[str, ...] | None = None  # None: all six codecs in the per-codec table


#: Table II's groups on JPEG AIC-4: JPEG 2000 + VVC stand for JPEG 2000 + BPG, JPEG AI for the learned codecs
AIC4_GROUPS = {"conventional": ("JPEG-2000", "VVC"), "DL": ("JPEG-AI",), "all": ("JPEG-2000", "VVC", "JPEG-AI")}


CHAPTER = "07_metrics_for_learned_codecs"


def settings_for(profile: str, **overrides) -> Seed002Settings:
    """The chapter's settings at ``profile`` (from :data:`dlic_lib.profiles.CHAPTERS`) with non-``None`` overrides."""
    from ..profiles import chapter_settings

    return Seed002Settings(profile=profile, **chapter_settings(CHAPTER, profile, **overrides))


def _msssim(reference: np.ndarray, decoded: np.ndarray) -> float:
    from ..metrics import compute

    return float(compute(reference, decoded, ["ms_ssim"], progress=False)["ms_ssim"].iloc[0])


def stimulus_for_msssim(codec, image: np.ndarray, target: float, max_encodes: int = 12):
    """The coded image whose MS-SSIM is closest to ``target`` (bisection on the codec's rate parameter).

    Integer parameters are searched exactly; continuous ones in log space. Returns ``(coded, msssim)``.
    """
    spec = codec.quality_spec
    up = spec.increasing  # a larger parameter gives higher quality
    lo, hi = (spec.low, spec.high)
    cache: dict[float, tuple] = {}

    def quality_at(p: float):
        if p not in cache:
            coded = codec.encode(image, p)
            cache[p] = (coded, _msssim(image, coded.decoded))
        return cache[p]

    if spec.integer:
        a, b = int(math.ceil(lo)), int(math.floor(hi))
        while b - a > 1 and len(cache) < max_encodes:
            mid = (a + b) // 2
            better = quality_at(mid)[1] >= target
            if better == up:
                b = mid
            else:
                a = mid
        candidates = [quality_at(p) for p in (a, b)]
    else:
        la, lb = math.log(lo), math.log(hi)
        for _ in range(max_encodes):
            mid = math.exp((la + lb) / 2)
            better = quality_at(mid)[1] >= target
            if better == up:
                lb = math.log(mid)
            else:
                la = math.log(mid)
        candidates = list(cache.values())
    return min(candidates, key=lambda cm: abs(cm[1] - target))


def make_stimuli(contents: dict[str, np.ndarray], settings: Seed002Settings,
                 learned: dict[str, object] | None = None, on_step: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, dict]:
    """Code every content with the conventional codecs at the MS-SSIM targets and the learned stand-ins.

    ``learned`` maps a stand-in label to a ready codec. Returns the tidy stimulus table (``stimulus,
    content, codec, group, parameter, target_msssim, bpp, n_bytes``) and ``{stimulus: decoded image}``.
    """
    from .. import progress
    from ..codecs import get_codec

    fixed_parameters = settings.fixed_parameters or {}
    per_content = (sum(len(fixed_parameters.get(label, settings.msssim_targets)) for label in CONVENTIONAL)
                   + sum(len(settings.learned_rates.get(label, ())) for label in (learned or {})))
    bar = progress.task("coding the stimuli", total=per_content * len(contents), unit="stimulus")
    if on_step is None:  # the book run's terminal shows each stimulus

        def on_step(text: str) -> None:
            bar.set_detail(text)
            bar.update(1)
    rows, images = [], {}
    for content, image in contents.items():
        for label, (name, options) in CONVENTIONAL.items():
            codec = get_codec(name, **options)
            fixed = (settings.fixed_parameters or {}).get(label)
            for target in fixed if fixed is not None else settings.msssim_targets:
                if on_step:
                    on_step(f"{content}: {label} at {'parameter' if fixed is not None else 'MS-SSIM'} {target}")
                if fixed is not None:
                    coded = codec.encode(image, target)
                    target = np.nan
                else:
                    coded, _ = stimulus_for_msssim(codec, image, target, settings.max_encodes)
                sid = f"{content}|{label}|{coded.quality}"
                if sid in images:  # two targets landed on the same parameter: keep one stimulus
                    continue
                images[sid] = coded.decoded
                rows.append({"stimulus": sid, "content": content, "codec": label, "group": "conventional",
                             "parameter": coded.quality, "target_msssim": target, "bpp": coded.bpp, "n_bytes": coded.n_bytes})
        for label, codec in (learned or {}).items():
            for q in settings.learned_rates.get(label, ()):
                if on_step:
                    on_step(f"{content}: {label} at {q}")
                coded = codec.encode(image, q)
                sid = f"{content}|{label}|{q}"
                images[sid] = coded.decoded
                rows.append({"stimulus": sid, "content": content, "codec": label, "group": "DL", "parameter": q,
                             "target_msssim": np.nan, "bpp": coded.bpp, "n_bytes": coded.n_bytes})
    bar.close()
    return pd.DataFrame(rows), images


def score_stimuli(stimuli: pd.DataFrame, images: dict, contents: dict[str, np.ndarray],
                  on_step: Callable[[str], None] | None = None) -> pd.DataFrame:
    """The nine metrics (paper names as columns) and NIQE of every stimulus, plus pristine NIQE per content."""
    from .. import progress
    from ..metrics import compute

    metrics = [*NINE_METRICS.values(), "niqe"]
    out = []
    with progress.task("metrics of the stimuli", total=len(stimuli), unit="stimulus") as bar:
        for row in stimuli.itertuples(index=False):
            if on_step:
                on_step(f"metrics of {row.stimulus}")
            bar.set_detail(str(row.stimulus))
            values = compute(contents[row.content], images[row.stimulus], metrics, progress=False).iloc[0]
            out.append({**row._asdict(), **{paper: float(values[ours]) for paper, ours in NINE_METRICS.items()},
                        "NIQE": float(values["niqe"])})
            bar.update(1)
    table = pd.DataFrame(out)
    pristine = {c: float(compute(img, img, ["niqe"], progress=False)["niqe"].iloc[0]) for c, img in contents.items()}
    table["NIQE_pristine"] = table["content"].map(pristine)
    return table


def c32_comparison(scores: pd.DataFrame, j2k_at_01: pd.DataFrame, toderici: str = "Toderici 2017 (rnn)") -> pd.DataFrame:
    """Per content: the Toderici stand-in at one iteration (0.125 bpp) against JPEG 2000 at 0.1 bpp.

    ``j2k_at_01`` holds the JPEG 2000 stimuli coded at 0.1 bpp, scored like ``scores``. Columns:
    ``content, bpp_rnn, bpp_j2k`` and, per metric, both values and whether the metric prefers the
    recursive codec (NIQE: lower is better).
    """
    rnn = scores[(scores["codec"] == toderici) & (scores["parameter"] == 1)].set_index("content")
    j2k = j2k_at_01.set_index("content")
    rows = []
    for content in rnn.index.intersection(j2k.index):
        r, j = rnn.loc[content], j2k.loc[content]
        row = {"content": content, "bpp_rnn": r["bpp"], "bpp_j2k": j["bpp"]}
        for metric in ("PSNR", "MS-SSIM", "VIF", "NIQE"):
            row[f"{metric}_rnn"], row[f"{metric}_j2k"] = r[metric], j[metric]
            row[f"{metric}_prefers_rnn"] = bool(r[metric] < j[metric]) if metric == "NIQE" else bool(r[metric] > j[metric])
        rows.append(row)
    return pd.DataFrame(rows)


def c33_naturalness(scores: pd.DataFrame, max_bpp: float = 1.2, exclude: Sequence[str] = ("screen",)) -> pd.DataFrame:
    """Per DL stand-in: the share of its stimuli below ``max_bpp`` whose NIQE lies under the JPEG 2000 curve
    of the same content (NIQE interpolated linearly in log bpp, clamped at the curve's ends).

    Columns: ``codec, n, under_j2k, share``.
    """
    rows = []
    j2k = scores[scores["codec"] == "JPEG2000"]
    for codec, part in scores[scores["group"] == "DL"].groupby("codec"):
        flags = []
        for r in part[(part["bpp"] < max_bpp) & ~part["content"].isin(exclude)].itertuples(index=False):
            curve = j2k[j2k["content"] == r.content].sort_values("bpp")
            if len(curve) < 2:
                continue
            niqe_j2k = float(np.interp(np.log(r.bpp), np.log(curve["bpp"].to_numpy()), curve["NIQE"].to_numpy()))
            flags.append(r.NIQE < niqe_j2k)
        rows.append({"codec": codec, "n": len(flags), "under_j2k": int(np.sum(flags)),
                     "share": float(np.mean(flags)) if flags else float("nan")})
    return pd.DataFrame(rows, columns=["codec", "n", "under_j2k", "share"])


def verdicts_from_aic4(perf_groups: pd.DataFrame, perf_codecs: pd.DataFrame, tests: pd.DataFrame) -> dict[str, dict]:
    """C27–C30 on JPEG AIC-4: ``{claim: {"ours": str, "verdict": str}}``.

    ``perf_groups``: :func:`~.metric_accuracy.accuracy_table` with subsets ``conventional``, ``DL``,
    ``all``; ``perf_codecs``: one subset per codec (the DL one named ``JPEG-AI``); ``tests``:
    :func:`~.metric_accuracy.drop_tests` conventional → DL. Metric names: ``PSNR-Y``, ``SSIM``, ``MS-SSIM``, …
    """
    plcc = tests[tests["coefficient"] == "plcc"].set_index("metric")
    drops = plcc["drop"].sort_values(ascending=False)
    psnr = plcc.loc["PSNR-Y"]
    if psnr["drop"] > 0 and drops.index[0] == "PSNR-Y":
        c27 = "reproduced" if psnr["significant (p<0.05)"] else "partly reproduced"
    else:
        c27 = "partly reproduced" if psnr["drop"] > 0 else "not reproduced"
    ours27 = f"PSNR-Y PLCC {psnr['reference']:.3f} → {psnr['test']:.3f} (drop {psnr['drop']:+.3f}, p={psnr['p']:.3f}); " \
             f"largest drop: {drops.index[0]} {drops.iloc[0]:+.3f}"
    wide = perf_groups.pivot(index="metric", columns="subset", values="plcc")
    shared = [m for m in ("PSNR-Y", "SSIM", "MS-SSIM") if m in wide.index]
    best_conv = wide.loc[shared, "conventional"].idxmax()
    best_all = wide["all"].idxmax()
    c28 = "partly reproduced" if best_conv == "MS-SSIM" else "not reproduced"
    ours28 = f"best of PSNR-Y/SSIM/MS-SSIM on conventional: {best_conv}; best of all {len(wide)} on all: {best_all} (no VIF in AIC-4)"
    per_codec = perf_codecs.pivot(index="metric", columns="subset", values="plcc").loc[shared]
    best_per_codec = per_codec.idxmax()
    conv_codecs = [c for c in per_codec.columns if c != "JPEG-AI"]
    msssim_best = int((best_per_codec[conv_codecs] == "MS-SSIM").sum())
    psnr_worst_dl = per_codec["JPEG-AI"].idxmin() == "PSNR-Y"
    c29 = "reproduced" if psnr_worst_dl and msssim_best == len(conv_codecs) else (
        "partly reproduced" if psnr_worst_dl or msssim_best else "not reproduced")
    ours29 = f"least accurate on JPEG AI: {per_codec['JPEG-AI'].idxmin()}; MS-SSIM best for {msssim_best}/{len(conv_codecs)} conventional codecs"
    ors = perf_codecs[perf_codecs["metric"] == "MS-SSIM"].set_index("subset")["outlier_ratio"]
    c30 = "reproduced" if bool((ors == 0).all()) else ("partly reproduced" if ors.min() == 0 else "not reproduced")
    ours30 = "MS-SSIM outlier ratio per codec: " + ", ".join(f"{k} {v:.2f}" for k, v in ors.items())
    return {"C27": {"ours": ours27, "verdict": c27}, "C28": {"ours": ours28, "verdict": c28},
            "C29": {"ours": ours29, "verdict": c29}, "C30": {"ours": ours30, "verdict": c30}}


def _standin_codec(label: str, profile: str):
    """The codec of a stand-in: the recursive codec counts raw bits (0.125·k bpp, as the paper counted Toderici's)."""
    from ..codecs import get_codec

    name = LEARNED_STANDINS[label]
    if name == "rnn":
        return get_codec(name, mode="raw", profile=profile)
    # below full, the book's own checkpoints (chapter 2's ladder), never CompressAI's pretrained ones
    return get_codec(name, metric="mse", weights="auto" if profile == "full" else "book")


def _train_standin(label: str, profile: str) -> None:
    """Train a missing stand-in the way its own chapter does (the recursive codec: its task's preset)."""
    if LEARNED_STANDINS[label] == "rnn":
        from ..train.tasks.recurrent import train_recurrent

        train_recurrent(profile, progress=True)


def learned_standins(settings: Seed002Settings, train_missing: bool = True) -> tuple[dict[str, object], dict[str, str]]:
    """The learned stand-ins that can code at every rate of ``settings`` (label → codec), and why the others cannot.

    A stand-in is ready when its codec exists and its weights for each rate are in the checkpoint zoo
    (chapter 2 trains the factorized-prior ladder; with ``train_missing`` the recursive codec is trained
    here when no chapter did); probing codes one 64×64 grey block per rate.
    """
    probe = np.full((64, 64, 3), 128, np.uint8)
    ready, missing = {}, {}
    for label in LEARNED_STANDINS:
        rates = settings.learned_rates.get(label, ())
        if not rates:
            continue
        for attempt in range(2):
            try:
                codec = _standin_codec(label, settings.profile)
                ok, reason = codec.available()
                if ok:
                    for q in rates:
                        codec.encode(probe, q, use_cache=False)
            except DlicError as exc:
                ok, reason = False, str(exc)
            if ok or not train_missing or attempt:
                break
            try:
                _train_standin(label, settings.profile)
            except DlicError as exc:
                reason = str(exc)
                break
        if ok:
            ready[label] = codec
        else:
            missing[label] = reason
    return ready, missing


def dsis_plan(stimuli: pd.DataFrame, seconds_per_trial: float = 11.7, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """The paper's DSIS test for ``stimuli``: one training pair, random order, never the same content twice
    in a row, about 11.7 s per trial (22 min for 113 stimuli). Returns the plan and the checked constraints.
    """
    from ..subjective import plan_sessions

    table = stimuli.rename(columns={"content": "source", "parameter": "rate"})[["stimulus", "source", "codec", "rate"]]
    first = table.iloc[0]
    training = pd.DataFrame([{"stimulus": f"training|{first['source']}", "source": first["source"], "codec": "JPEG2000",
                              "rate": np.nan}])
    plan = plan_sessions(table, training=training, seconds_per_trial=seconds_per_trial, max_session_minutes=30, seed=seed)
    test = plan[plan["phase"] == "test"]
    same_in_a_row = sum(int((part["source"].to_numpy()[1:] == part["source"].to_numpy()[:-1]).sum())
                        for _, part in test.groupby("session"))
    checks = {"test trials": len(test), "each stimulus once": bool(test["stimulus"].is_unique and len(test) == len(table)),
              "same content twice in a row": same_in_a_row, "training trials": int((plan["phase"] == "training").sum()),
              "minutes": float((plan["start_s"] + plan["duration_s"]).max() / 60)}
    return plan, checks


def c31_design(stimuli: pd.DataFrame, settings: Seed002Settings, checks: dict) -> dict:
    """C31 (the setup): what the regenerated design has; the observers' half cannot be tested offline."""
    per_codec = stimuli.groupby("codec").size()
    ours = (f"{stimuli['content'].nunique()} contents of {settings.crop[0]}×{settings.crop[1]}, {len(stimuli)} stimuli from "
            f"{len(per_codec)} codecs (" + ", ".join(f"{k} {v}" for k, v in per_codec.items()) + f"); DSIS plan "
            f"{checks['minutes']:.0f} min, same content twice in a row: {checks['same content twice in a row']}")
    return {"ours": ours, "verdict": "partly reproduced"}


def c32_verdict(table: pd.DataFrame) -> dict:
    """C32's objective half: per content, PSNR prefers JPEG 2000 while MS-SSIM, VIF or NIQE prefer the recursive codec."""
    if table.empty:
        return {"ours": "no recursive stand-in at 0.125 bpp", "verdict": "not testable here"}
    pattern = (~table["PSNR_prefers_rnn"]) & (table["MS-SSIM_prefers_rnn"] | table["VIF_prefers_rnn"] | table["NIQE_prefers_rnn"])
    share = float(pattern.mean())
    ours = (f"{int(pattern.sum())}/{len(table)} contents: PSNR lower for the recursive codec at 0.125 bpp than JPEG 2000 at "
            f"0.1 bpp while a perceptual metric prefers it (mean PSNR {table['PSNR_rnn'].mean():.2f} vs {table['PSNR_j2k'].mean():.2f} dB)")
    return {"ours": ours, "verdict": "partly reproduced" if share >= 0.5 else "not reproduced"}


def c33_verdict(shares: pd.DataFrame) -> dict:
    """C33: reproduced when at least 2/3 of both stand-ins' stimuli below 1.2 bpp lie under JPEG 2000's NIQE curve."""
    shares = shares[shares["n"] > 0]
    if shares.empty:
        return {"ours": "no learned stand-in below 1.2 bpp", "verdict": "not testable here"}
    ours = "; ".join(f"{r.codec}: {r.under_j2k}/{r.n} stimuli more natural than JPEG 2000" for r in shares.itertuples())
    passing = int((shares["share"] >= 2 / 3).sum())
    verdict = "reproduced" if passing == len(LEARNED_STANDINS) else ("partly reproduced" if passing else "not reproduced")
    return {"ours": ours, "verdict": verdict}
