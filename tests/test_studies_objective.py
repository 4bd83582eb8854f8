"""Chapter 2's study logic: settings per profile and every claim-verdict rule, on small hand-made tables."""

from __future__ import annotations

import pandas as pd
import pytest

from dlic_lib import claims
from dlic_lib.errors import DlicError
from dlic_lib.studies import objective as study
from dlic_lib.subjective import plan_sessions


# -- settings -------------------------------------------------------------------------------------
def test_chapter_profile_applies_the_notebook_parameters():
    P = study.chapter_profile("quick", max_images=5, learned_codecs="BF-E, MM-E", learned_qualities="2,4")
    assert P.extra["kodak"] == 5 and P.extra["highres"] == 8
    assert P.extra["learned"] == ["BF-E", "MM-E"] and P.extra["qualities"] == (2, 4)
    assert study.chapter_profile("quick", max_images=100).extra["kodak"] == 24  # a cap, never more images
    assert study.chapter_profile("smoke").extra["learned"] == ["BF-E", "RNN-C"]


def test_rnn_c_codes_the_thesis_rates_with_the_profiles_release():
    settings = {s.label: s for s in study.learned_settings(study.chapter_profile("quick"))}
    rnn = settings["RNN-C"]
    assert rnn.codec == "rnn" and rnn.qualities == (1, 2, 4, 6) and rnn.family == "RNN-C"
    assert rnn.options == {"mode": "raw", "profile": "quick"}
    assert settings["MM-M"].qualities == (1, 3) and settings["MM-M"].options["metric"] == "ms-ssim"
    assert settings["MM-M"].options["weights"] == "book"  # below full: the book's checkpoints, even online
    assert study.book_weights(study.chapter_profile("smoke"))
    assert "weights" not in study.learned_settings(study.chapter_profile("full"))[0].options
    assert study.chapter_profile("quick").extra["rnn_sets"] == ("Kodak",)


def test_quick_trains_warm_started_ladders_and_full_from_scratch():
    assert study.chapter_profile("quick").extra["warm_start"] is True
    assert study.chapter_profile("full").extra["warm_start"] is False


def test_chapter_profile_refuses_an_unknown_profile():
    with pytest.raises(DlicError, match="unknown profile 'fast'"):
        study.chapter_profile("fast")


# -- C07: the regenerated DSIS plan ---------------------------------------------------------------
@pytest.fixture(scope="module")
def thesis_plan() -> pd.DataFrame:
    T2 = claims.published_table("seed000_table2_images")
    return plan_sessions(study.dsis_stimuli(T2["name"]), seconds_per_trial=10, max_session_minutes=24, subjects=18, seed=0)


def test_regenerated_plan_meets_every_design_figure(thesis_plan):
    checks = study.plan_checks(thesis_plan)
    assert checks["ok"].all(), checks
    v = study.verdict_c07(checks)
    assert v["verdict"] == "reproduced"
    assert v["ours"] == "plan: 288 pairs/subject, 5184 scores, 648 per image"


def test_plan_with_fewer_subjects_is_not_the_thesis_design():
    T2 = claims.published_table("seed000_table2_images")
    plan = plan_sessions(study.dsis_stimuli(T2["name"]), seconds_per_trial=10, max_session_minutes=24, subjects=4, seed=0)
    checks = study.plan_checks(plan)
    assert not checks.set_index("check").loc["scores in total", "ok"]
    assert study.verdict_c07(checks)["verdict"] == "not reproduced"


