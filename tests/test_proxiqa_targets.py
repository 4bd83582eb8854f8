"""SSIM_p / MS-SSIM_p labels are the library's metrics; BMSHJ trains with the same task; releases name their profile."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlic_lib.metrics import ms_ssim, ssim
from dlic_lib.train.task import Trainer
from dlic_lib.train.tasks.proxiqa import ProxiqaSettings, ProxiqaTask, load_release, true_scores


def _pairs(n: int, size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, size, size, generator=g)
    y = (x + 0.08 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    return x, y


@pytest.mark.parametrize("target,metric,size", [("ssim", ssim, 48), ("ms_ssim", ms_ssim, 176)])
def test_labels_equal_the_library_metric_of_each_pair_alone(target, metric, size):
    x, y = _pairs(3, size)
    labels = true_scores(target, x, y)
    assert labels.shape == (3,)
    for i in range(3):  # the same pair as 8-bit images (H, W, 3), scored on its own
        ref = x[i].mul(255).round().byte().permute(1, 2, 0).numpy()
        dist = y[i].mul(255).round().byte().permute(1, 2, 0).numpy()
        alone = 100 * float(metric(ref, dist, data_range=255.0))
        assert float(labels[i]) == pytest.approx(alone, abs=1e-4)
    # a batch's order does not change a label; labels fall with the distortion
    assert torch.allclose(true_scores(target, x.flip(0), y.flip(0)), labels.flip(0))
    worse = (x + 0.3 * (y - x).sign()).clamp(0, 1)
    assert (true_scores(target, x, worse) < labels).all()


@pytest.fixture(scope="module")
def train_folder(tmp_path_factory, mirror_dir):
    from PIL import Image

    from dlic_lib.data import read_image

    folder = tmp_path_factory.mktemp("proxiqa-targets")
    for name in ("001", "002"):
        im = read_image(mirror_dir / "wikimedia-photos" / f"{name}.png")
        Image.fromarray(np.ascontiguousarray(im[:128, :128])).save(folder / f"{name}.png")
    return str(folder)


def test_bmshj_alternating_run_releases_a_hyperprior_in_the_zoo(train_folder, tmp_path):
    from compressai.models import ScaleHyperprior

    from dlic_lib import zoo

    s = ProxiqaSettings(architecture="bmshj2018-hyperprior", proxy="alternating", target="ssim", N=8, patch=64, batch=2,
                        steps=2, proxy_warmup=1, val_patches=1, scale_range=(1.0, 1.0), data=train_folder, profile="smoke")  # fmt: skip
    task = ProxiqaTask(s)
    result = Trainer(task, runs_dir=tmp_path, progress=False, amp=False).fit()
    codec, proxy, settings = load_release(result.run_dir / "release.pt")
    assert isinstance(codec, ScaleHyperprior) and proxy is not None and settings["architecture"] == "bmshj2018-hyperprior"
    entry = zoo.find("bmshj2018-hyperprior", task="proxiqa", objective="ssim_p", profile="smoke")
    assert entry is not None and entry.build == {"N": 8, "M": 8} and entry.rate_key == {"lmbda": s.lmbda, "alpha": 0.5}
    assert zoo.load_model(entry).N == 8
    log = task.describe()
    assert log.startswith("BMSHJ ssim_p")


def test_unknown_architecture_refused():
    from dlic_lib.errors import DlicError

    with pytest.raises(DlicError, match="architecture must be one of"):
        ProxiqaTask(ProxiqaSettings(architecture="cheng2020"))


def test_runs_made_before_m_existed_keep_their_ids():
    assert ProxiqaTask(ProxiqaSettings()).run_id() == "proxiqa-931c19225f"
    assert ProxiqaTask(ProxiqaSettings(architecture="bmshj2018-hyperprior", N=8)).run_id() == "proxiqa-b0b96f87c6"
    assert ProxiqaTask(ProxiqaSettings(architecture="mbt2018-mean", N=8, M=12)).run_id() != "proxiqa-b0b96f87c6"


def test_chapter2_mean_scale_release_is_fine_tuned_and_coded_exactly(train_folder, tmp_path, monkeypatch, kodim_crop):
    """The C43 stand-in: a chapter-2 MSE release (rd task, float16 weights) → VMAF_p-style fine-tune → both coded."""
    from compressai.models import MeanScaleHyperprior

    from dlic_lib.codecs import LearnedCodec
    from dlic_lib.errors import DlicError
    from dlic_lib.studies import proxiqa as study
    from dlic_lib.train import train_ladder

    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "zoo"))
    (base,) = train_ladder("mbt2018-mean", qualities=[1], profile="smoke", progress=False)
    start = base.run_dir / "release.pt"
    s = ProxiqaSettings(architecture="mbt2018-mean", N=16, M=24, proxy="alternating", target="ssim", patch=64, batch=2,
                        steps=2, proxy_warmup=1, val_patches=1, scale_range=(1.0, 1.0), data=train_folder,
                        init_codec=str(start), profile="smoke")  # fmt: skip
    task = ProxiqaTask(s)
    assert task.describe().startswith("MSH ssim_p")
    result = Trainer(task, runs_dir=tmp_path / "runs", progress=False, amp=False).fit()
    tuned, proxy, settings = load_release(result.run_dir / "release.pt")
    assert isinstance(tuned, MeanScaleHyperprior) and proxy is not None and settings["M"] == 24
    w0 = torch.load(start, weights_only=True)["state_dict"]["g_a.0.weight"].float()
    assert 0 < (tuned.g_a[0].weight.detach() - w0).abs().max() < 0.05  # started from the release, then moved
    image = kodim_crop[:64, :96]
    for path in (start, result.run_dir / "release.pt"):
        codec = study.release_codec(path)
        assert isinstance(codec, LearnedCodec) and codec.name == "mbt2018-mean"
        coded = codec.encode(image, use_cache=False)
        assert np.array_equal(codec.decode(coded.data), coded.decoded) and coded.bpp > 0
    with pytest.raises(DlicError, match="M applies to the hyperprior codecs"):
        ProxiqaTask(ProxiqaSettings(M=8))
