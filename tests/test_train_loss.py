"""The RD loss against CompressAI's own ``RateDistortionLoss`` (an independent implementation)."""

import math

import numpy as np
import pytest
import torch
from compressai.losses import RateDistortionLoss as ReferenceLoss

from dlic_lib.errors import DlicError
from dlic_lib.train.loss import RateDistortionLoss, bits_per_pixel, psnr_from_mse


def _fake_output(n=2, h=192, w=192, seed=0):
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(n, 3, h, w, generator=g)
    x_hat = (target + 0.05 * torch.randn(n, 3, h, w, generator=g)).clamp(0, 1)
    likelihoods = {
        "y": torch.rand(n, 8, h // 16, w // 16, generator=g).clamp_min(1e-9),
        "z": torch.rand(n, 4, h // 64, w // 64, generator=g).clamp_min(1e-9),
    }
    return {"x_hat": x_hat, "likelihoods": likelihoods}, target


@pytest.mark.parametrize("lmbda", [0.0018, 0.0483])
def test_mse_loss_matches_compressai(lmbda):
    out, target = _fake_output()
    ours = RateDistortionLoss(lmbda, "mse")(out, target)
    ref = ReferenceLoss(lmbda=lmbda, metric="mse")(out, target)
    torch.testing.assert_close(ours["loss"], ref["loss"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours["bpp"], ref["bpp_loss"], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(ours["mse"], ref["mse_loss"], rtol=1e-6, atol=1e-9)


def test_ms_ssim_loss_matches_compressai():
    out, target = _fake_output(n=1, h=192, w=192, seed=1)
    ours = RateDistortionLoss(8.73, "ms-ssim")(out, target)
    ref = ReferenceLoss(lmbda=8.73, metric="ms-ssim")(out, target)
    torch.testing.assert_close(ours["loss"], ref["loss"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours["ms_ssim"], ref["ms_ssim_loss"], rtol=1e-6, atol=1e-7)


def test_bits_per_pixel_is_minus_log2_likelihood_per_pixel():
    out, target = _fake_output(n=2, h=64, w=128, seed=2)
    expected = sum(-np.log2(v.double().numpy()).sum() for v in out["likelihoods"].values()) / (2 * 64 * 128)
    assert float(bits_per_pixel(out["likelihoods"], 2 * 64 * 128)) == pytest.approx(expected, rel=1e-5)


def test_psnr_from_mse():
    assert psnr_from_mse(1e-2) == pytest.approx(20.0)
    assert psnr_from_mse(25.0, peak=255.0) == pytest.approx(10 * math.log10(255**2 / 25))
    assert psnr_from_mse(0.0) == float("inf")


@pytest.mark.parametrize("args", [(0.0, "mse"), (-1.0, "mse"), (float("nan"), "mse"), (0.01, "psnr")])
def test_bad_loss_parameters(args):
    with pytest.raises(DlicError):
        RateDistortionLoss(*args)


def test_ms_ssim_needs_large_crops():
    out, target = _fake_output(n=1, h=64, w=64)
    with pytest.raises(DlicError, match="at least 161"):
        RateDistortionLoss(8.73, "ms-ssim")(out, target)
