"""PIL's bicubic kernel: bit-exact in numpy, within one grey level and differentiable in torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from dlic_lib.errors import DlicError
from dlic_lib.jpeg import bicubic_resize, pil_bicubic, resample_weights, rgb_to_luma
from dlic_lib.jpeg.resample import downscale2, upscale2

SIZES = [(128, 96), (64, 48), (100, 37), (512, 384), (301, 250), (13, 9)]  # (W, H) from 256×192


@pytest.fixture(scope="module")
def luma(kodim_crop) -> np.ndarray:
    return rgb_to_luma(kodim_crop)


@pytest.mark.parametrize("size", SIZES)
def test_numpy_equals_pillow_bit_for_bit(luma, size):
    ref = np.asarray(Image.fromarray(luma).resize(size, Image.BICUBIC))
    assert np.array_equal(pil_bicubic(luma, size), ref)


@pytest.mark.parametrize("size", SIZES)
def test_torch_within_one_grey_level_of_pillow(luma, size):
    ref = np.asarray(Image.fromarray(luma).resize(size, Image.BICUBIC)).astype(np.int64)
    x = torch.tensor(luma, dtype=torch.float64)
    ours = bicubic_resize(x, (size[1], size[0]), clip=(0.0, 255.0)).numpy()
    diff = np.clip(np.floor(ours + 0.5), 0, 255) - ref
    assert np.abs(diff).max() <= 1 and (diff != 0).mean() < 0.25


@pytest.mark.parametrize("size", [(96, 128), (384, 512), (37, 100)])
def test_torch_equals_interpolate_with_antialias(luma, size):
    x = torch.tensor(luma, dtype=torch.float32)[None, None] / 255.0
    ref = F.interpolate(x, size=size, mode="bicubic", antialias=True, align_corners=False)
    assert torch.allclose(bicubic_resize(x, size), ref, atol=1e-5)


def test_weights_rows_sum_to_one_and_gradient_flows():
    for n_in, n_out in ((48, 24), (24, 48), (7, 3)):
        assert np.allclose(resample_weights(n_in, n_out).sum(1), 1.0)
    x = torch.rand(2, 1, 16, 16, requires_grad=True)
    down = downscale2(x)
    assert down.shape == (2, 1, 8, 8) and upscale2(down).shape == (2, 1, 16, 16)
    upscale2(down).square().mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with pytest.raises(DlicError):
        pil_bicubic(np.zeros((4, 4), np.float32), (2, 2))
