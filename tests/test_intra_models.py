"""Seed 003's intra networks: parameter counts of Tables 4.1, 4.3, 4.4, shapes, masking, contexts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlic_lib.intra.context import block_neighbours, image_blocks, masked_contexts, split_crop
from dlic_lib.models import build_model, model_names, param_count
from dlic_lib.models.vae_intra import table_weight_count

# Table 4.1 layer by layer (AE1): encoder, channel-wise bottleneck, decoder
AE1_LAYERS = [3_136, 131_200, 524_544, 2_097_664, 139_264, 262_656, 2_097_408, 524_416, 131_136, 195]


def test_registered():
    names = set(model_names())
    assert {"intra-ae1", "intra-ae2", "jung2021-vae", "jung2021-embedded-intra"} <= names


def test_ae1_layers_and_total_match_table_4_1():
    net = build_model("intra-ae1")
    counts = [m.weight.numel() + m.bias.numel() for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert counts == AE1_LAYERS
    assert param_count(net) == sum(AE1_LAYERS) == 5_911_619


def test_ae2_and_width_multiplier():
    assert param_count(build_model("intra-ae2")) == 6_304_835
    assert param_count(build_model("intra-ae1", width=0.5)) == 1_514_019


def test_vae_tables_weights_only():
    assert table_weight_count(build_model("jung2021-vae")) == 1_766_144
    assert table_weight_count(build_model("jung2021-embedded-intra")) == 1_686_400
    # convention: every parameter of the VAE counts more (biases, GDN beta, entropy model)
    assert param_count(build_model("jung2021-vae")) > 1_766_144


def test_shapes_and_non_negative_outputs():
    torch.manual_seed(0)
    ae1, ae2 = build_model("intra-ae1", width=0.125), build_model("intra-ae2", width=0.125)
    assert ae1(torch.rand(2, 3, 64, 64)).shape == (2, 3, 32, 32)
    out = ae2(torch.rand(2, 4, 3, 32, 32))
    assert out.shape == (2, 3, 32, 32) and (out >= 0).all()
    vae = build_model("jung2021-vae", N=16)
    assert vae(torch.rand(1, 3, 32, 48))["x_hat"].shape == (1, 3, 32, 48) and vae.downsampling_factor == 8
    assert build_model("jung2021-embedded-intra", N=8)(torch.rand(1, 12, 64, 64)).shape == (1, 3, 64, 64)


def test_ae1_ignores_the_target_quarter():
    torch.manual_seed(0)
    net = build_model("intra-ae1", width=0.125)
    x = torch.rand(1, 3, 64, 64)
    y = x.clone()
    y[..., 32:, 32:] = torch.rand(1, 3, 32, 32)
    assert torch.equal(net(x), net(y))
    y[..., 0, 0] += 0.5
    assert not torch.equal(net(x), net(y))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="64×64"):
        build_model("intra-ae1", width=0.125)(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="neighbours"):
        build_model("intra-ae2", width=0.125)(torch.rand(1, 3, 32, 32))


def test_block_neighbours_and_contexts():
    image = np.arange(64 * 96 * 3).reshape(64, 96, 3) % 251
    nb = block_neighbours(image, 32)
    blocks = image_blocks(image, 32)
    assert nb.shape == (6, 4, 32, 32, 3) and blocks.shape == (6, 32, 32, 3)
    # block (1, 1) = index 4: TL (0,0), T (0,1), TR (0,2), L (1,0)
    for k, i in enumerate([0, 1, 2, 3]):
        np.testing.assert_array_equal(nb[4, k], blocks[i])
    # block (1, 2) = index 5: no top-right neighbour (last column); block (0, *) has no top row
    assert (nb[5, 2] == 0).all() and (nb[0] == 0).all() and (nb[1, 3] == blocks[0]).all()
    ctx = masked_contexts(nb)
    np.testing.assert_array_equal(ctx[4, :32], image[:32, :64])
    np.testing.assert_array_equal(ctx[4, 32:, :32], image[32:, :32])
    assert (ctx[4, 32:, 32:] == 0).all()


def test_split_crop_matches_block_neighbours():
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 255, (64, 96, 3))
    nb, target = split_crop(crop[None], 32)
    np.testing.assert_array_equal(nb[0], block_neighbours(crop, 32)[4])
    np.testing.assert_array_equal(target[0], image_blocks(crop, 32)[4])


def test_ae2_first_layers_are_the_3d_convolutions():
    """The 2-D formulation equals torch's Conv3d with the same weights: (1,4,4) per block, (4,4,4) valid in depth."""
    torch.manual_seed(1)
    net = build_model("intra-ae2", width=0.125)
    x = torch.rand(2, 4, 3, 32, 32)
    c0 = net.per_block.out_channels
    w1 = net.per_block.weight[:, :, None]  # (C0, 3, 1, 4, 4)
    w2 = net.across_blocks.weight.reshape(-1, c0, 4, 4, 4)  # channel c·4 + d → (C1, C0, D, 4, 4)
    y = torch.relu(torch.nn.functional.conv3d(x.transpose(1, 2), w1, net.per_block.bias, stride=(1, 2, 2), padding=(0, 1, 1)))
    y = torch.relu(torch.nn.functional.conv3d(y, w2, net.across_blocks.bias, stride=(1, 2, 2), padding=(0, 1, 1))).squeeze(2)
    b = x.shape[0]
    z = net.act(net.per_block(x.reshape(b * 4, 3, 32, 32))).reshape(b, 4, -1, 16, 16).transpose(1, 2).reshape(b, -1, 16, 16)
    z = net.act(net.across_blocks(z))
    torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-5)
