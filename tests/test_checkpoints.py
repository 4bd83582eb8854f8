"""The checkpoint registry the codec zoo reads: listing, choice, loading, checksums, CLI."""

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from dlic_lib import checkpoints as ck
from dlic_lib.cli import main
from dlic_lib.errors import ChecksumError, DlicError
from dlic_lib.train import TrainConfig, train

TINY = dict(steps=4, N=8, M=12, crop=32, batch=2, lr=1e-3, val_every=4, val_crop=64, val_images=1, ckpt_every=4, log_every=2)


@pytest.fixture(scope="module")
def small_pool(tmp_path_factory, mirror_dir) -> Path:
    folder = tmp_path_factory.mktemp("ckpool")
    for i, name in enumerate(["011.png", "012.png", "013.png"]):
        with Image.open(mirror_dir / "wikimedia-photos" / name) as im:
            im.convert("RGB").resize((128, 96), Image.Resampling.LANCZOS).save(folder / f"q{i}.png")
    return folder


@pytest.fixture(scope="module")
def trained_dir(small_pool, tmp_path_factory) -> Path:
    """A checkpoint folder holding one tiny fp16 release (quality 3, λ = 0.0067), trained once."""
    folder = tmp_path_factory.mktemp("trained")
    mp = pytest.MonkeyPatch()
    mp.setenv("DLIC_CHECKPOINT_DIR", str(folder))
    try:
        train(TrainConfig.from_profile("smoke", data=str(small_pool), release_dtype="fp16", **TINY), progress=False)
    finally:
        mp.undo()
    return folder


@pytest.fixture
def trained(trained_dir, tmp_path, monkeypatch):
    """A private copy of that checkpoint folder (the registry stores paths relative to it)."""
    shutil.copytree(trained_dir, tmp_path / "ck")
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "ck"))
    (entry,) = ck.list_checkpoints()
    return SimpleNamespace(entry=entry)


def test_empty_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("DLIC_MANIFEST", str(tmp_path / "data_manifest.yaml"))
    assert ck.list_checkpoints() == []
    assert ck.find_checkpoint("bmshj2018-factorized", "mse", 3) is None


def test_missing_checkpoint_message_names_the_command():
    msg = ck.missing_checkpoint_message("bmshj2018-hyperprior", "ms-ssim", 4)
    assert "dlic train --model bmshj2018-hyperprior --metric ms-ssim --lambdas 16.64 --profile quick" in msg
    assert "\n" not in msg


def test_registered_entry_is_found_and_loads_as_a_working_codec(trained, kodim_crop):
    entry = ck.find_checkpoint("bmshj2018-factorized", "mse", 3)
    assert entry is not None and entry == trained.entry and entry.path.is_relative_to(ck.registry_path().parent)
    assert entry.source == "dlic-train" and entry.N == 8 and entry.M == 12 and entry.lmbda == 0.0067
    assert entry.config["profile"] == "smoke" and entry.config["data_provenance"]["n_train"] >= 1
    assert ck.list_checkpoints(metric="ms-ssim") == [] and ck.list_checkpoints(model="bmshj2018-factorized") == [entry]
    assert json.loads(ck.registry_path().read_text())["entries"][0]["path"].startswith("runs/")  # relative to the folder

    net = ck.load_codec_model(entry)
    assert not net.training
    assert all(p.dtype == torch.float32 for p in net.parameters())
    x = torch.from_numpy(kodim_crop[:64, :128]).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        enc = net.compress(x)
        x_hat = net.decompress(enc["strings"], enc["shape"])["x_hat"]
        again = ck.load_codec_model(entry).decompress(enc["strings"], enc["shape"])["x_hat"]
    assert x_hat.shape == x.shape and torch.equal(x_hat, again)  # a second load decodes the same bits
    assert len(enc["strings"][0][0]) > 0


