"""``compute()`` and ``dlic metrics`` on files, batches and pair lists."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from metrics_helpers import code
from PIL import Image

from dlic_lib.cli import main
from dlic_lib.errors import DlicError
from dlic_lib.metrics import available_metrics, compute, psnr_y, ssim


@pytest.fixture(scope="module")
def files(tmp_path_factory, kodim_crop):
    d = tmp_path_factory.mktemp("pairs")
    Image.fromarray(kodim_crop).save(d / "ref.png")
    for q in (20, 60):
        Image.fromarray(code(kodim_crop, "jpeg", q)).save(d / f"dist{q}.png")
    return d


def test_compute_on_paths_matches_functions(files, kodim_crop):
    dist = np.asarray(Image.open(files / "dist20.png"))
    df = compute(str(files / "ref.png"), files / "dist20.png", metrics=["psnr_y", "ssim", "vmaf"])
    assert list(df.columns) == ["pair", "reference", "distorted", "psnr_y", "ssim", "vmaf"]
    assert df["psnr_y"][0] == pytest.approx(psnr_y(kodim_crop, dist).item(), abs=1e-12)
    assert df["ssim"][0] == pytest.approx(ssim(kodim_crop, dist).item(), abs=1e-12)
    assert 0 < df["vmaf"][0] < 100


def test_compute_batch_and_options(kodim_crop):
    dists = np.stack([code(kodim_crop, "jpeg", q) for q in (10, 50, 90)])
    refs = np.stack([kodim_crop] * 3)
    df = compute(refs, dists, metrics="psnr_ycbcr,ms_ssim", options={"psnr_ycbcr": {"weights": (4, 1, 1)}}, progress=False)
    assert len(df) == 3 and list(df.columns) == ["pair", "psnr_ycbcr", "ms_ssim"]
    assert df["ms_ssim"].is_monotonic_increasing and df["psnr_ycbcr"].is_monotonic_increasing
    default = compute(refs[:1], dists[:1], metrics=["psnr_ycbcr", "psnr_ycbcr_411"])
    assert df["psnr_ycbcr"][0] == pytest.approx(default["psnr_ycbcr_411"][0])
    assert default["psnr_ycbcr"][0] != pytest.approx(default["psnr_ycbcr_411"][0])


def test_compute_errors(kodim_crop):
    with pytest.raises(DlicError, match="unknown metric"):
        compute(kodim_crop, kodim_crop, metrics=["ssim", "nope"])
    with pytest.raises(DlicError, match="one per pair"):
        compute([kodim_crop, kodim_crop], [kodim_crop], metrics=["ssim"])
    with pytest.raises(DlicError, match="not requested"):
        compute(kodim_crop, kodim_crop, metrics=["ssim"], options={"vif": {}})


def test_registry_names():
    names = set(available_metrics())
    assert {"psnr_rgb", "psnr_y", "psnr_ycbcr", "ssim", "ssim_sewar", "ms_ssim", "vif", "vmaf"} <= names


def test_cli_json(files, capsys):
    rc = main(["metrics", str(files / "ref.png"), str(files / "dist20.png"), "--metrics", "psnr_rgb,ssim", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"psnr_rgb", "ssim"} and 20 < out["psnr_rgb"] < 50


def test_cli_identical_images_give_inf(files, capsys):
    assert main(["metrics", str(files / "ref.png"), str(files / "ref.png"), "--metrics", "psnr_y", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"psnr_y": "inf"}


def test_cli_pairs_to_parquet(files, tmp_path):
    pairs = files / "pairs.csv"
    pd.DataFrame({"reference": ["ref.png", "ref.png"], "distorted": ["dist20.png", "dist60.png"], "quality": [20, 60]}).to_csv(
        pairs, index=False
    )
    out = tmp_path / "res.parquet"
    assert main(["metrics", "--pairs", str(pairs), "--out", str(out), "--metrics", "psnr_y,vif"]) == 0
    df = pd.read_parquet(out)
    assert list(df["distorted"]) == ["dist20.png", "dist60.png"] and list(df["quality"]) == [20, 60]
    assert df["psnr_y"][0] < df["psnr_y"][1]


def test_cli_errors(files, tmp_path, capsys):
    assert main(["metrics", str(files / "ref.png"), str(tmp_path / "missing.png")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["metrics", str(files / "ref.png"), str(files / "dist20.png"), "--metrics", "bogus"]) == 2
    assert "unknown metric" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["metrics", "--pairs", str(bad), "--out", str(tmp_path / "x.parquet")]) == 2
    assert "needs 'reference' and 'distorted'" in capsys.readouterr().err
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(small)
    assert main(["metrics", str(small), str(small), "--metrics", "ms_ssim"]) == 2
    assert "at least 161×161" in capsys.readouterr().err