# -- C08: Table 8 arithmetic ----------------------------------------------------------------------
def _t8(counts: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame([{"image": img, "grade": g + 1, "count": c} for img, cs in counts.items() for g, c in enumerate(cs)])


def test_grade_shares_are_percentages_of_the_votes():
    shares = study.grade_shares(_t8({"A": [1, 1, 0, 0, 2], "B": [0, 0, 4, 0, 0]}))
    assert shares.loc["A", "votes"] == 4 and shares.loc["A", "grades 1+2 (%)"] == 50 and shares.loc["A", "grade 5 (%)"] == 50
    assert shares.loc["A", "mean grade"] == pytest.approx((1 + 2 + 10) / 4) and shares.loc["B", "mean grade"] == 3


def test_c08_reproduced_on_the_published_table():
    per_image = study.grade_shares(claims.published_table("seed000_table8_score_distribution"))
    v = study.verdict_c08(per_image)
    assert v["verdict"] == "reproduced" and v["ours"].startswith("grades 1+2: Memorial")


@pytest.mark.parametrize("counts, verdict", [
    ({"Memorial": [5, 0, 0, 0, 1], "Church": [4, 0, 0, 0, 1], "Zip": [0, 0, 0, 0, 9]}, "reproduced"),
    ({"Memorial": [4, 0, 0, 0, 1], "Church": [5, 0, 0, 0, 1], "Zip": [0, 0, 0, 0, 9]}, "not reproduced"),  # order swapped
    ({"Memorial": [5, 0, 0, 0, 9], "Church": [4, 0, 0, 0, 1], "Zip": [0, 0, 0, 0, 1]}, "not reproduced"),  # Zip not top 5
])
def test_c08_needs_memorial_then_church_worst_and_zip_best(counts, verdict):
    assert study.verdict_c08(study.grade_shares(_t8(counts)))["verdict"] == verdict


# -- C09: rate targeting ----------------------------------------------------------------------------
def _hits(points, share=100.0) -> pd.DataFrame:
    return pd.DataFrame([{"setting": s, "point": p, "within_2pct": share} for s in ("JPEG 4:2:0", "WebP") for p in points])


def _rnn_table(bpp_per_iteration: float = 0.125, header_bpp: float = 16 * 8 / (768 * 512)) -> pd.DataFrame:
    return pd.DataFrame([{"setting": "RNN-C", "dataset": "Kodak", "image": f"kodim{i:02d}", "point": float(k),
                          "bpp": bpp_per_iteration * k + header_bpp} for i in (1, 2) for k in (1, 2, 4, 6)])


def test_rnn_rates_against_the_thesis():
    rates = study.rnn_rates(_rnn_table())
    assert list(rates["thesis bpp"]) == [0.125, 0.25, 0.5, 0.75]
    assert rates["max deviation (%)"].iloc[0] == pytest.approx(100 * (16 * 8 / (768 * 512)) / 0.125)
    assert study.rnn_rates(_rnn_table().assign(setting="BF-E")).empty


def test_c09_reproduced_only_when_all_four_targets_ran():
    rnn = study.rnn_rates(_rnn_table())
    full = study.verdict_c09(_hits(study.THESIS_TARGETS, 87.5), "quick", rnn)
    assert full["verdict"] == "reproduced" and "0.06 bpp: 88 % of codec×image within 2 %" in full["ours"]
    assert "RNN-C on Kodak: 0.1253, 0.2503, 0.5003, 0.7503 bpp" in full["ours"]
    off = study.verdict_c09(_hits(study.THESIS_TARGETS, 87.5), "quick", study.rnn_rates(_rnn_table(0.13)))
    assert off["verdict"] == "not reproduced" and "off the thesis" in off["why"]
    assert study.verdict_c09(_hits(study.THESIS_TARGETS, 87.5), "quick")["verdict"] == "partly reproduced"
    part = study.verdict_c09(_hits((0.25, 0.5)), "smoke")
    assert part["verdict"] == "not testable here" and part["why"] == "the smoke profile codes only [0.25, 0.5] bpp"
    none = study.verdict_c09(_hits(()).reindex(columns=["setting", "point", "within_2pct"]), "smoke")
    assert none["ours"] == "targets not run"


# -- C11/C12: rankings ----------------------------------------------------------------------------
def test_thesis_codecs_keeps_the_thesis_set_in_order_with_its_names():
    assert study.thesis_codecs(["HEVC 4:4:4", "HEVC 4:2:0", "BF-E", "JPEG 4:4:4", "JPEG 4:2:0", "VVC 4:2:0", "MM-M",
                                "RNN-C"]) == ["HEVC Intra", "BF-E", "JPEG XT", "MM-M", "RNN-C"]


def test_c10_says_where_rnn_c_ranks_among_learned_codecs():
    ours = {("K", "psnr_y"): ["HEVC Intra", "MM-E", "RNN-C", "JPEG XT"], ("K", "ssim"): ["RNN-C", "MM-E", "BF-E"],
            ("H", "ssim"): ["MM-E", "JPEG XT"]}
    v = study.verdict_c10(ours)
    assert v["verdict"] == "not testable here"
    assert v["ours"] == "objectively RNN-C is the last learned codec in 1 of 2 set×metric rankings"


def _ranks(order_by_key: dict[tuple[str, str], list[str]]) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": d, "metric": m, "codec": c, "rank": i + 1}
                         for (d, m), order in order_by_key.items() for i, c in enumerate(order)])


