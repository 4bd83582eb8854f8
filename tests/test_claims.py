"""The claims ledger: published claims, recorded outcomes, verdict rules."""

from __future__ import annotations

import pytest

from dlic_lib import claims
from dlic_lib.errors import DlicError


def test_published_claims_of_seed000_are_c01_to_c14():
    c = claims.published_claims("seed000")
    assert c["id"].tolist() == [f"C{i:02d}" for i in range(1, 15)]
    t8 = claims.published_table("seed000_table8_score_distribution")
    assert set(t8.groupby("image")["count"].sum()) == {648}  # 18 subjects × 36 stimuli per image
    with pytest.raises(DlicError, match="no published table"):
        claims.published_table("seed999_nothing")


def test_ledger_joins_recorded_outcomes_and_marks_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_RESULTS_DIR", str(tmp_path))  # no outcomes recorded by other tests
    before = claims.ledger("seed000")
    assert (before["verdict"] == "not assessed").all()
    claims.record_claim("C08", ours="46.6 / 42.1 / 29.9", setup="Table 8 counts", verdict="reproduced",
                        why="arithmetic", chapter="t", profile="smoke")
    led = claims.ledger("seed000").set_index("id")
    assert led.loc["C08", "verdict"] == "reproduced" and led.loc["C08", "published"] == "46.6;42.1;30.0"
    assert led.loc["C09", "verdict"] == "not assessed"
    path = claims.write_ledger("seed000")
    assert path.is_file() and "C08" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("kwargs, message", [
    (dict(claim_id="C99"), "unknown claim id"),
    (dict(verdict="true"), "verdict must be one of"),
    (dict(why="  "), "say why"),
])
def test_record_claim_rejects_bad_records(kwargs, message):
    record = dict(claim_id="C01", ours="x", setup="y", verdict="not testable here", why="no MOS", chapter="t",
                  profile="smoke")
    record.update(kwargs)
    cid = record.pop("claim_id")
    with pytest.raises(DlicError, match=message):
        claims.record_claim(cid, **record)
