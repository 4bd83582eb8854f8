"""The ProxIQA network: paper's parameter count, input checks, tiled image scores."""

from __future__ import annotations

import pytest
import torch

from dlic_lib.models import build_model, param_count
from dlic_lib.models.proxiqa import ProxIQA, proxiqa_param_count


def test_paper_parameter_count():
    # notes on seed 004 (B0): 3 stages 5×5 (16, 32, 64) + dense from 16·16·64 → 82,897 at 128²
    net = ProxIQA(128)
    assert param_count(net) == 82_897 == proxiqa_param_count(128)
    assert net.head.in_features == 16 * 16 * 64


def test_ms_ssim_patch_size_flattens_24x24x64():
    net = build_model("proxiqa", patch=192)
    assert net.head.in_features == 24 * 24 * 64
    assert param_count(net) == proxiqa_param_count(192)


def test_output_is_one_unclipped_score_per_pair():
    torch.manual_seed(0)
    net = ProxIQA(32)
    with torch.no_grad():
        net.head.bias.fill_(150.0)  # nothing clips the output to 0–100
        s = net(torch.rand(3, 3, 32, 32), torch.rand(3, 3, 32, 32))
    assert s.shape == (3,) and torch.all(s > 100)


def test_bad_inputs_refused():
    with pytest.raises(ValueError, match="multiple of 8"):
        ProxIQA(100)
    with pytest.raises(ValueError, match="expects two"):
        ProxIQA(32)(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 64, 64))


def test_score_image_is_the_mean_over_tiles():
    torch.manual_seed(2)
    net = ProxIQA(16).eval()
    ref, dist = torch.rand(2, 3, 40, 50), torch.rand(2, 3, 40, 50)
    with torch.no_grad():
        got = net.score_image(ref, dist)
        for b in range(2):
            tiles = [net(ref[b:b + 1, :, i:i + 16, j:j + 16], dist[b:b + 1, :, i:i + 16, j:j + 16])
                     for i in (0, 16) for j in (0, 16, 32)]
            assert float(got[b]) == pytest.approx(float(torch.cat(tiles).mean()), abs=1e-5)