def test_order_verdict_rules():
    ours = {("K", "psnr_y"): ["HEVC Intra", "MM-E", "BH-E", "WebP"]}
    claimed = {("K", "psnr_y"): ["HEVC Intra", "MM-E", "BH-E"]}
    assert study.order_verdict(claimed, ours, {"HEVC 4:2:0", "MM-E", "BH-E"}) == ("reproduced", [])
    # BH-E not run: compared on what ran, verdict says partly and names it
    ours2 = {("K", "psnr_y"): ["HEVC Intra", "MM-E", "WebP"]}
    assert study.order_verdict(claimed, ours2, {"MM-E"}) == ("partly reproduced", ["BH-E"])
    ours3 = {("K", "psnr_y"): ["MM-E", "HEVC Intra", "BH-E"]}
    assert study.order_verdict(claimed, ours3, {"MM-E", "BH-E"})[0] == "not reproduced"


def test_c11_and_c12_from_a_ranking_table():
    datasets = ["Kodak", "High-res"]
    order = {(d, m): ["HEVC 4:2:0", "MM-E", "JPEG 4:2:0", "MM-M"] for d in datasets for m in study.METRICS}
    order.update({(d, m): ["MM-M", "HEVC 4:2:0", "MM-E"] for d in datasets for m in ("ssim", "ms_ssim")})
    ours = study.thesis_ranking(_ranks(order), datasets, study.METRICS)
    assert ours[("Kodak", "psnr_y")] == ["HEVC Intra", "MM-E", "JPEG XT", "MM-M"]
    run = {"HEVC 4:2:0", "MM-E", "MM-M", "JPEG 4:2:0"}
    c11 = study.verdict_c11(ours, run, datasets, pretrained=False)
    assert c11["verdict"] == "partly reproduced" and c11["why"].endswith("not run at this profile: BH-E")
    assert c11["ours"].startswith("Kodak psnr_y: HEVC Intra > MM-E > JPEG XT")
    c12 = study.verdict_c12(ours, run, datasets, pretrained=True)
    assert c12["verdict"] == "partly reproduced" and "pretrained zoo models" in c12["why"]
    order.update({(d, "vif"): ["MM-E", "HEVC 4:2:0"] for d in datasets})  # VIF's best must be HEVC Intra
    ours = study.thesis_ranking(_ranks(order), datasets, study.METRICS)
    assert study.verdict_c12(ours, run, datasets, pretrained=False)["verdict"] == "not reproduced"


# -- C13: test-set preparation --------------------------------------------------------------------
@pytest.mark.parametrize("size, verdict", [((2048, 1360), "partly reproduced"), ((2048, 1366), "not reproduced"),
                                           ((2064, 1360), "not reproduced")])
def test_c13_needs_multiples_of_16_within_2048(size, verdict):
    sizes = pd.DataFrame([{"dataset": "Kodak", "image": "k", "width": 768, "height": 512},
                          {"dataset": "High-res", "image": "h", "width": size[0], "height": size[1]}])
    v = study.verdict_c13(sizes, 1)
    assert v["verdict"] == verdict and v["ours"].endswith("1 Kodak images")
    assert "caps" not in v["why"]


def test_c13_states_a_profile_cap_below_2048():
    sizes = pd.DataFrame([{"dataset": "High-res", "image": "h", "width": 1024, "height": 672}])
    v = study.verdict_c13(sizes, 24)
    assert v["verdict"] == "partly reproduced" and "caps the longer side at 1024 px" in v["why"]


