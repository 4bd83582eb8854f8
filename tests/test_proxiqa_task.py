"""ProxIQA training: alternation order, the five modes, and bit-identical resumption after SIGKILL."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from dlic_lib.errors import DlicError
from dlic_lib.train.task import Trainer
from dlic_lib.train.tasks.proxiqa import ProxiqaSettings, ProxiqaTask, true_scores

TINY = dict(N=8, patch=32, batch=4, anchors=1, steps=3, val_patches=1, scale_range=(1.0, 1.0))


@pytest.fixture(scope="module")
def train_folder(tmp_path_factory, mirror_dir):
    """Three 96² crops of Commons photos (never Kodak) as a training folder."""
    from PIL import Image

    from dlic_lib.data import read_image

    folder = tmp_path_factory.mktemp("proxiqa-train")
    for name in ("001", "002", "003"):
        im = read_image(mirror_dir / "wikimedia-photos" / f"{name}.png")
        Image.fromarray(np.ascontiguousarray(im[100:196, 100:196])).save(folder / f"{name}.png")
    return str(folder)


def _params(net) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


class Recording(ProxiqaTask):
    """Records what each part of a step changed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events: list[tuple] = []
        self.last_recon = None

    def codec_step(self, x, trainer):
        before = (_params(trainer.nets["codec"]), _params(trainer.nets["proxy"]))
        x_hat, values = super().codec_step(x, trainer)
        self.events.append(("codec", not _same(before[0], _params(trainer.nets["codec"])),
                            _same(before[1], _params(trainer.nets["proxy"]))))  # fmt: skip
        self.last_recon = x_hat
        return x_hat, values

    def label(self, x, x_hat):
        self.events.append(("label", self.last_recon is not None and torch.equal(x_hat, self.last_recon)))
        distorted, labels = super().label(x, x_hat)
        self.pairs = (x, distorted, labels)
        return distorted, labels

    def proxy_step(self, x, distorted, labels, trainer):
        before = (_params(trainer.nets["codec"]), _params(trainer.nets["proxy"]))
        out = super().proxy_step(x, distorted, labels, trainer)
        self.events.append(("proxy", _same(before[0], _params(trainer.nets["codec"])),
                            not _same(before[1], _params(trainer.nets["proxy"]))))  # fmt: skip
        return out


def test_alternation_order_codec_then_labels_then_proxy(train_folder, tmp_path):
    task = Recording(ProxiqaSettings(proxy="alternating", data=train_folder, **TINY))
    result = Trainer(task, runs_dir=tmp_path, register=False, progress=False).fit()
    assert result.finished and result.step == 3
    # per step: codec updated with the proxy untouched; labels of exactly that reconstruction;
    # proxy updated with the codec untouched
    assert task.events == [("codec", True, True), ("label", True), ("proxy", True, True)] * 3
    x, distorted, labels = task.pairs
    assert torch.equal(distorted[-1], x[-1]) and float(labels[-1]) == 97.0  # pristine anchor
    expected = true_scores("vmaf", x[:-1].cpu(), distorted[:-1].cpu())
    assert torch.allclose(labels[:-1].cpu(), expected)  # real libvmaf labels
    log = result.log
    assert {"proxy_mse", "bpp", "loss", "true_vmaf", "proxy_vmaf"} <= set(log.columns)


def test_warmup_steps_train_only_the_proxy(train_folder, tmp_path):
    task = Recording(ProxiqaSettings(proxy="alternating", proxy_warmup=2, data=train_folder, **{**TINY, "steps": 1}))
    Trainer(task, runs_dir=tmp_path, register=False, progress=False).fit()
    kinds = [e[0] for e in task.events]
    assert kinds == ["label", "proxy", "label", "proxy", "codec", "label", "proxy"]


