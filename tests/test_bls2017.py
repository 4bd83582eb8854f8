"""BLS (Ballé 2017) as the ProxIQA paper uses it: sizes, registry, real rANS bitstreams."""

from __future__ import annotations

import math

import pytest
import torch

from dlic_lib.models import build_model, model_names, param_count
from dlic_lib.models.bls2017 import BLS2017, density_param_count, transform_param_count


def _transform_params(net: BLS2017) -> int:
    return param_count(net.g_a) + param_count(net.g_s)


def test_paper_size_parameter_counts():
    # notes on seed 004 (B0): 3,928,707 transform parameters at N = 192; the density model adds
    # 43·N with tensorflow-compression's filters (3, 3, 3), plus CompressAI's 3·N quantiles
    net = BLS2017(192)
    assert _transform_params(net) == 3_928_707 == transform_param_count(192)
    eb = param_count(net.entropy_bottleneck)
    assert eb == 43 * 192 + 3 * 192 == density_param_count(192)
    assert param_count(net) == 3_928_707 + 46 * 192


def test_compressai_default_filters_add_58_per_channel():
    net = BLS2017(8, filters=(3, 3, 3, 3))
    assert param_count(net.entropy_bottleneck) == (58 + 3) * 8 == density_param_count(8, (3, 3, 3, 3))


@pytest.mark.parametrize("N,M", [(16, 16), (24, 8)])
def test_layer_formula_matches_any_size(N, M):
    assert _transform_params(BLS2017(N, M)) == transform_param_count(N, M)


def test_layers_follow_the_tfc_example():
    net = BLS2017(16)
    convs = [m for m in net.g_a if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size[0], c.stride[0]) for c in convs] == [(9, 4), (5, 2), (5, 2)]
    assert convs[-1].bias is None  # last analysis layer: no bias, no activation
    deconvs = [m for m in net.g_s if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.kernel_size[0], c.stride[0]) for c in deconvs] == [(5, 2), (5, 2), (9, 4)]
    assert net.downsampling_factor == 16


def test_registered_and_built_by_name():
    assert {"bls2017", "proxiqa"} <= set(model_names())
    net = build_model("bls2017", N=8)
    assert isinstance(net, BLS2017) and net.N == net.M == 8


def test_bad_size_refused():
    with pytest.raises(ValueError, match="positive integer"):
        BLS2017(0)


def test_forward_shapes_and_rate():
    torch.manual_seed(0)
    net = BLS2017(8).train()
    x = torch.rand(2, 3, 64, 48)
    out = net(x)
    assert out["x_hat"].shape == x.shape
    assert out["likelihoods"]["y"].shape == (2, 8, 4, 3)
    assert torch.all(out["likelihoods"]["y"] > 0)


def test_real_bitstream_decodes_to_the_rounded_latent_reconstruction():
    torch.manual_seed(1)
    net = BLS2017(8).eval()
    net.update(force=True)
    x = torch.rand(2, 3, 64, 80)
    with torch.no_grad():
        enc = net.compress(x)
        dec = net.decompress(enc["strings"], enc["shape"])["x_hat"]
        y = net.g_a(x)
        medians = net.entropy_bottleneck._get_medians()
        y_hat = torch.round(y - medians) + medians
        ref = net.g_s(y_hat).clamp(0, 1)
        likelihoods = net(x)["likelihoods"]["y"]
    assert len(enc["strings"][0]) == 2 and all(isinstance(s, bytes) and s for s in enc["strings"][0])
    assert tuple(enc["shape"]) == (4, 5)
    torch.testing.assert_close(dec, ref, rtol=0, atol=1e-5)
    # the coded size is the model's own estimate up to the coder's overhead
    est_bytes = float(-torch.log2(likelihoods).sum()) / 8
    coded = sum(len(s) for s in enc["strings"][0])
    assert est_bytes * 0.9 - 8 <= coded <= est_bytes * 1.1 + 16


def test_state_dict_round_trip_rebuilds_sizes():
    net = BLS2017(8, 6, filters=(2, 2))
    net.update(force=True)
    again = BLS2017.from_state_dict(net.state_dict())
    assert (again.N, again.M, again.filters) == (8, 6, (2, 2))
    for (k, a), (k2, b) in zip(net.state_dict().items(), again.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    assert math.isclose(param_count(again), param_count(net))