# -- the ledger -----------------------------------------------------------------------------------
def test_record_claims_writes_every_claim_the_chapter_tests(thesis_plan):
    P = study.chapter_profile("smoke")
    sizes = pd.DataFrame([{"dataset": "Kodak", "image": "kodim01", "width": 384, "height": 256},
                          {"dataset": "High-res", "image": "001", "width": 384, "height": 256}])
    order = {(d, m): ["HEVC 4:2:0", "BF-E"] for d in ("Kodak", "High-res") for m in study.METRICS}
    study.record_claims(P, checks=study.plan_checks(thesis_plan),
                        per_image=study.grade_shares(claims.published_table("seed000_table8_score_distribution")),
                        hits=_hits((0.25, 0.5)), ranks=_ranks(order), run=["HEVC 4:2:0", "BF-E"], sizes=sizes,
                        pretrained=False)
    ledger = claims.ledger("seed000").set_index("id")
    for cid in ("C01", "C02", "C04", "C05", "C06", "C07", "C08", "C09", "C10", "C11", "C12", "C13"):
        assert ledger.loc[cid, "chapter"] == study.CHAPTER and ledger.loc[cid, "profile"] == "smoke", cid
    assert ledger.loc["C11", "setup"] == ("smoke profile; Kodak 1 + high-res 1 images; learned: book checkpoints (smoke)"
                                          "; thesis codec set only")
    assert ledger.loc["C09", "verdict"] == "not testable here" and ledger.loc["C07", "verdict"] == "reproduced"
    assert ledger.loc["C11", "verdict"] == "partly reproduced"


def test_quick_training_takes_the_chapters_step_counts(monkeypatch):
    import dlic_lib.train as train
    import dlic_lib.train.tasks.recurrent as recurrent

    calls = []
    monkeypatch.setattr(train, "train_ladder", lambda model, **kw: calls.append(("ladder", model, kw)))
    monkeypatch.setattr(train, "finetune_ladder", lambda model, qs, **kw: calls.append(("finetune", model, kw)))
    monkeypatch.setattr(recurrent, "train_recurrent", lambda *a, **kw: calls.append(("rnn", None, kw)))
    P = study.chapter_profile("quick")
    study.train_learned(study.learned_settings(P), P, jobs=1)
    ladders = [kw for kind, _, kw in calls if kind == "ladder"]
    tunes = [kw for kind, _, kw in calls if kind == "finetune"]
    assert len(ladders) == 2 and len(tunes) == 2 and sum(kind == "rnn" for kind, _, _ in calls) == 1
    assert all(kw["overrides"] == {"steps": 2000} and kw["warm_steps"] == 800 and kw["warm_start"] for kw in ladders)
    assert all(kw["overrides"] == {"steps": 150} for kw in tunes)
    P = study.chapter_profile("smoke")
    calls.clear()
    study.train_learned(study.learned_settings(P), P, jobs=1)
    assert [kw["overrides"] for kind, _, kw in calls if kind == "ladder"] == [None]


def test_training_progress_counts_the_steps_of_each_ladder_not_the_ladders(monkeypatch):
    import dlic_lib.progress as progress
    import dlic_lib.train as train
    import dlic_lib.train.tasks.recurrent as recurrent
    from dlic_lib.studies.objective_train import planned_steps

    P = study.chapter_profile("quick")
    n = len(P.extra["qualities"])
    steps = {s.label: planned_steps(s, P, jobs=1) for s in study.learned_settings(P)}
    assert steps["BF-E"] == steps["MM-E"] == 2000 + 800 * (n - 1)  # warm-started rungs one after another
    assert steps["BF-M"] == 150 * n and steps["RNN-C"] == recurrent.PRESETS["quick"].steps
    assert planned_steps(study.learned_settings(P)[1], P, jobs=n) == 150  # fine-tunes side by side count once
    seen = []
    real_task = progress.task

    def spy(stage, total, **kw):
        bar = real_task(stage, total, **kw)
        seen.append(bar)
        return bar

    monkeypatch.setattr(progress, "task", spy)
    monkeypatch.setattr(train, "train_ladder", lambda *a, **kw: None)
    monkeypatch.setattr(train, "finetune_ladder", lambda *a, **kw: None)
    monkeypatch.setattr(recurrent, "train_recurrent", lambda *a, **kw: None)
    study.train_learned(study.learned_settings(P), P, jobs=1)
    (bar,) = [b for b in seen if b.stage == "training"]
    assert bar.unit == "step" and bar.total == bar.step == sum(steps.values())
