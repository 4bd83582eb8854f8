# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Human opinion: screening, MOS, and how well metrics predict it
#
# Seed 000 (a DSIS test of learned vs conventional codecs) and seed 002 (Valenzise et al.) both
# screen observers per ITU-R BT.500, compute MOS with 95 % confidence intervals, map each metric to
# MOS with a logistic function and report PLCC/SROCC per codec subset. Neither publishes its
# per-stimulus scores, so this chapter runs the same analysis chain on three public datasets with
# real opinion scores:
#
# 1. **T-Labs image quality test** — raw ACR scores of 21 observers for 371 x265-coded images:
#    screening, MOS/CI (checked against the authors' own file), and the thesis' 5-parameter logistic
#    with its stated initial values, beside the authors' correlations.
# 2. **Netflix public raw scores** with 4 synthetic random voters — a known-answer case for
#    observer screening and for the ITU-T P.913 subject model.
# 3. **JPEG AIC-4** — JND-scale scores of 6 codecs including the learned JPEG AI: does each metric
#    predict quality worse for the learned codec than for conventional ones (the thesis' central
#    claim C03), and is the difference significant?

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full
n_bootstrap = None  # bootstrap resamples for correlation CIs (None: from the profile)
logistic = "5p"  # 5p (seed 000) or 4p (VQEG)

# %%
import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dlic_lib import claims, plots, stats
from dlic_lib.config import results_dir
from dlic_lib.data import resolve_optional
from dlic_lib.profiles import get_profile
from dlic_lib.provenance import provenance_table
from dlic_lib.studies.metric_accuracy import AIC4_METRICS, accuracy_table, aic4_table, drop_tests
from IPython.display import HTML, display
from dlic_lib.subjective import bt500_screening, mos_table, scores_from_wide, subject_model_mle

P = get_profile(profile, chapter="01_subjective_analysis", n_bootstrap=n_bootstrap)
N_BOOT = P.extra["n_bootstrap"]
tlabs = resolve_optional("tlabs-image-quality")
nflx = resolve_optional("nflx-public")
aic = resolve_optional("jpeg-aic4")
OUT = results_dir() / "01_subjective_analysis"
OUT.mkdir(parents=True, exist_ok=True)
warnings.simplefilter("ignore", stats.LogisticFitWarning)  # non-converged fits are flagged in the tables


def unavailable(name: str) -> None:
    """Say, in the page, that a section could not run because its dataset is not reachable."""
    display(HTML(f"<p><b>⚠ Dataset {name!r} is not available</b> (no cache, mirror or download); "
                 "this section was skipped. Run <code>dlic data fetch " + name + "</code> with internet access.</p>"))


provenance_table(P, [d for d in (tlabs, nflx, aic) if d is not None])

# %% [markdown]
# ## Collecting raw votes
# Every section below starts from raw votes, one per observer and stimulus. A lab collects its own
# with `dlic dsis serve plan.csv --stimuli DIR --db votes.sqlite`: each observer rates the plan's
# trials full screen through a private link (BT.500 DSIS variant I on mid-grey, or side by side),
# and `dlic dsis export votes.sqlite -o raw.csv` hands the votes to this chapter's analysis.
#
# ![The rating screen of dlic dsis serve: the BT.500 five-grade impairment scale on mid-grey](../_static/dsis_rating_screen.png)

# %% [markdown]
# ## 1. T-Labs: from raw votes to MOS
# `per_user.csv` holds one column per observer. BT.500 screening (Annex 2 §2.3.1: β2 kurtosis test,
# P/Q counts, the 0.05 / 0.3 rules) runs first; then MOS and Student-t 95 % intervals per stimulus.

# %%
if tlabs is None:
    unavailable('tlabs-image-quality')
else:
    files = {p.name: p for p in tlabs.files()}
    wide = pd.read_csv(files["per_user.csv"])
    users = [c for c in wide.columns if c.startswith("user")]
    raw = scores_from_wide(wide, "image_name", users)
    screen = bt500_screening(raw)
    display(screen.subjects[["subject", "n_votes", "p", "q", "ratio_pq", "asymmetry", "rejected", "reason"]].head(21))

# %%
if tlabs is not None:
    mos = mos_table(raw, method="t", exclude_subjects=screen.rejected)
    authors = pd.read_csv(files["mos_ci.csv"]).rename(columns={"image_name": "stimulus"})
    check = mos.merge(authors, on="stimulus", suffixes=("", "_authors"))
    # the authors' `ci` column is the FULL width of the interval; ours is `ci_width`
    check["d_mos"] = (check["mos"] - check["mos_authors"]).abs()
    check["d_ci"] = (check["ci_width"] - check["ci_authors"]).abs()
    summary = pd.DataFrame({
        "stimuli": [len(check)],
        "rejected observers": [", ".join(map(str, screen.rejected)) or "none"],
        "MOS equal (|Δ| < 1e-9)": [int((check["d_mos"] < 1e-9).sum())],
        "CI width equal (|Δ| < 1e-9)": [int((check["d_ci"] < 1e-9).sum())],
        "authors' CI empty": [int(check["ci_authors"].isna().sum())],
        "max |Δ MOS|": [check["d_mos"].max()],
    })
    mos.to_csv(OUT / "tlabs_mos.csv", index=False)
    display(summary)

