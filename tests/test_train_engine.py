"""The training loop: exact resumption (stop, signal, SIGKILL), release, registry, validation."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dlic_lib.errors import DlicError
from dlic_lib.train import TrainConfig, train
from dlic_lib.train.engine import run_dir_for

TINY = dict(steps=6, N=8, M=12, crop=32, batch=2, lr=1e-3, val_every=3, val_crop=64, val_images=2, ckpt_every=2, log_every=1,
            release_dtype="fp32", scale_range=(1.0, 1.5))


@pytest.fixture(scope="module")
def small_pool(tmp_path_factory, mirror_dir) -> Path:
    """Eight small photos (down-scaled Commons training images) in a folder: fast to decode."""
    folder = tmp_path_factory.mktemp("pool")
    for i, name in enumerate(["001.png", "002.png", "003.png", "004.png", "005.png", "007.png", "008.png", "009.png"]):
        with Image.open(mirror_dir / "wikimedia-photos" / name) as im:
            im.convert("RGB").resize((128, 96), Image.Resampling.LANCZOS).save(folder / f"p{i}.png")
    return folder


def _config(pool, **kw) -> TrainConfig:
    return TrainConfig.from_profile("smoke", data=str(pool), **{**TINY, **kw})


def _use_dir(monkeypatch, tmp_path, name):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / name))


def _release_state(result):
    return torch.load(result.run_dir / "release.pt", weights_only=True)["state_dict"]


def _assert_same_run(a, b):
    sa, sb = _release_state(a), _release_state(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    la, lb = a.log.drop(columns="elapsed_s"), b.log.drop(columns="elapsed_s")
    assert la.equals(lb)
    assert a.val == b.val


@pytest.fixture(scope="module")
def reference_run(small_pool, tmp_path_factory):
    """One uninterrupted tiny run, the yardstick of the resume tests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path_factory.mktemp("ref")))
    try:
        yield train(_config(small_pool), progress=False)
    finally:
        mp.undo()


def test_uninterrupted_run_is_released_and_registered(reference_run):
    from dlic_lib.checkpoints import find_checkpoint

    r = reference_run
    assert r.finished and r.step == 6
    assert (r.run_dir / "release.pt").is_file() and (r.run_dir / "log.csv").is_file()
    import pandas as pd

    assert pd.read_parquet(r.run_dir / "log.parquet").drop(columns="elapsed_s").equals(r.log.drop(columns="elapsed_s"))
    train_rows = r.log[r.log.split == "train"]
    assert list(train_rows.step) == [1, 2, 3, 4, 5, 6]
    assert list(r.log[r.log.split == "val"].step) == [3, 6]
    assert {"model", "metric", "lmbda", "quality", "N", "M", "profile"} <= set(r.log.columns)
    assert r.val["bpp"] > 0 and 0 < r.val["psnr"] < 60 and r.val["images"] == 1
    assert r.entry.quality == 3 and r.entry.config["steps"] == 6 and r.entry.val == r.val


def test_stop_and_resume_is_bit_identical(reference_run, small_pool, tmp_path, monkeypatch):
    _use_dir(monkeypatch, tmp_path, "stopped")
    part = train(_config(small_pool), progress=False, max_steps_this_run=3)
    assert not part.finished and part.step == 3 and part.entry is None
    with pytest.raises(DlicError, match="--resume"):
        train(_config(small_pool), progress=False, resume=False)
    done = train(_config(small_pool), progress=False)
    assert done.finished and done.step == 6
    _assert_same_run(reference_run, done)