def test_rd_point_psnr_matches_scikit_image(trained, kodim_crop):
    from skimage.metrics import peak_signal_noise_ratio

    from dlic_lib.train import rd_point

    net = ck.load_codec_model(trained.entry)
    crop = np.ascontiguousarray(kodim_crop[:64, :128])
    point = rd_point(net, [crop])
    x = torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        enc = net.compress(x)
        dec = net.decompress(enc["strings"], enc["shape"])["x_hat"].clamp(0, 1)
    decoded = np.round(dec[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    assert point["psnr"] == pytest.approx(peak_signal_noise_ratio(crop, decoded, data_range=255), abs=1e-4)
    assert point["bpp"] == pytest.approx(8 * len(enc["strings"][0][0]) / (64 * 128))


def test_checksum_mismatch_is_refused(trained, tmp_path):
    copy = tmp_path / "copy.pt"
    shutil.copy(trained.entry.path, copy)
    with open(copy, "r+b") as fh:
        fh.seek(-10, 2)
        fh.write(b"0123456789")
    from dataclasses import replace

    with pytest.raises(ChecksumError):
        ck.load_codec_model(replace(trained.entry, path=copy))
    with pytest.raises(DlicError, match="not found"):
        ck.load_codec_model(replace(trained.entry, path=tmp_path / "gone.pt"))


def test_non_checkpoint_file_is_a_clear_error(trained, tmp_path):
    bogus = tmp_path / "bogus.pt"
    torch.save({"weights": torch.zeros(2)}, bogus)
    entry = ck.register_checkpoint(model="bmshj2018-factorized", metric="mse", quality=5, lmbda=0.025, N=8, M=12, path=bogus)
    with pytest.raises(DlicError, match="not a dlic release"):
        ck.load_codec_model(entry)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    entry = ck.register_checkpoint(model="bmshj2018-factorized", metric="mse", quality=6, lmbda=0.0483, N=8, M=12, path=tmp_path / "junk.pt")
    with pytest.raises(DlicError, match="cannot be read"):
        ck.load_codec_model(entry)


def test_register_replaces_same_profile_and_prefers_longer_training(trained):
    path = trained.entry.path
    base = dict(model="bmshj2018-factorized", metric="mse", quality=3, lmbda=0.0067, N=8, M=12, path=path)
    ck.register_checkpoint(**base, config={"profile": "smoke", "steps": 2})  # replaces the trained smoke entry
    assert len(ck.list_checkpoints()) == 1
    ck.register_checkpoint(**base, config={"profile": "quick", "steps": 3000})
    ck.register_checkpoint(**base, config={"profile": "other", "steps": 100})
    assert len(ck.list_checkpoints()) == 3
    assert ck.find_checkpoint("bmshj2018-factorized", "mse", 3).config["profile"] == "quick"
    assert ck.find_checkpoint("bmshj2018-factorized", "mse", 3, profile="other").config["steps"] == 100
    with pytest.raises(DlicError, match="does not exist"):
        ck.register_checkpoint(**{**base, "path": path.parent / "missing.pt"})


def test_manifest_checkpoints_are_listed(trained, tmp_path, monkeypatch):
    (tmp_path / "ckpts").mkdir()
    shutil.copy(trained.entry.path, tmp_path / "ckpts" / "f.pt")
    record = {k: getattr(trained.entry, k) for k in ("model", "metric", "quality", "lmbda", "N", "M", "sha256")}
    import yaml

    (tmp_path / "data_manifest.yaml").write_text(yaml.safe_dump({"checkpoints": [{**record, "path": "ckpts/f.pt", "config": {"steps": 1}}]}))
    monkeypatch.setenv("DLIC_MANIFEST", str(tmp_path / "data_manifest.yaml"))
    sources = sorted(e.source for e in ck.list_checkpoints())
    assert sources == ["dlic-train", "manifest"]
    assert ck.find_checkpoint("bmshj2018-factorized", "mse", 3).source == "dlic-train"  # more steps
    released = [e for e in ck.list_checkpoints() if e.source == "manifest"][0]
    assert released.path == tmp_path / "ckpts" / "f.pt"
    assert not ck.load_codec_model(released).training


def test_corrupt_registry_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))
    (tmp_path / "registry.json").write_text("{not json")
    with pytest.raises(DlicError, match="unreadable"):
        ck.list_checkpoints()
    (tmp_path / "registry.json").write_text(json.dumps({"entries": [{"model": "x"}]}))
    with pytest.raises(DlicError, match="invalid entry"):
        ck.list_checkpoints()


def test_cli_train_and_list(small_pool, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "cli"))
    assert main(["checkpoints", "list"]) == 0
    assert "no trained checkpoints" in capsys.readouterr().out
    args = ["train", "--profile", "smoke", "--qualities", "1,2", "--data", str(small_pool), "--steps", "2", "--N", "8", "--M", "8", "--crop", "32", "--no-progress"]
    assert main(args) == 0
    assert "steps=2" in capsys.readouterr().out
    assert main(["checkpoints", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((r["quality"], r["lmbda"]) for r in rows) == [(1, 0.0018), (2, 0.0035)]
    assert main(["checkpoints", "list"]) == 0
    assert "bmshj2018-factorized" in capsys.readouterr().out
    assert main(["checkpoints", "list", "--format", "csv", "--metric", "ms-ssim"]) == 0
    assert capsys.readouterr().out.strip() == "model,task,metric,quality,lmbda,N,M,profile,steps,val_bpp,val_psnr,source,path"


@pytest.mark.parametrize(
    "argv, match",
    [
        (["train", "--model", "nope"], "unknown model"),
        (["train", "--lambdas", "0.01,x"], "cannot read"),
        (["train", "--qualities", "9"], "quality"),
        (["train", "--resume", "--restart"], "exclude"),
        (["train", "--profile", "smoke", "--crop", "40"], "multiple of 16"),
        (["train", "--profile", "smoke", "--data", "kodak"], "Kodak"),
        (["train", "--lambdas", ""], "no λ value"),
        (["train", "--qualities", " "], "no quality"),
        (["train", "--profile", "smoke", "--seed", "-1"], "seed must be a non-negative integer"),
    ],
)
def test_cli_errors_are_one_line(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("dlic: error:") and match in err and err.count("\n") == 1


def test_checkpoints_group_alone_prints_help(capsys):
    assert main(["checkpoints"]) == 2
    assert "list" in capsys.readouterr().err