# %% [markdown]
# Where MOS differs, the authors' file was computed from 22 votes for that stimulus while the raw
# matrix keeps 21; where their CI is empty, every observer gave the same grade (our CI is 0).

# %% [markdown]
# ## 2. T-Labs: metric vs MOS with the thesis' logistic
# The authors' objective metrics (VMAF, ADM2, PSNR, SSIM, MS-SSIM, VIF scales) against our MOS.
# PLCC after the 5-parameter logistic `β1(0.5 − 1/(1+exp(β2(x−β3)))) + β4·x + β5`
# (β1=10, β2=0, β3=mean(x), β4=1, β5=0.1, as seed 000), SROCC/KROCC on the raw metric, and the
# authors' raw Pearson correlation beside it.

# %%
if tlabs is not None:
    metrics = pd.read_csv(files["objective_metrics.csv"]).rename(columns={"image": "stimulus"})
    metric_names = [c for c in metrics.columns if c != "stimulus"]
    joined = mos.merge(metrics, on="stimulus")
    perf = stats.performance_table(joined, metric_names, by=None, logistic=logistic)
    raw_corr = stats.performance_table(joined, metric_names, by=None, logistic=None)[["metric", "plcc"]].rename(columns={"plcc": "pearson_raw"})
    published = pd.read_csv(files["correlations.csv"]).rename(columns={"pearson": "pearson_authors", "spearman": "spearman_authors"})
    table = perf.merge(raw_corr, on="metric").merge(published[["metric", "pearson_authors", "spearman_authors"]], on="metric", how="left")
    table.to_csv(OUT / "tlabs_metric_performance.csv", index=False)
    fits = {name: stats.fit_logistic(joined[name].to_numpy(float), joined["mos"].to_numpy(float), "5p")
            for name in metric_names}
    from_thesis = sum(f.message == "converged from start 0" for f in fits.values())
    claims.record_claim(
        "C14", ours=f"5p logistic from β=(10, 0, mean, 1, 0.1) converged for {from_thesis}/{len(fits)} T-Labs metrics",
        setup="T-Labs image quality test, MOS from the raw votes", chapter="01_subjective_analysis", profile=P.name,
        verdict="reproduced" if from_thesis == len(fits) else "partly reproduced",
        why="same function and starting values (dlic_lib.stats.fit_logistic tries them first); other starts are "
            "used only where these do not converge")
    display(table[["metric", "n", "plcc", "srocc", "krocc", "rmse", "outlier_ratio", "converged", "pearson_raw", "pearson_authors", "spearman_authors"]].round(4))

# %%
if tlabs is not None:
    fig = go.Figure()
    buttons = []
    for i, name in enumerate(metric_names):
        x, y = joined[name].to_numpy(float), joined["mos"].to_numpy(float)
        fit = stats.fit_logistic(x, y, logistic)
        grid = np.linspace(x.min(), x.max(), 200)
        visible = i == 0
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name=f"{name}: stimuli", visible=visible,
                                 error_y=dict(type="data", array=joined["ci"], thickness=0.6, width=0),
                                 text=joined["stimulus"], hovertemplate="%{text}<br>metric %{x:.3f}<br>MOS %{y:.2f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=grid, y=fit.predict(grid), mode="lines", name=f"{name}: {logistic} logistic", visible=visible))
        mask = [False] * (2 * len(metric_names))
        mask[2 * i] = mask[2 * i + 1] = True
        plcc_i = float(table.loc[table.metric == name, "plcc"].iloc[0])
        buttons.append(dict(label=name, method="update", args=[{"visible": mask}, {"title.text": f"T-Labs: MOS vs {name} (PLCC {plcc_i:.3f})"}]))
    fig.update_layout(updatemenus=[dict(buttons=buttons, x=1.0, xanchor="right", y=1.15, yanchor="top")],
                      xaxis_title="metric value", yaxis_title="MOS (ACR 1–5, 95 % CI)")
    plots.style(fig, title=f"T-Labs: MOS vs {metric_names[0]}")
    plots.show(fig)

# %% [markdown]
# ## 3. Netflix public scores: a known answer for screening
# The `_last4outliers` variant adds four random voters (s27–s30). BT.500 screening (SD with N−1,
# as the Recommendation; sureal uses N) and the P.913 maximum-likelihood subject model, which
# estimates each observer's bias and inconsistency, should single them out.

# %%
if nflx is None:
    unavailable('nflx-public')
else:
    rows = []
    for name in ("nflx_public_raw.csv", "nflx_public_raw_last4outliers.csv"):
        votes = pd.read_csv(nflx.paths[name])
        for ddof in (1, 0):
            s = bt500_screening(votes, ddof=ddof)
            rows.append({"file": name, "sd divisor": f"N-{ddof}" if ddof else "N", "rejected": ", ".join(s.rejected) or "none"})
    display(pd.DataFrame(rows))