def test_frozen_proxy_never_changes_and_pretrain_trains_only_the_proxy(train_folder, tmp_path):
    pre = Trainer(ProxiqaTask(ProxiqaSettings(proxy="pretrain", data=train_folder, **TINY)),
                  runs_dir=tmp_path, register=False, progress=False).fit()  # fmt: skip
    blob = torch.load(pre.run_dir / "release.pt", weights_only=False)
    assert set(blob) == {"format", "settings", "proxy", "state_dict"} and blob["settings"]["proxy"] == "pretrain"
    frozen = ProxiqaTask(ProxiqaSettings(proxy="frozen", alpha=1.0, init_proxy=str(pre.run_dir / "release.pt"),
                                         data=train_folder, **TINY))  # fmt: skip
    trainer = Trainer(frozen, runs_dir=tmp_path, register=False, progress=False)
    res = trainer.fit()
    after = torch.load(res.run_dir / "release.pt", weights_only=False)
    for k, v in blob["proxy"].items():
        assert torch.equal(v, after["proxy"][k])
    assert "proxy" not in trainer.optimizers and "g_a.0.weight" in after["state_dict"]
    from dlic_lib.train.tasks.proxiqa import load_release

    codec, proxy, settings = load_release(res.run_dir / "release.pt")
    assert settings["proxy"] == "frozen" and codec.N == 8 and proxy.patch == 32
    assert frozen.objective() == "vmaf_p_frozen"


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_direct_ssim_training_uses_the_metric_and_optionally_the_pixel_loss(train_folder, tmp_path, alpha):
    task = ProxiqaTask(ProxiqaSettings(proxy="direct", target="ssim", alpha=alpha, data=train_folder, **TINY))
    trainer = Trainer(task, runs_dir=tmp_path, register=False, progress=False)
    trainer.fit()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        parts = task._distortion(x, (x + 0.05).clamp(0, 1), trainer)
    from dlic_lib.metrics import ssim

    score = 100 * ssim(x, (x + 0.05).clamp(0, 1), data_range=1.0).float().mean()
    assert float(parts["score"]) == pytest.approx(float(score), rel=1e-5)
    expected = alpha * (100 - score) + (1 - alpha) * 255**2 * torch.mean(((x + 0.05).clamp(0, 1) - x) ** 2)
    assert float(parts["dist"]) == pytest.approx(float(expected), rel=1e-4)


def test_ssim_labels_are_the_library_metric_times_100():
    x = torch.rand(2, 3, 32, 32)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    from dlic_lib.metrics import ssim

    r8, d8 = (t.mul(255).round() for t in (x, y))
    assert torch.allclose(true_scores("ssim", x, y), 100 * ssim(r8, d8, data_range=255.0).float())


@pytest.mark.parametrize("bad,match", [
    (dict(proxy="magic"), "proxy must be"), (dict(target="psnr"), "target must be"),
    (dict(proxy="direct", target="vmaf"), "differentiable"), (dict(proxy="frozen"), "init_proxy"),
    (dict(anchors=8), "anchors"), (dict(target="ms_ssim", patch=128), "161"), (dict(colour=1), "unknown"),
])  # fmt: skip
def test_bad_settings_refused(bad, match):
    with pytest.raises(DlicError, match=match):
        ProxiqaTask(ProxiqaSettings(), **bad)


_RUN = textwrap.dedent("""
    import os, signal, sys
    from dlic_lib.train.task import Trainer
    from dlic_lib.train.tasks.proxiqa import ProxiqaSettings, ProxiqaTask

    class Killed(ProxiqaTask):
        def train_step(self, batch, trainer):
            if trainer.step == int(sys.argv[3]):
                os.kill(os.getpid(), signal.SIGKILL)
            return super().train_step(batch, trainer)

    s = ProxiqaSettings(proxy="alternating", data=sys.argv[1], proxy_warmup=1, N=8, patch=32, batch=4, steps=5,
                        val_patches=1, scale_range=(1.0, 1.5))
    task = Killed(s)
    task.ckpt_every, task.log_every, task.val_every = 2, 2, 3
    Trainer(task, runs_dir=sys.argv[2], register=False, progress=False, amp=True).fit()
""")


def test_killed_alternating_run_resumes_bit_identical(train_folder, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(_RUN)
    runs = {}
    for label, kill_at in (("killed", 5), ("straight", 99)):
        folder = tmp_path / label
        proc = subprocess.run([sys.executable, str(script), train_folder, str(folder), str(kill_at)],
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        if label == "killed":
            assert proc.returncode == -9, proc.stderr[-2000:]
            (run_dir,) = list(folder.iterdir())
            assert torch.load(run_dir / "state.pt", weights_only=False)["step"] == 4
            assert not (run_dir / "release.pt").exists()
            proc = subprocess.run([sys.executable, str(script), train_folder, str(folder), "99"],
                                  capture_output=True, text=True, timeout=600)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        (run_dir,) = list(folder.iterdir())
        runs[label] = torch.load(run_dir / "state.pt", weights_only=False)
    a, b = runs["killed"], runs["straight"]
    assert a["step"] == b["step"] == 6 and a["finished"] and b["finished"]
    assert set(a["nets"]) == {"codec", "proxy"} and set(a["optimizers"]) == {"codec", "aux", "proxy"}
    for net in a["nets"]:
        for key, value in a["nets"][net].items():
            assert torch.equal(value, b["nets"][net][key]), f"{net}.{key}"
    for opt in a["optimizers"]:
        for idx, st in a["optimizers"][opt]["state"].items():
            for key, value in st.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b["optimizers"][opt]["state"][idx][key]))
    cols = ("loss", "bpp", "proxy_mse", "label", "true_vmaf", "proxy_vmaf")
    rows = lambda s: [{k: r.get(k) for k in cols if k in r} for r in s["log_rows"]]  # noqa: E731
    assert rows(a) == rows(b)
