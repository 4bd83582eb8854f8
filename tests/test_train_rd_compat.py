"""The CompressAI rate–distortion training as a Trainer task behaves as the first engine did.

Run ids, training numbers and the files of the first engine are pinned: they were measured with the
engine that trained CompressAI models before the Trainer existed (``dlic-train-state/1``), on the
same tiny configuration. ``tests/data/legacy_rd`` holds what that engine wrote for a 4-step run:
its registry (first format) and release, and the state it saved after step 2.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dlic_lib import zoo
from dlic_lib.train import TrainConfig, train
from dlic_lib.train.engine import run_dir_for

LEGACY = Path(__file__).parent / "data" / "legacy_rd"
TINY = dict(steps=6, N=8, M=12, crop=32, batch=2, lr=1e-3, val_every=3, val_crop=64, val_images=2, ckpt_every=2, log_every=1,
            release_dtype="fp32", scale_range=(1.0, 1.5))
TINY4 = dict(TINY, steps=4, N=4, M=6, val_every=2, val_images=1)
#: train-row losses of TINY with amp off, and its released validation point, from the first engine
PINNED_LOSSES = [130.86460876464844, 116.67093658447266, 93.0319595336914, 86.53623962402344, 71.81587982177734, 95.0697250366211]
PINNED_VAL = {"bpp": 0.2578125, "psnr": 8.314088152360641, "images": 1, "bpp_estimate": 0.25088271498680115}
PINNED_RUN_IDS = {
    "smoke": ({}, "bmshj2018-factorized-mse-q3-smoke-c16c0e0643"),
    "quick": (dict(quantizer="mixed"), "bmshj2018-factorized-mse-q3-quick-8cae0a76c0"),
    "smoke-msssim": (dict(metric="ms-ssim", lmbda=8.73), "bmshj2018-factorized-ms-ssim-q3-smoke-88d573f5d4"),
    "smoke-hyper": (dict(model="bmshj2018-hyperprior", lmbda=0.0483), "bmshj2018-hyperprior-mse-q6-smoke-fe5abda4f5"),
}


@pytest.fixture(scope="module")
def pool(tmp_path_factory, mirror_dir) -> Path:
    """The eight down-scaled Commons photos the pinned runs trained on."""
    folder = tmp_path_factory.mktemp("pool")
    for i, name in enumerate(["001.png", "002.png", "003.png", "004.png", "005.png", "007.png", "008.png", "009.png"]):
        with Image.open(mirror_dir / "wikimedia-photos" / name) as im:
            im.convert("RGB").resize((128, 96), Image.Resampling.LANCZOS).save(folder / f"p{i}.png")
    return folder


@pytest.mark.parametrize("profile", sorted(PINNED_RUN_IDS))
def test_run_ids_are_those_of_the_first_engine(profile):
    overrides, expected = PINNED_RUN_IDS[profile]
    config = TrainConfig.from_profile(profile.split("-")[0], data="wikimedia-photos", **overrides)
    assert config.resolved().run_id() == expected


def test_training_numbers_are_those_of_the_first_engine(pool, tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))
    r = train(TrainConfig.from_profile("smoke", data=str(pool), **TINY), progress=False, amp=False)
    losses = r.log[r.log.split == "train"].loss.tolist()
    np.testing.assert_allclose(losses, PINNED_LOSSES, rtol=1e-4)
    assert r.val["bpp"] == PINNED_VAL["bpp"] and r.val["images"] == 1
    assert r.val["psnr"] == pytest.approx(PINNED_VAL["psnr"], abs=1e-3)
    assert r.val["bpp_estimate"] == pytest.approx(PINNED_VAL["bpp_estimate"], rel=1e-4)
    assert list(r.log.columns) == ["model", "metric", "lmbda", "quality", "N", "M", "profile", "seed", "step", "split", "lr", "loss",
                                   "bpp", "mse", "psnr", "ms_ssim", "aux_loss", "images", "elapsed_s"]


def test_a_release_of_the_first_engine_loads_with_its_sha256(tmp_path, monkeypatch, kodim_crop):
    shutil.copytree(LEGACY, tmp_path / "ck", ignore=shutil.ignore_patterns("state_step2.pt"))
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "ck"))
    record = json.loads((tmp_path / "ck" / "registry.json").read_text())["entries"][0]
    assert "architecture" not in record  # the first registry format
    (entry,) = zoo.entries("bmshj2018-factorized", task="rd", objective="mse", rate_key={"quality": 3})
    assert (entry.N, entry.M, entry.lmbda, entry.sha256) == (4, 6, 0.0067, record["sha256"])
    net = zoo.load_model(entry)  # sha256 checked against the first engine's record
    x = torch.from_numpy(kodim_crop[:64, :64]).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        enc = net.compress(x)
        x_hat = net.decompress(enc["strings"], enc["shape"])["x_hat"]
    assert x_hat.shape == x.shape


def test_a_run_folder_of_the_first_engine_resumes(pool, tmp_path, monkeypatch):
    """The state the first engine saved after step 2 continues to the end as an uninterrupted run of today's engine."""
    config = TrainConfig.from_profile("smoke", data=str(pool), **TINY4)
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "fresh"))
    fresh = train(config, progress=False, amp=False)
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "legacy"))
    run_dir = run_dir_for(config)
    run_dir.mkdir(parents=True)
    shutil.copy(LEGACY / "state_step2.pt", run_dir / "state.pt")
    assert torch.load(run_dir / "state.pt", weights_only=False)["format"] == "dlic-train-state/1"
    resumed = train(config, progress=False, amp=False)
    assert resumed.finished and resumed.step == 4
    assert resumed.log.drop(columns="elapsed_s").shape == fresh.log.drop(columns="elapsed_s").shape
    a = torch.load(fresh.run_dir / "release.pt", weights_only=True)["state_dict"]
    b = torch.load(resumed.run_dir / "release.pt", weights_only=True)["state_dict"]
    same_arithmetic = resumed.log.loss.iloc[:2].tolist() == fresh.log.loss.iloc[:2].tolist()
    for key in a:  # bit for bit where this machine computes steps 1-2 as the one that wrote the state
        if same_arithmetic:
            assert torch.equal(a[key], b[key]), key
        else:
            torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-6)
    again = train(config, progress=False, amp=False)  # finished: registered again, not retrained
    assert again.entry == resumed.entry and again.step == 4