# %%
if nflx is not None:
    votes = pd.read_csv(nflx.paths["nflx_public_raw_last4outliers.csv"])
    model = subject_model_mle(votes)
    subjects = model.subjects.sort_values("inconsistency", ascending=False)
    fig = go.Figure(go.Bar(x=subjects["subject"], y=subjects["inconsistency"],
                           marker_color=["#d62728" if s in {"s27", "s28", "s29", "s30"} else "#1f77b4" for s in subjects["subject"]],
                           hovertemplate="%{x}<br>inconsistency %{y:.3f}<extra></extra>"))
    fig.update_layout(xaxis_title="observer (red: the four synthetic random voters)", yaxis_title="inconsistency υ (P.913 model)")
    plots.show(plots.style(fig, title="Observer inconsistency estimated by the P.913 subject model"))

# %% [markdown]
# ## 4. JPEG AIC-4: do metrics predict learned-codec quality worse?
# Seed 000 found every metric correlating less well with MOS on learned codecs than on
# conventional ones (claim C03: PSNR-Y PLCC 0.7634 → 0.6388) but gave no significance test. AIC-4
# scores 50 images per codec on a JND scale; the learned codec is JPEG AI. Per metric we compare
# the correlation on JPEG AI with that on the five conventional codecs together (Fisher-z,
# one-sided: conventional > learned) and give percentile-bootstrap 95 % CIs.

# %%
if aic is None:
    unavailable('jpeg-aic4')
else:
    jnd = aic4_table(aic.paths)
    aic_metrics = list(AIC4_METRICS)
    conventional = sorted(set(jnd["codec_name"]) - {"JPEG-AI"})
    aic_perf = accuracy_table(jnd, aic_metrics, {"conventional": conventional, "learned (JPEG AI)": ["JPEG-AI"]},
                              logistic=logistic, n_boot=N_BOOT)
    aic_tests = drop_tests(aic_perf, "conventional", "learned (JPEG AI)").rename(
        columns={"reference": "conventional", "test": "learned"})
    aic_perf.assign(profile=P.name, n_bootstrap=N_BOOT).to_csv(OUT / "aic4_metric_performance.csv", index=False)
    aic_tests.to_csv(OUT / "aic4_fisher_z.csv", index=False)
    display(aic_tests.round(4))

# %%
if aic is not None:
    fig = go.Figure()
    for subset, color in (("conventional", "#1f77b4"), ("learned (JPEG AI)", "#d62728")):
        part = aic_perf[aic_perf["subset"] == subset]
        fig.add_trace(go.Scatter(x=part["metric"], y=part["plcc"], mode="markers", name=subset, marker=dict(size=11, color=color),
                                 error_y=dict(type="data", symmetric=False, array=part["plcc_hi"] - part["plcc"], arrayminus=part["plcc"] - part["plcc_lo"])))
    fig.update_layout(yaxis_title=f"PLCC after {logistic} logistic (bootstrap 95 % CI)", xaxis_title="metric")
    plots.show(plots.style(fig, title="JPEG AIC-4: metric accuracy on conventional codecs vs JPEG AI"))

# %% [markdown]
# ## Claim C03 on real data
# The verdict below is computed, not typed: the share of metrics whose PLCC is lower on JPEG AI
# than on the conventional codecs, and how many of those drops are significant. Two caveats: the
# Fisher-z test treats the two subsets as independent samples (they share source images), and
# AIC-4 measures high-fidelity coding on a JND scale, whereas seed 000's DSIS test spans low rates
# (0.06–0.5 bpp) where learned-codec artefacts (blur, texture synthesis) differ most from
# conventional ones.

# %%
if aic is not None:
    plcc_tests = aic_tests[aic_tests["coefficient"] == "plcc"]
    verdict = pd.DataFrame({
        "claim": ["C03: metrics correlate worse with human judgement on learned codecs"],
        "published (seed 000, PSNR-Y PLCC)": ["0.7634 → 0.6388 (no significance test)"],
        "ours (AIC-4, JND scale)": [f"{int((plcc_tests['drop'] > 0).sum())}/{len(plcc_tests)} metrics drop; "
                                    f"{int(plcc_tests['significant (p<0.05)'].sum())} significantly (Fisher-z, p<0.05)"],
    })
    verdict.to_csv(OUT / "claim_C03.csv", index=False)
    display(verdict)
    n_drop, n_sig = int((plcc_tests["drop"] > 0).sum()), int(plcc_tests["significant (p<0.05)"].sum())
    claims.record_claim(
        "C03", ours=verdict.iloc[0, 2], setup="JPEG AIC-4: provided metric scores vs JND scale, JPEG AI vs conventional",
        verdict="reproduced" if n_sig == len(plcc_tests) else ("partly reproduced" if n_drop else "not reproduced"),
        why="a different subjective dataset (high-fidelity JND scale, not the thesis' low-rate DSIS MOS); the thesis "
            "reports no significance test", chapter="01_subjective_analysis", profile=P.name)
