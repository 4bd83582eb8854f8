"""Chapter 4's study logic: block table, shares, histograms, parameter table and the C34/C35/C38 verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from dlic_lib.errors import DlicError
from dlic_lib.intra import hevc_mode_errors
from dlic_lib.studies import intra_prediction as study


class _Constant(torch.nn.Module):
    """A stand-in predictor that outputs one grey level (in [0, 1])."""

    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, x):
        return torch.full((x.shape[0], 3, 32, 32), self.value)


def _table(shares: dict[str, float], blocks: int = 20) -> pd.DataFrame:
    """A synthetic block table where the AE wins ``share`` of the interior blocks of each image."""
    rows = []
    for name, share in shares.items():
        wins = int(round(share * blocks))
        for b in range(blocks):
            rows.append({"image": name, "block": b, "row": 1, "col": 1, "interior": True,
                         "hevc_filtered_mode": b % 3, "hevc_filtered_mse": 10.0, "ae1_mse": 5.0 if b < wins else 20.0})
    return pd.DataFrame(rows)


def test_settings_by_profile():
    s = study.chapter_settings("quick")
    assert s["kodak"] == 24 and s["profile"] == "quick"
    assert study.chapter_settings("smoke", width=0.25)["width"] == 0.25
    with pytest.raises(DlicError, match="unknown setting"):
        study.chapter_settings("quick", widht=1)
    assert study.ae_settings(s, "intra-ae2").steps == s["steps_ae2"]


def test_block_table_against_direct_computation():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    models = {"intra-ae1": (_Constant(0.5), None), "intra-ae2": (_Constant(0.25), None)}
    t = study.block_table("x", image, models)
    assert len(t) == 6 and t["interior"].tolist() == [False, False, False, False, True, True]
    sse = hevc_mode_errors(image, 32) / (32 * 32 * 3)
    np.testing.assert_allclose(t["hevc_filtered_mse"], sse.min(axis=1))
    assert (t["hevc_filtered_mode"] == sse.argmin(axis=1)).all()
    block = image[32:, 32:64].astype(float)
    assert t.loc[4, "ae1_mse"] == pytest.approx(((block - 128) ** 2).mean())  # 0.5 → 127.5 → 128
    assert t.loc[4, "ae2_mse"] == pytest.approx(((block - 64) ** 2).mean())  # 0.25 → 63.75 → 64
    unfiltered = hevc_mode_errors(image, 32, filtering=False, strong=False, boundary=False) / (32 * 32 * 3)
    np.testing.assert_allclose(t["hevc_unfiltered_mse"], unfiltered.min(axis=1))


def test_shares_and_histograms_agree():
    t = _table({"kodim01": 0.5, "kodim02": 0.25})
    shares = study.win_shares(t)
    assert shares.set_index("image")["share"].to_dict() == {"kodim01": 0.5, "kodim02": 0.25}
    hist = study.mode_histogram(t).set_index("mode")
    assert hist.loc[35, "share"] == pytest.approx(0.375) and hist["share"].sum() == pytest.approx(1)
    only = study.mode_histogram(t, ae=None)
    assert len(only) == 35 and only["blocks"].sum() == 40


def test_verdict_c34():
    names = [f"kodim{i:02d}" for i in range(1, 25)]
    good = {n: 0.65 if n in ("kodim06", "kodim22") else 0.35 for n in names}
    good["kodim01"] = 0.1  # all but one
    assert study.verdict_c34(study.win_shares(_table(good)))["verdict"] == "reproduced"
    two_low = {**good, "kodim02": 0.1}
    assert study.verdict_c34(study.win_shares(_table(two_low)))["verdict"] == "partly reproduced"
    low = {n: 0.1 for n in names}
    out = study.verdict_c34(study.win_shares(_table(low)))
    assert out["verdict"] == "not reproduced" and "0/24" in out["ours"]


def test_verdict_c35():
    t = _table({"kodim01": 0.5, "kodim02": 0.5})  # AE 50 %; the other half: modes 0, 1, 2 cycling
    out = study.verdict_c35(t)
    assert out["ae_share"] == pytest.approx(0.5)
    assert out["planar_dc_with_ae"] == pytest.approx(0.35)  # blocks 10..19: modes 1,2,0,1,2,0,1,2,0,1 → 7 of 20
    assert out["verdict"] == "reproduced"
    assert study.verdict_c35(_table({"kodim01": 0.9}))["verdict"] == "not reproduced"
    # planar+DC already at 30 % without the AE: being in [20 %, 40 %] with it is no fall, so not even partly
    flat = _table({"kodim01": 0.05})
    flat["hevc_filtered_mode"] = [0] * 6 + [2] * 14
    out = study.verdict_c35(flat)
    assert out["planar_dc_hevc_only"] == pytest.approx(0.3) and out["verdict"] == "not reproduced"


def test_parameter_table_and_verdict_c38():
    params = study.parameter_table()
    assert params["ours_weights"].tolist() == [5_911_619, 32_835_360, 1_766_144, 1_686_400]
    assert pd.isna(params.loc[0, "published_total"]) and params.loc[0, "sum_of_printed_layers"] == 5_911_619
    assert study.verdict_c38(params)["verdict"] == "reproduced"
    broken = params.assign(ours_weights=params["ours_weights"] + 1)
    assert study.verdict_c38(broken)["verdict"] == "not reproduced"


def test_example_blocks_hold_the_predictions_of_the_table():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    models = {"intra-ae1": (_Constant(0.5), None)}
    t = study.block_table("x", image, models)
    examples = study.example_blocks(t, {"x": image}, models, count=2)
    assert len(examples) == 2 and examples[0]["ae1_mse"] - examples[0]["hevc_mse"] <= examples[1]["ae1_mse"] - examples[1]["hevc_mse"]
    for e in examples:
        truth = e["truth"].astype(float)
        assert (e["ae1"] == 128).all() and ((truth - 128) ** 2).mean() == pytest.approx(e["ae1_mse"])
        assert ((truth - e["hevc"]) ** 2).mean() == pytest.approx(e["hevc_mse"])
        assert (e["context"][32:, 32:] == 0).all()


def test_summaries_are_tidy_tables_with_parameters(tmp_path):
    t = _table({"kodim01": 0.5}).assign(hevc_unfiltered_mode=0, hevc_unfiltered_mse=30.0, profile="smoke", ae_width=0.25)
    paths = study.write_summaries(t, tmp_path, "smoke")
    shares = pd.read_csv(paths["shares"])
    assert set(shares["hevc"]) == {"filtered", "unfiltered"} and (shares["profile"] == "smoke").all()
    assert shares.set_index("hevc").loc["unfiltered", "share"] == 1.0
    modes = pd.read_csv(paths["modes"])
    assert set(modes["ae"]) == {"none", "ae1"} and modes.groupby(["ae", "hevc"])["share"].sum().round(6).eq(1).all()


def test_kodak_block_table_is_cached_with_its_parameters(tmp_path):
    class _Entry:
        sha256 = "ab" * 32

    rng = np.random.default_rng(5)
    images = {n: rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for n in ("a", "b")}
    models = {"intra-ae1": (_Constant(0.5), _Entry())}
    settings = study.chapter_settings("smoke")
    out = tmp_path / "blocks.parquet"
    first = study.kodak_block_table(images, models, settings=settings, out=out)
    assert len(first) == 8 and (first["profile"] == "smoke").all() and first["ae1_checkpoint"].iloc[0] == "ab" * 6
    images["a"][:] = 0  # a cached table is returned while its parameters match ...
    pd.testing.assert_frame_equal(study.kodak_block_table(images, models, settings=settings, out=out), first)
    again = study.kodak_block_table(images, models, settings={**settings, "width": 0.5}, out=out)  # ... and not after
    assert (again["ae_width"] == 0.5).all() and not again["hevc_filtered_mse"].equals(first["hevc_filtered_mse"])
