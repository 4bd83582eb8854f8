"""Raw-score validation, MOS/CI, BT.500 screening and the P.913 subject model, on real data.

Cross-checks: the T-Labs MOS/CI file (Student-t, full width) and the Netflix *sureal* package
(BT.500 subject rejection, MOS, maximum-likelihood subject model) on the NFLX public raw scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dlic_lib.subjective.sureal_bridge import to_sureal_reader
from dlic_lib.errors import DlicError
from dlic_lib.subjective import (
    bt500_screening,
    kurtosis_beta2,
    mos_table,
    score_matrix,
    scores_from_wide,
    subject_model_mle,
    validate_scores,
)

OUTLIERS = ["s27", "s28", "s29", "s30"]  # the 4 synthetic random voters of the _last4outliers file


@pytest.fixture(scope="module")
def nflx(mirror_dir) -> pd.DataFrame:
    return pd.read_csv(mirror_dir / "nflx-public" / "nflx_public_raw.csv")


@pytest.fixture(scope="module")
def nflx_outliers(mirror_dir) -> pd.DataFrame:
    return pd.read_csv(mirror_dir / "nflx-public" / "nflx_public_raw_last4outliers.csv")


@pytest.fixture(scope="module")
def tlabs(mirror_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    per_user = pd.read_csv(mirror_dir / "tlabs-image-quality" / "per_user.csv")
    mos_ci = pd.read_csv(mirror_dir / "tlabs-image-quality" / "mos_ci.csv")
    return per_user, mos_ci


def _sureal_reader(scores: pd.DataFrame):
    """The same votes as a sureal RawDatasetReader (stimulus × subject, NaN = no vote)."""
    return to_sureal_reader(scores)


# ---------------------------------------------------------------- validation


def _tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {"subject": [1, 1, 2, 2, 3, 3], "stimulus": ["a", "b", "a", "b", "a", "b"], "score": [5, 4, 4, 3, 5, 2]}
    )


@pytest.mark.parametrize(
    "change, scale, match",
    [
        (lambda d: d.drop(columns="score"), "5", "lack column"),
        (lambda d: d.assign(score=d["score"].where(d.index != 2)), "5", "have no score"),
        (lambda d: d.assign(score=d["score"].replace(2, 6)), "5", "outside the 5-grade"),
        (lambda d: d.assign(score=d["score"] * 30), "100", "outside the continuous 0-100"),
        (lambda d: d.assign(score=d["score"].replace(2, 2.5)), "5", "not whole grades"),
        (lambda d: d.assign(score=d["score"].astype(object).replace(2, "bad")), "5", "non-numeric"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "5", "more than once"),
        (lambda d: d.iloc[[0, 1, 3, 5]], None, "fewer than the 2 needed"),
        (lambda d: d.iloc[:0], None, "empty"),
    ],
)
def test_bad_scores_raise_clear_errors(change, scale, match):
    with pytest.raises(DlicError, match=match):
        validate_scores(change(_tiny()), scale)


def test_missing_votes_can_be_dropped_and_subject_minimum_is_enforced():
    d = _tiny().astype({"score": float})
    d.loc[0, "score"] = np.nan
    clean = validate_scores(d, "5", missing="drop", min_votes_per_stimulus=1)
    assert len(clean) == 5
    with pytest.raises(DlicError, match="subject 1 has only 1 vote"):
        validate_scores(d, "5", missing="drop", min_votes_per_subject=2, min_votes_per_stimulus=1)


# ---------------------------------------------------------------- MOS and CI


def test_mos_ci_reproduces_tlabs_full_width_student_t(tlabs):
    per_user, mos_ci = tlabs
    users = [c for c in per_user.columns if c.startswith("user")]
    tidy = scores_from_wide(per_user, "image_name", users)
    assert len(tidy) == 371 * 21
    table = mos_table(tidy, method="t", scale="5").merge(mos_ci, left_on="stimulus", right_on="image_name",
                                                           suffixes=("", "_ref"))
    assert len(table) == 371
    # Two stimuli of mos_ci.csv were computed from 22 votes upstream (MOS·22 is whole, e.g.
    # 36/22), while per_user.csv keeps 21; every other stimulus must match exactly.
    differs = ~np.isclose(table["mos"], table["mos_ref"], rtol=0, atol=1e-12)
    assert differs.sum() == 2
    assert np.allclose((table.loc[differs, "mos_ref"] * 22) % 1, 0, atol=1e-9)
    same = table.loc[~differs]
    np.testing.assert_allclose(same["std"], same["std_ref"], rtol=0, atol=1e-12)
    # unanimous stimuli (S = 0): the file leaves the CI empty, ours is exactly 0
    unanimous = same["ci_ref"].isna()
    assert unanimous.sum() == 20 and (same.loc[unanimous, "std"] == 0).all() and (same.loc[unanimous, "ci"] == 0).all()
    same = same.loc[~unanimous]
    np.testing.assert_allclose(same["ci_width"], same["ci_ref"], rtol=0, atol=1e-12)  # file: full width
    np.testing.assert_allclose(same["ci"], same["ci_ref"] / 2, rtol=0, atol=1e-12)  # ours: half-width
    np.testing.assert_allclose(same["ci_high"] - same["ci_low"], same["ci_ref"], rtol=0, atol=1e-12)
    assert (table["n"] == 21).all() and (table["ci_method"] == "t").all()


def test_mos_normal_ci_uses_1_96_sigma_over_sqrt_n(tlabs):
    per_user, _ = tlabs
    tidy = scores_from_wide(per_user.head(5), "image_name", [f"user{i}" for i in range(1, 22)])
    t = mos_table(tidy, method="normal")
    votes = per_user.head(5)[[f"user{i}" for i in range(1, 22)]].to_numpy(float)
    expect = sps.norm.ppf(0.975) * votes.std(axis=1, ddof=1) / np.sqrt(21)
    np.testing.assert_allclose(t["ci"], expect, rtol=1e-12)
    with pytest.raises(DlicError, match="unknown confidence-interval method"):
        mos_table(tidy, method="bootstrap")


def test_mos_keeps_design_columns():
    d = _tiny().assign(codec=lambda x: x["stimulus"].map({"a": "bpg", "b": "jpeg"}), rate=0.5)
    t = mos_table(d, scale="5")
    assert list(t.columns[:4]) == ["stimulus", "codec", "rate", "n"]
    assert t.set_index("stimulus").loc["a", "codec"] == "bpg"


# ---------------------------------------------------------------- BT.500 screening


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_beta2_is_pearson_kurtosis(nflx):
    mat = score_matrix(nflx).to_numpy()
    np.testing.assert_allclose(kurtosis_beta2(mat, axis=1), sps.kurtosis(mat, axis=1, fisher=False), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["nflx", "nflx_outliers"])
def test_screening_matches_sureal(request, name, capsys):
    from sureal.subjective_model import MosModel

    scores = request.getfixturevalue(name)
    reader, mat = _sureal_reader(scores)
    with np.errstate(all="ignore"):
        ref = MosModel(reader).run_modeling(subject_rejection=True)
    ours = bt500_screening(scores, ddof=0, scale="5")  # sureal: population SD
    assert ours.subjects["subject"].tolist() == mat.columns.tolist()
    np.testing.assert_array_equal(ours.subjects["rejected"], ref["observer_rejected"])
    # sureal counts every vote on a unanimous stimulus (S = 0) as both P and Q; we skip such stimuli
    unanimous = int((ours.stimuli["std"] == 0).sum())
    assert unanimous == (1 if name == "nflx" else 0)
    p, q, n = (ours.subjects[c].to_numpy(float) for c in ("p", "q", "n_votes"))
    np.testing.assert_allclose((p + q + 2 * unanimous) / n, ref["observer_rejected_1st_stats"], rtol=0, atol=1e-15)
    with np.errstate(invalid="ignore"):
        asym = np.abs(p - q) / (p + q + 2 * unanimous)
    np.testing.assert_allclose(asym, ref["observer_rejected_2nd_stats"], rtol=0, atol=1e-15)
    # MOS over the kept observers, with sureal's 1.96·σ/√N interval
    mos = mos_table(scores, method="normal", exclude_subjects=ours.rejected)
    np.testing.assert_allclose(mos["mos"], ref["quality_scores"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(mos["ci"], ref["quality_scores_ci95"][0], rtol=1e-5)


def test_screening_catches_random_voters(nflx, nflx_outliers):
    # BT.500 (S with N-1): the clean panel passes, and only planted random voters are rejected
    assert bt500_screening(nflx).rejected == []
    bt500 = bt500_screening(nflx_outliers)
    assert bt500.rejected == ["s27", "s30"]
    sureal_like = bt500_screening(nflx_outliers, ddof=0)
    assert sureal_like.rejected == ["s27", "s29", "s30"]
    # every planted voter deviates on more than 5 % of the stimuli; s28 (and s29 with N-1) escape
    # only through the |P-Q|/(P+Q) < 0.3 symmetry rule, which the reasons spell out
    subj = bt500.subjects.set_index("subject")
    assert (subj.loc[OUTLIERS, "ratio_pq"] > 0.05).all()
    assert (subj.drop(index=OUTLIERS)["ratio_pq"] <= 0.05).all()
    assert "|P-Q|/(P+Q) = 0.333 >= 0.3" in subj.loc["s28", "reason"]


# ---------------------------------------------------------------- P.913 subject model


def test_subject_model_matches_sureal_mle(nflx_outliers, capsys):
    from sureal.subjective_model import (
        MaximumLikelihoodEstimationModelContentOblivious,
        MaximumLikelihoodEstimationModelContentObliviousAlternativeProjection,
    )

    reader, _ = _sureal_reader(nflx_outliers)
    ours = subject_model_mle(nflx_outliers, scale="5")
    assert ours.converged
    with np.errstate(all="ignore"):
        newton = MaximumLikelihoodEstimationModelContentOblivious(reader).run_modeling()
        ap = MaximumLikelihoodEstimationModelContentObliviousAlternativeProjection(reader).run_modeling()
    for ref in (newton, ap):
        np.testing.assert_allclose(ours.stimuli["quality"], ref["quality_scores"], atol=1e-6)
        np.testing.assert_allclose(ours.subjects["bias"], ref["observer_bias"], atol=1e-6)
        np.testing.assert_allclose(ours.subjects["inconsistency"], ref["observer_inconsistency"], atol=1e-6)
        np.testing.assert_allclose(ours.stimuli["quality_std"], ref["quality_scores_std"], rtol=1e-6)
    # the random voters are the four least consistent subjects
    worst = ours.subjects.nlargest(4, "inconsistency")["subject"]
    assert sorted(worst) == OUTLIERS


def test_subject_model_with_missing_votes_matches_sureal(nflx, capsys):
    from sureal.subjective_model import MaximumLikelihoodEstimationModelContentObliviousAlternativeProjection

    rng = np.random.default_rng(3)
    sparse = nflx.drop(index=rng.choice(len(nflx), size=len(nflx) // 10, replace=False))
    reader, _ = _sureal_reader(sparse)
    ours = subject_model_mle(sparse)
    with np.errstate(all="ignore"):
        ref = MaximumLikelihoodEstimationModelContentObliviousAlternativeProjection(reader).run_modeling()
    np.testing.assert_allclose(ours.stimuli["quality"], ref["quality_scores"], atol=1e-6)
    np.testing.assert_allclose(ours.subjects["inconsistency"], ref["observer_inconsistency"], atol=1e-6)


def test_subject_model_needs_two_subjects():
    d = pd.DataFrame({"subject": [1, 1], "stimulus": ["a", "b"], "score": [3, 4]})
    with pytest.raises(DlicError):
        subject_model_mle(d)
