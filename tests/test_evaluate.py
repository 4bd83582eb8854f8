"""Evaluation grids, test-set preparation and RD summaries (ranking, chroma bias)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlic_lib import rd
from dlic_lib.data import fit_to_grid, prepare_images, read_image, write_png
from dlic_lib.errors import DlicError
from dlic_lib.evaluate import CodecSetting, conventional_setting, learned_setting, run_grid
from dlic_lib.metrics import compute


# -- preparation ----------------------------------------------------------------------------------
def test_fit_to_grid_downscales_then_crops_to_multiples():
    img = np.random.default_rng(0).integers(0, 256, (1000, 3001, 3), dtype=np.uint8)
    out = fit_to_grid(img, max_side=2048, multiple=16)
    # 3001→2048 wide, 1000·2048/3001 = 682.4 → 682 high, then cropped to 2048×672
    assert out.shape == (672, 2048, 3)
    small = fit_to_grid(img[:40, :50], max_side=2048, multiple=16)  # never up-scaled
    assert small.shape == (32, 48, 3)
    # the crop is centred: rows 4..35 and columns 1..48 of the input
    np.testing.assert_array_equal(small, img[4:36, 1:49])


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_side=8, multiple=16), "max_side"),
    (dict(max_side=64, multiple=0), "multiple"),
])
def test_fit_to_grid_rejects_bad_settings(kwargs, message):
    with pytest.raises(DlicError, match=message):
        fit_to_grid(np.zeros((64, 64, 3), np.uint8), **kwargs)


def test_fit_to_grid_rejects_images_smaller_than_a_block():
    with pytest.raises(DlicError, match="smaller than one 16×16 block"):
        fit_to_grid(np.zeros((10, 64, 3), np.uint8))


def test_prepare_images_caches_and_refreshes(tmp_path, kodak_dir):
    src = [kodak_dir / "kodim01.png", kodak_dir / "kodim02.png"]
    out = prepare_images(src, max_side=300, out_dir=tmp_path / "prep")
    assert [p.name for p in out] == ["kodim01.png", "kodim02.png"]
    assert read_image(out[0]).shape == (192, 288, 3)  # 768×512 → 300×200 → 288×192
    stamp = out[0].stat().st_mtime_ns
    assert prepare_images(src, max_side=300, out_dir=tmp_path / "prep")[0].stat().st_mtime_ns == stamp
    again = prepare_images(src[:1], max_side=200, out_dir=tmp_path / "prep")  # other settings: redone
    assert read_image(again[0]).shape == (128, 192, 3)


def test_prepare_images_reports_missing_files(tmp_path):
    with pytest.raises(DlicError, match="not found"):
        prepare_images([tmp_path / "nope.png"], out_dir=tmp_path)


# -- settings -------------------------------------------------------------------------------------
def test_settings_are_labelled_like_the_thesis():
    s = conventional_setting("hevc", (0.25, 0.5), "444")
    assert s.label == "HEVC 4:4:4" and s.options == {"mode": "crf", "chroma": "444"} and s.points == (0.25, 0.5)
    assert conventional_setting("jpeg2000", (0.5,)).label == "JPEG 2000"
    m = learned_setting("MM-M", (1, 3))
    assert (m.codec, m.options["metric"], m.qualities) == ("mbt2018-mean", "ms-ssim", (1, 3))
    with pytest.raises(DlicError, match="unknown learned codec"):
        learned_setting("XX-E", (1,))
    with pytest.raises(DlicError, match="either target bpp values or quality"):
        CodecSetting("bad", "jpeg")
    with pytest.raises(DlicError, match="positive"):
        conventional_setting("jpeg", (0.0,))


# -- the grid -------------------------------------------------------------------------------------
@pytest.fixture()
def small_images(tmp_path, kodak_dir):
    paths = prepare_images([kodak_dir / "kodim01.png", kodak_dir / "kodim23.png"], max_side=256,
                           out_dir=tmp_path / "prep")
    return {"Kodak": {p.stem: p for p in paths}}


def test_run_grid_codes_measures_and_resumes(tmp_path, small_images, monkeypatch):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "no-checkpoints"))
    settings = [conventional_setting("jpeg", (0.5, 1.0), "420"), conventional_setting("webp", (0.5, 1.0)),
                learned_setting("BF-E", (1, 2))]  # offline, no checkpoint: skipped with the reason
    out = tmp_path / "grid.parquet"
    with pytest.warns(UserWarning, match="BF-E skipped"):
        res = run_grid(small_images, settings, ["psnr_y", "ssim"], out=out, progress=False)
    t = res.table
    assert len(t) == 2 * 2 * 2 and set(res.skipped) == {"BF-E"} and "dlic train" in res.skipped["BF-E"]
    assert ((t["bpp"] - t["target_bpp"]).abs() / t["target_bpp"] <= 0.02).all()
    np.testing.assert_allclose(t["bpp"], 8 * t["bytes"] / (t["width"] * t["height"]))
    # the stored metric values are those of the decoded images (recode one point and compare)
    from dlic_lib.codecs import get_codec

    row = t[(t["setting"] == "JPEG 4:2:0") & (t["image"] == "kodim23")].iloc[0]
    ref = read_image(small_images["Kodak"]["kodim23"])
    coded = get_codec("jpeg", chroma="420").encode(ref, row["quality"])
    expected = compute(ref, coded.decoded, metrics=["psnr_y", "ssim"]).iloc[0]
    assert row["psnr_y"] == pytest.approx(expected["psnr_y"], abs=1e-9)
    assert row["ssim"] == pytest.approx(expected["ssim"], abs=1e-9)
    assert out.is_file() and (tmp_path / "grid.parquet.json").is_file()

    # a rerun reads the table back and codes nothing new; a new setting is appended
    saved = pd.read_parquet(out)
    more = [*settings[:2], conventional_setting("jpeg", (0.5, 1.0), "444")]
    res2 = run_grid(small_images, more, ["psnr_y", "ssim"], out=out, progress=False)
    assert len(res2.table) == 12
    pd.testing.assert_frame_equal(res2.table.iloc[:8].reset_index(drop=True), saved)


def test_run_grid_in_worker_processes_gives_the_same_table(tmp_path, small_images, monkeypatch):
    settings = [conventional_setting("jpeg", (0.5, 1.0), "420"), conventional_setting("hevc", (0.5,), "420"),
                conventional_setting("webp", (0.5,))]
    tables = {}
    for jobs in (1, 2):
        monkeypatch.setenv("DLIC_CACHE_DIR", str(tmp_path / f"cache{jobs}"))  # each codes from scratch
        tables[jobs] = run_grid(small_images, settings, ["psnr_y", "ssim"], progress=False, jobs=jobs).table
    timing = ["encode_s", "decode_s", "wall_s"]
    assert (tables[2]["wall_s"] > 0).all()
    pd.testing.assert_frame_equal(tables[1].drop(columns=timing), tables[2].drop(columns=timing))
    with pytest.raises(DlicError, match="jobs must be a positive integer"):
        run_grid(small_images, settings, ["psnr_y"], progress=False, jobs=0)


def test_run_grid_refuses_a_table_without_the_metrics(tmp_path, small_images):
    out = tmp_path / "grid.parquet"
    run_grid(small_images, [conventional_setting("jpeg", (1.0,), "420")], ["psnr_y"], out=out, progress=False)
    with pytest.raises(DlicError, match="lacks metric column"):
        run_grid(small_images, [conventional_setting("jpeg", (1.0,), "420")], ["ssim"], out=out, progress=False)


def test_run_grid_checks_labels_and_metrics(small_images):
    s = conventional_setting("jpeg", (1.0,), "420")
    with pytest.raises(DlicError, match="same label"):
        run_grid(small_images, [s, s], ["psnr_y"], progress=False)
    with pytest.raises(DlicError, match="at least one metric"):
        run_grid(small_images, [s], [], progress=False)


# -- summaries ------------------------------------------------------------------------------------
def _toy_points():
    rates = np.array([0.1, 0.2, 0.4, 0.8])
    rows = []
    for label, gain, family, chroma in [("A 4:2:0", 0.0, "A", "4:2:0"), ("A 4:4:4", -1.0, "A", "4:4:4"),
                                        ("B", 2.0, "B", "4:2:0")]:
        for r in rates:
            rows.append({"dataset": "d", "setting": label, "family": family, "chroma": chroma, "bpp": r,
                         "psnr": 30 + 3 * np.log2(r / 0.1) + gain})
    return pd.DataFrame(rows)


def test_rd_points_average_over_images():
    t = pd.DataFrame({"dataset": ["d"] * 4, "setting": ["X"] * 4, "point": [0.5, 0.5, 1.0, 1.0],
                      "image": ["a", "b", "a", "b"], "bpp": [0.4, 0.6, 1.0, 1.2], "psnr": [30.0, 32.0, 34.0, 35.0]})
    p = rd.rd_points(t, ["psnr"])
    assert p["bpp"].tolist() == [0.5, 1.1] and p["psnr"].tolist() == [31.0, 34.5] and p["n_images"].tolist() == [2, 2]


def test_rank_codecs_orders_by_mean_quality_over_the_shared_interval():
    pts = _toy_points()
    ranks = rd.rank_codecs(pts, "psnr")
    assert ranks["codec"].tolist() == ["B", "A 4:2:0", "A 4:4:4"] and ranks["rank"].tolist() == [1, 2, 3]
    # parallel lines in log-rate: the scores differ by exactly the offsets
    s = ranks.set_index("codec")["score"]
    assert s["B"] - s["A 4:2:0"] == pytest.approx(2.0, abs=1e-9)
    assert s["A 4:2:0"] - s["A 4:4:4"] == pytest.approx(1.0, abs=1e-9)
    # a codec with a disjoint rate range is left out and says why
    far = pts[pts["setting"] == "B"].assign(setting="C", bpp=lambda d: d["bpp"] * 100)
    ranks = rd.rank_codecs(pd.concat([pts, far]), "psnr")
    assert ranks.set_index("codec").loc["C", "status"].startswith("its rate range does not overlap")


def test_chroma_bias_is_bd_of_444_against_420():
    bias = rd.chroma_bias(_toy_points(), ["psnr"], {"A": ("A 4:2:0", "A 4:4:4")})
    row = bias.iloc[0]
    assert (row["family"], row["codec"], row["anchor"]) == ("A", "A 4:4:4", "A 4:2:0")
    assert row["bd_quality"] == pytest.approx(-1.0, abs=1e-9)
    assert row["bd_rate"] == pytest.approx((2 ** (1 / 3) - 1) * 100, rel=1e-9)  # 1 dB = 1/3 octave of rate
    with pytest.raises(DlicError, match="none of the"):
        rd.chroma_bias(_toy_points(), ["psnr"], {"Z": ("Z 4:2:0", "Z 4:4:4")})


def test_bd_min_points_allows_short_pchip_curves_only():
    pts = _toy_points()
    a, b = pts[pts["setting"] == "A 4:2:0"].iloc[:2], pts[pts["setting"] == "B"].iloc[:2]
    with pytest.raises(DlicError, match="at least 4"):
        rd.bd_quality(a, b, metric="psnr")
    assert rd.bd_quality(a, b, metric="psnr", method="pchip", min_points=2) == pytest.approx(2.0, abs=1e-9)
    with pytest.raises(DlicError, match="at least 4 for the cubic"):
        rd.bd_quality(a, b, metric="psnr", method="cubic", min_points=2)


# -- figures --------------------------------------------------------------------------------------
def test_rd_figures_have_a_trace_per_codec_and_a_menu_entry_per_view():
    from dlic_lib import plots

    pts = pd.concat([_toy_points(), _toy_points().assign(dataset="e")])
    pts["ssim"] = pts["psnr"] / 50
    fig = plots.rd_figure(pts, {"psnr": "PSNR", "ssim": "SSIM"})
    assert [t.name for t in fig.data] == ["A 4:2:0", "A 4:4:4", "B"]
    labels = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert labels == ["d · PSNR", "d · SSIM", "e · PSNR", "e · SSIM"]
    assert fig.data[1].line.dash == "dash" and fig.data[0].line.dash == "solid"
    per = pts[pts["dataset"] == "d"].assign(image=lambda d: np.where(d["bpp"] > 0.15, "x", "y"))
    fig = plots.per_image_rd_figure(per, {"psnr": "PSNR", "ssim": "SSIM"})
    assert len(fig.data) == 2 * 3 and [b.label for b in fig.layout.updatemenus[0].buttons] == ["y", "x"]  # data order


def test_run_grid_codes_a_progressive_codec_in_one_pass_per_image(tmp_path, small_images, monkeypatch):
    import torch

    from dlic_lib.codecs import get_codec
    from dlic_lib.models.recurrent import RecurrentCodec

    torch.manual_seed(0)
    model = RecurrentCodec(width=0.125, iterations=3).eval()
    path = tmp_path / "rnn.pt"
    torch.save({"architecture": "toderici2017-rnn", "build": model.config(), "state_dict": model.state_dict()}, path)
    setting = learned_setting("RNN-C", (1, 3), checkpoint=str(path))
    assert (setting.codec, setting.options["mode"]) == ("rnn", "raw")
    calls = []
    original = type(setting.build())._progressive
    monkeypatch.setattr(type(setting.build()), "_progressive", lambda self, im, ks: calls.append(tuple(ks)) or original(self, im, ks))
    out = tmp_path / "grid.parquet"
    t = run_grid(small_images, [setting], ["psnr_y"], out=out, progress=False).table
    assert calls == [(1, 3), (1, 3)]  # one pass per image, both rates
    assert len(t) == 4 and set(t["point"]) == {1.0, 3.0}
    ref = read_image(small_images["Kodak"]["kodim23"])
    alone = get_codec("rnn", mode="raw", checkpoint=str(path)).encode(ref, 3, use_cache=False)
    row = t[(t["image"] == "kodim23") & (t["point"] == 3.0)].iloc[0]
    assert row["bytes"] == alone.n_bytes
    assert row["psnr_y"] == pytest.approx(compute(ref, alone.decoded, metrics=["psnr_y"]).iloc[0]["psnr_y"], abs=1e-9)
    before = len(calls)
    run_grid(small_images, [setting], ["psnr_y"], out=out, progress=False)  # a rerun codes nothing
    assert len(calls) == before
