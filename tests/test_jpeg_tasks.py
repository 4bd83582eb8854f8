"""Training tasks of the CNN-around-JPEG chapter: losses, chaining of stages, release, resumption after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from dlic_lib import zoo
from dlic_lib.errors import DlicError
from dlic_lib.train.task import Trainer
from dlic_lib.train.tasks.jpeg_cnn import FakeCodecTask, PipelineTask, jpeg_roundtrip, rate_weight
from dlic_lib.train.tasks.jpeg_cnn_data import LumaPool, PatchSampler, luma_files


def small(**kw):
    files = dict(train_files=[str(p) for p in luma_files("train")[:2]], val_files=[str(luma_files("val")[0])],
                 val_crop=64, max_side=256, profile="smoke")
    return {**files, **kw}


def fit(task, **kw):
    return Trainer(task, progress=False, device="cpu", amp=False, **kw).fit()


def fake_task(steps=6, **kw):
    return FakeCodecTask(**small(variant="block-dct", width=0.125, patch=16, batch=4, steps=steps, lr=1e-3,
                                 ckpt_every=2, val_every=100, **kw))


def test_fakecodec_targets_are_real_jpeg_crops():
    pool = LumaPool.load(luma_files("train")[:1], 256)
    sampler = PatchSampler(pool, 16, 3, seed=1, aligned=8, target_quality=10)
    x, target = sampler.next_batch()
    assert x.shape == target.shape == (3, 1, 16, 16)
    # each target equals the JPEG of its own crop (8×8-aligned: blocks are coded independently)
    again = jpeg_roundtrip(x, 10)
    assert torch.equal(again, target)
    state = sampler.state_dict()
    a = sampler.next_batch()[0]
    sampler.load_state_dict(state)
    assert torch.equal(a, sampler.next_batch()[0])


def test_rate_weight_is_the_thesis_normalisation():
    assert rate_weight(1e-7, 16, 96) == pytest.approx(1e-7)
    assert rate_weight(1e-7, 8, 64) == pytest.approx(4.5e-7)  # the quick profile's ×4.5


def test_fakecodec_run_releases_and_registers(monkeypatch, tmp_path):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))
    task = fake_task(steps=20)
    task.log_every = 5
    result = fit(task)
    assert result.finished and {"psnr", "ssim"} <= set(result.val)
    entry = zoo.find("fakecodec-block-dct", task="jpeg-cnn-fakecodec", rate_key={"qf": 10})
    assert entry is not None and entry.build["width"] == 0.125
    net = zoo.load_model(entry)
    assert net(torch.rand(1, 1, 16, 16)).shape == (1, 1, 16, 16)
    losses = result.log[result.log.split == "train"].loss.to_numpy()
    assert len(losses) == 4 and losses[-1] < losses[0]


def test_killed_fakecodec_run_resumes_bit_identically(monkeypatch, tmp_path):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "reference"))
    reference = fit(fake_task())
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "killed"))
    script = textwrap.dedent(f"""
        import os, signal, torch
        from dlic_lib.train.task import Trainer
        from dlic_lib.train.tasks.jpeg_cnn import FakeCodecTask
        kw = {small(variant="block-dct", width=0.125, patch=16, batch=4, steps=6, lr=1e-3, ckpt_every=2, val_every=100)!r}
        class Killed(FakeCodecTask):
            def train_step(self, batch, trainer):
                if trainer.step == 4:  # inside step 5: the state of step 4 is on disk
                    os.kill(os.getpid(), signal.SIGKILL)
                return super().train_step(batch, trainer)
        Trainer(Killed(**kw), progress=False, device="cpu", amp=False).fit()
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run_dir = tmp_path / "killed" / "runs" / reference.run_dir.name
    assert sorted(p.name for p in run_dir.iterdir()) == ["log.csv", "state.pt"]
    assert torch.load(run_dir / "state.pt", weights_only=False)["step"] == 4
    resumed = fit(fake_task())
    a = torch.load(reference.run_dir / "release.pt", weights_only=True)["state_dict"]
    b = torch.load(resumed.run_dir / "release.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert reference.log.drop(columns="elapsed_s").equals(resumed.log.drop(columns="elapsed_s"))


def test_pipeline_stages_chain_and_feed_the_codecs(monkeypatch, tmp_path, kodim_crop):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))
    kw = small(width=0.125, patch=32, batch=4, steps=4, lr=1e-3, val_every=100)
    s1 = fit(PipelineTask(stage="s1", **kw))
    s2 = fit(PipelineTask(stage="s2", init={"sr": s1.run_dir / "release.pt"}, **kw))
    s3 = fit(PipelineTask(stage="s3", init={"cr": s2.run_dir / "release.pt", "sr": s2.run_dir / "release.pt"}, **kw))
    assert s3.log.guidance.iloc[0] == 0.7 and "guidance_mse" in s3.log.columns  # CNN-YL's S3 has the 0.7 bicubic guidance term
    s4 = fit(PipelineTask(stage="s4", quality=25, init={"cr": s3.run_dir / "release.pt", "sr": s3.run_dir / "release.pt"}, **kw))
    rd = fit(PipelineTask(stage="s3", pipeline="cnn-rd", quality=25, lmbda=1e-7,
                          init={"cr": s2.run_dir / "release.pt", "sr": s2.run_dir / "release.pt"}, **kw))
    assert "rate_count" in rd.log.columns and "guidance_mse" not in rd.log.columns
    assert rd.entry.rate_key == {"qf": 25, "lmbda": 1e-7}
    fake = fit(fake_task(steps=2, quality=25))
    fc = fit(PipelineTask(stage="fc", pipeline="cnn-fc-block-dct", quality=25,
                          init={"cr": s3.run_dir / "release.pt", "sr": s4.run_dir / "release.pt", "fake": fake.run_dir / "release.pt"}, **kw))
    assert fc.entry.architecture == "cnn-cr" and fc.entry.rate_key == {"qf": 25}
    # S4 did not change the CR it started from; the SR it releases differs from S3's
    s3_nets = torch.load(s3.run_dir / "release.pt", weights_only=True)["nets"]
    s4_nets = torch.load(s4.run_dir / "release.pt", weights_only=True)["nets"]
    assert all(torch.equal(s3_nets["cr"][k], s4_nets["cr"][k]) for k in s3_nets["cr"])
    assert not all(torch.equal(s3_nets["sr"][k], s4_nets["sr"][k]) for k in s3_nets["sr"])
    from dlic_lib.codecs import get_codec

    for name in ("cnn-yl", "cnn-fc-block-dct"):
        coded = get_codec(name, profile="smoke").encode(kodim_crop[:64, :64], 25, use_cache=False)
        assert coded.bpp > 0 and coded.weights.startswith("dlic-checkpoint:")
    with pytest.raises(DlicError, match="starts from"):
        PipelineTask(stage="s3", init={"cr": s2.run_dir / "release.pt"}, **kw)
    assert np.isfinite(s4.val["psnr"]) and s4.val["bpp"] > 0


def test_identity_init_starts_at_the_skip_paths():
    from dlic_lib.jpeg.resample import downscale2, upscale2

    task = FakeCodecTask(**small(variant="frame", width=0.125, identity_init=True))
    fake = task.build(None)["fake"]
    x = torch.rand(1, 1, 16, 16)
    assert torch.equal(fake(x), x)
    pipe = PipelineTask(stage="s1", **small(width=0.125, identity_init=True))
    sr = pipe.build(None)["sr"]
    assert torch.allclose(sr(downscale2(x)), upscale2(downscale2(x)))
    assert PipelineTask(stage="s1", **small(width=0.125)).run_id() != pipe.run_id()
