"""``proxiqa_vmaf``: the proxy as a metric, from a release file or the checkpoint zoo, in compute() and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dlic_lib.errors import DlicError
from dlic_lib.metrics import compute
from dlic_lib.metrics.proxiqa import proxiqa_vmaf
from dlic_lib.models.proxiqa import ProxIQA


@pytest.fixture()
def proxy_release(tmp_path):
    from dlic_lib.zoo import RELEASE_FORMAT

    torch.manual_seed(3)
    net = ProxIQA(32)
    with torch.no_grad():
        net.head.bias.fill_(50.0)
    path = tmp_path / "proxy.pt"
    state = net.state_dict()
    torch.save({"format": RELEASE_FORMAT, "settings": {"proxy": "pretrain", "patch": 32}, "proxy": state, "state_dict": state}, path)
    return path, net.eval()


def _pair(kodim_crop):
    rng = np.random.default_rng(0)
    dist = np.clip(kodim_crop.astype(int) + rng.integers(-30, 31, kodim_crop.shape), 0, 255).astype(np.uint8)
    return kodim_crop, dist


def test_score_is_the_tile_mean_of_the_network(proxy_release, kodim_crop):
    path, net = proxy_release
    ref, dist = _pair(kodim_crop)
    got = proxiqa_vmaf(ref, dist, checkpoint=path)
    x = torch.from_numpy(ref).permute(2, 0, 1)[None].float() / 255
    y = torch.from_numpy(dist).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        expected = net.score_image(x, y)
    assert got.shape == (1,) and got.dtype == torch.float64
    assert float(got[0]) == pytest.approx(float(expected[0]), abs=1e-4)
    # the same pair as floats in [0, 1]
    assert float(proxiqa_vmaf(x, y, data_range=1.0, checkpoint=path)[0]) == pytest.approx(float(got[0]), abs=1e-4)


def test_in_compute_and_the_cli_through_the_zoo(proxy_release, kodim_crop, tmp_path, capsys):
    from PIL import Image

    from dlic_lib import zoo
    from dlic_lib.cli import main
    from dlic_lib.data import sha256_file

    path, _ = proxy_release
    ref, dist = _pair(kodim_crop)
    table = compute(ref, dist, metrics=["proxiqa_vmaf", "psnr_y"], options={"proxiqa_vmaf": {"checkpoint": str(path)}})
    direct = float(proxiqa_vmaf(ref, dist, checkpoint=path)[0])
    assert table["proxiqa_vmaf"].iloc[0] == pytest.approx(direct)
    with pytest.raises(DlicError, match="proxiqa"):  # nothing registered yet: the error names the task
        proxiqa_vmaf(ref, dist)
    zoo.register(zoo.ZooEntry(architecture="proxiqa", task="proxiqa", objective="vmaf", rate_key={}, path=path,
                              sha256=sha256_file(path), build={"patch": 32}))  # fmt: skip
    Image.fromarray(ref).save(tmp_path / "ref.png")
    Image.fromarray(dist).save(tmp_path / "dist.png")
    assert main(["metrics", str(tmp_path / "ref.png"), str(tmp_path / "dist.png"), "--metrics", "proxiqa_vmaf", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["proxiqa_vmaf"] == pytest.approx(direct, abs=1e-6)


def test_bad_inputs(proxy_release, tmp_path):
    path, _ = proxy_release
    small = np.zeros((16, 40, 3), np.uint8)
    with pytest.raises(DlicError, match="at least 32"):
        proxiqa_vmaf(small, small, checkpoint=path)
    with pytest.raises(DlicError, match="not found"):
        proxiqa_vmaf(small, small, checkpoint=tmp_path / "missing.pt")