def test_signal_stops_after_a_checkpoint_and_resumes_identically(reference_run, small_pool, tmp_path, monkeypatch):
    from dlic_lib.train import loss as loss_module

    _use_dir(monkeypatch, tmp_path, "signalled")
    original, calls = loss_module.RateDistortionLoss.forward, {"n": 0}

    def forward(self, output, target):
        if output["x_hat"].requires_grad:
            calls["n"] += 1
            if calls["n"] == 4:
                os.kill(os.getpid(), signal.SIGTERM)
        return original(self, output, target)

    monkeypatch.setattr(loss_module.RateDistortionLoss, "forward", forward)
    with pytest.raises(KeyboardInterrupt):
        train(_config(small_pool), progress=False)
    monkeypatch.setattr(loss_module.RateDistortionLoss, "forward", original)
    state = torch.load(run_dir_for(_config(small_pool)) / "state.pt", weights_only=False)
    assert not state["finished"] and state["step"] == 4  # step 4 was completed, then the stop was honoured
    _assert_same_run(reference_run, train(_config(small_pool), progress=False))


def test_sigkilled_process_resumes_identically(reference_run, small_pool, tmp_path, monkeypatch):
    """A separate process is killed (SIGKILL) in the middle of step 5; step 5 is redone on resume."""
    _use_dir(monkeypatch, tmp_path, "killed")
    script = textwrap.dedent(f"""
        import os, signal
        from dlic_lib.train import TrainConfig, train, loss
        calls = {{"n": 0}}
        original = loss.RateDistortionLoss.forward
        def forward(self, output, target):
            if output["x_hat"].requires_grad:
                calls["n"] += 1
                if calls["n"] == 5:
                    os.kill(os.getpid(), signal.SIGKILL)
            return original(self, output, target)
        loss.RateDistortionLoss.forward = forward
        train(TrainConfig.from_profile("smoke", data={str(small_pool)!r}, **{TINY!r}), progress=False)
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    state = torch.load(run_dir_for(_config(small_pool)) / "state.pt", weights_only=False)
    assert state["step"] == 4 and not state["finished"]
    _assert_same_run(reference_run, train(_config(small_pool), progress=False))


def test_finished_run_is_not_retrained(reference_run, small_pool, monkeypatch):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(reference_run.run_dir.parent.parent))
    mtime = (reference_run.run_dir / "release.pt").stat().st_mtime_ns
    again = train(_config(small_pool), progress=False, resume=False)
    assert again.finished and again.step == 6 and again.entry is not None
    assert (reference_run.run_dir / "release.pt").stat().st_mtime_ns == mtime


def test_training_lowers_the_loss(small_pool, tmp_path, monkeypatch):
    _use_dir(monkeypatch, tmp_path, "learn")
    r = train(_config(small_pool, steps=16, lr=3e-3, val_every=16, log_every=4, ckpt_every=16, N=16, M=16), progress=False)
    losses = r.log[r.log.split == "train"].loss.to_numpy()
    assert len(losses) == 4 and losses[-1] < 0.5 * losses[0]


def test_fp16_release_keeps_entropy_models_in_fp32(small_pool, tmp_path, monkeypatch):
    _use_dir(monkeypatch, tmp_path, "fp16")
    r = train(_config(small_pool, steps=2, ckpt_every=2, val_every=2, release_dtype="fp16"), progress=False)
    state = _release_state(r)
    assert state["g_a.0.weight"].dtype == torch.float16
    assert state["entropy_bottleneck.quantiles"].dtype == torch.float32
    assert state["entropy_bottleneck._quantized_cdf"].numel() > 0


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(crop=40), "multiple of 16"),
        (dict(metric="ms-ssim", lmbda=8.73), "161"),
        (dict(steps=0), "steps"),
        (dict(lr=-1.0), "lr"),
        (dict(model="nope"), "unknown model"),
        (dict(release_dtype="int8"), "release_dtype"),
        (dict(M=9, model="cheng2020-anchor", crop=64), "single channel size"),
        (dict(model="bmshj2018-hyperprior", crop=48), "multiple of 64"),
    ],
)
def test_bad_settings_are_clear_errors(small_pool, kw, match, tmp_path, monkeypatch):
    _use_dir(monkeypatch, tmp_path, "bad")
    with pytest.raises(DlicError, match=match):
        train(_config(small_pool, **kw), progress=False)


def test_unknown_profile_or_setting():
    with pytest.raises(DlicError, match="profile"):
        TrainConfig.from_profile("huge")
    with pytest.raises(DlicError, match="unknown training setting"):
        TrainConfig.from_profile("smoke", epochs=3)


@pytest.mark.parametrize("native", [False, True])
def test_cpu_mixed_precision_follows_native_bf16(native, small_pool, tmp_path, monkeypatch):
    """bfloat16 autocast is the default where the CPU computes bfloat16 natively; either way can be forced."""
    import dlic_lib.device

    monkeypatch.setattr(dlic_lib.device, "native_bf16", lambda device: native)
    _use_dir(monkeypatch, tmp_path, f"amp-default-{native}")
    default = train(_config(small_pool, steps=2, ckpt_every=2, val_every=2), progress=False)
    assert default.entry.config["amp"] is native and default.entry.config["channels_last"] is True
    _use_dir(monkeypatch, tmp_path, f"amp-forced-{native}")
    forced = train(_config(small_pool, steps=2, ckpt_every=2, val_every=2), progress=False, amp=not native)
    assert forced.entry.config["amp"] is (not native)
    assert _release_state(forced)["entropy_bottleneck.quantiles"].dtype == torch.float32
    assert not torch.equal(_release_state(default)["g_a.0.weight"], _release_state(forced)["g_a.0.weight"])


@pytest.mark.parametrize("model", ["bmshj2018-hyperprior", "mbt2018-mean"])
def test_hyperprior_models_train_and_release(model, small_pool, tmp_path, monkeypatch):
    _use_dir(monkeypatch, tmp_path, model)
    r = train(_config(small_pool, model=model, steps=2, ckpt_every=2, val_every=2, crop=64), progress=False)
    assert r.finished and r.entry.model == model and r.val["bpp"] > 0
    assert np.isfinite(r.log.loss).all()


def test_entropy_models_stay_fp32_under_autocast():
    """Under bfloat16 autocast the transforms run in reduced precision, the entropy models in float32."""
    from dlic_lib.train.tasks.rd import entropy_models_in_fp32 as _entropy_models_in_fp32
    from dlic_lib.models import build_model

    torch.manual_seed(0)
    net = build_model("bmshj2018-hyperprior", N=8, M=12).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        plain = net(x)
        _entropy_models_in_fp32(net)
        same = net(x)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            mixed = net(x)
    for key in plain["likelihoods"]:
        assert torch.equal(plain["likelihoods"][key], same["likelihoods"][key])
        assert mixed["likelihoods"][key].dtype == torch.float32
    assert mixed["x_hat"].dtype == torch.bfloat16  # the transforms did run in reduced precision


def test_ms_ssim_training(mirror_dir, tmp_path, monkeypatch):
    _use_dir(monkeypatch, tmp_path, "msssim")
    files = [str(mirror_dir / "wikimedia-photos" / f"00{i}.png") for i in (1, 2, 3)]
    config = TrainConfig.from_profile("smoke", data=files, max_side=400, metric="ms-ssim", lmbda=8.73, steps=2, N=8, M=8, batch=1,
                                      ckpt_every=2, val_every=2, log_every=1, val_crop=64)
    assert config.crop == 192  # the smoke crop is too small for 5-scale MS-SSIM (and 192 suits every stride)
    r = train(config, progress=False)
    train_rows = r.log[r.log.split == "train"]
    assert r.entry.metric == "ms-ssim" and r.entry.quality == 3
    assert ((train_rows.ms_ssim > 0) & (train_rows.ms_ssim <= 1)).all()


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="needs Linux /proc/cpuinfo")
def test_native_bf16_on_cpu_matches_the_cpu_flags():
    from dlic_lib.device import native_bf16

    flags = {word for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags") for word in line.split()}
    assert native_bf16("cpu") is bool(flags & {"avx512_bf16", "amx_bf16"})
