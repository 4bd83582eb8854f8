"""PSNR, SSIM, MS-SSIM and VIF-P against independent implementations (scikit-image, pytorch-msssim, piq, sewar)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from metrics_helpers import code, coded_pairs

from dlic_lib import color
from dlic_lib.errors import DlicError
from dlic_lib.metrics import (
    MetricInputError,
    ms_ssim,
    ms_ssim_sewar,
    psnr_planes,
    psnr_rgb,
    psnr_y,
    psnr_ycbcr,
    ssim,
    ssim_sewar,
    upsample_chroma,
    vif,
)

TOL = 1e-5  # default float32 computation vs float64 references (float64 mode: see TOL64)
TOL64 = 1e-9


@pytest.fixture(scope="module")
def kodim_mid(kodim01):
    """A 256×384 centre crop of kodim01 (large enough for 5-scale MS-SSIM, quick for the references)."""
    return np.ascontiguousarray(kodim01[128:384, 192:576])


@pytest.fixture(scope="module")
def kodak_pairs(kodim_mid):
    return coded_pairs(kodim_mid)


@pytest.fixture(scope="module")
def crop_pairs(kodim_crop):
    # 96×128: small enough for sewar's pure-numpy convolutions
    small = np.ascontiguousarray(kodim_crop[40:136, 60:188])
    return small, coded_pairs(small)


def _y(rgb):
    return color.rgb_to_y(rgb)  # BT.601 full range, float64


def _t(plane):
    return torch.from_numpy(np.asarray(plane, dtype=np.float64))[None, None]


# --- PSNR -----------------------------------------------------------------------------------


def test_psnr_rgb_matches_skimage_and_sewar(kodim_mid, kodak_pairs):
    from sewar.full_ref import psnr as sewar_psnr
    from skimage.metrics import peak_signal_noise_ratio

    for _, dist in kodak_pairs:
        ours = psnr_rgb(kodim_mid, dist).item()
        assert ours == pytest.approx(peak_signal_noise_ratio(kodim_mid, dist, data_range=255), abs=1e-10)
        assert ours == pytest.approx(sewar_psnr(kodim_mid, dist), abs=1e-10)


def test_psnr_y_and_weighted_ycbcr(kodim_mid, kodak_pairs):
    from skimage.metrics import peak_signal_noise_ratio as ref_psnr

    ycc_r = color.rgb_to_ycbcr(kodim_mid)
    for _, dist in kodak_pairs:
        ycc_d = color.rgb_to_ycbcr(dist)
        planes = [ref_psnr(ycc_r[..., i], ycc_d[..., i], data_range=255) for i in range(3)]
        assert psnr_y(kodim_mid, dist).item() == pytest.approx(planes[0], abs=1e-10)
        assert psnr_ycbcr(kodim_mid, dist).item() == pytest.approx((6 * planes[0] + planes[1] + planes[2]) / 8, abs=1e-10)
        got = psnr_ycbcr(kodim_mid, dist, weights=(4, 1, 1)).item()
        assert got == pytest.approx((4 * planes[0] + planes[1] + planes[2]) / 6, abs=1e-10)
        np.testing.assert_allclose(psnr_planes(ycc_r, ycc_d).numpy()[0], planes, atol=1e-10)


def test_psnr_bt709_limited_and_rounding_differ_from_default(kodim_mid, kodak_pairs):
    dist = kodak_pairs[1][1]
    base = psnr_y(kodim_mid, dist).item()
    assert psnr_y(kodim_mid, dist, standard="bt709").item() != pytest.approx(base, abs=1e-3)
    lim = psnr_y(kodim_mid, dist, range="limited").item()
    # limited range scales the luma by 219/255: the MSE shrinks by (219/255)², PSNR grows by that
    assert lim == pytest.approx(base - 20 * np.log10(219 / 255), abs=1e-9)
    rounded = psnr_y(kodim_mid, dist, round_planes=True).item()
    yr, yd = color.to_uint8(_y(kodim_mid)), color.to_uint8(_y(dist))
    mse = np.mean((yr.astype(float) - yd) ** 2)
    assert rounded == pytest.approx(10 * np.log10(255**2 / mse), abs=1e-10)


def test_psnr_identical_is_inf_or_capped(kodim_crop):
    assert psnr_rgb(kodim_crop, kodim_crop).item() == float("inf")
    assert psnr_rgb(kodim_crop, kodim_crop, max_db=60.0).item() == 60.0


def test_upsample_chroma_420(kodim_crop):
    ycc = color.rgb_to_ycbcr(kodim_crop)
    cb, cr = color.subsample_420(ycc[..., 1]), color.subsample_420(ycc[..., 2])
    full = upsample_chroma(ycc[..., 0], cb, cr)
    assert full.shape == ycc.shape
    np.testing.assert_array_equal(full[..., 0], ycc[..., 0])
    np.testing.assert_allclose(full[..., 1], color.upsample_420(cb, ycc.shape[:2]))
    p = psnr_planes(ycc, full).numpy()[0]
    assert p[0] == float("inf") and 25 < p[1] < 80 and 25 < p[2] < 80


# --- SSIM / MS-SSIM ---------------------------------------------------------------------------


def test_ssim_matches_skimage_pytorch_msssim_and_piq(kodim_mid, kodak_pairs):
    import piq
    import pytorch_msssim
    from skimage.metrics import structural_similarity

    yr = _y(kodim_mid)
    for _, dist in kodak_pairs[::3]:
        yd = _y(dist)
        ours = ssim(kodim_mid, dist).item()
        sk = structural_similarity(yr, yd, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        pm = pytorch_msssim.ssim(_t(yr), _t(yd), data_range=255).item()
        pq = piq.ssim(_t(yd), _t(yr), data_range=255.0, downsample=False).item()
        assert abs(ours - sk) < TOL
        assert abs(ssim(kodim_mid, dist, dtype=torch.float64).item() - sk) < TOL64
        assert abs(ours - pm) < 1e-5  # pytorch-msssim builds its window in float32
        assert abs(ours - pq) < TOL


def test_ssim_rgb_channels_match_skimage_channel_axis(kodim_crop):
    from skimage.metrics import structural_similarity

    dist = code(kodim_crop, "jpeg", 20)
    sk = structural_similarity(
        kodim_crop, dist, data_range=255, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert abs(ssim(kodim_crop, dist, channels="rgb").item() - sk) < TOL


def test_ms_ssim_matches_pytorch_msssim_and_piq(kodim_mid, kodak_pairs):
    import piq
    import pytorch_msssim

    yr = _y(kodim_mid)
    for _, dist in kodak_pairs[::3]:
        yd = _y(dist)
        ours = ms_ssim(kodim_mid, dist).item()
        pm = pytorch_msssim.ms_ssim(_t(yr), _t(yd), data_range=255).item()
        pq = piq.multi_scale_ssim(_t(yd), _t(yr), data_range=255.0).item()
        assert abs(ours - pq) < TOL
        assert abs(ms_ssim(kodim_mid, dist, dtype=torch.float64).item() - pq) < TOL64
        assert abs(ours - pm) < 1e-5  # pytorch-msssim builds its window in float32


def test_ms_ssim_odd_sizes_match_pytorch_msssim(kodim01):
    import piq
    import pytorch_msssim

    ref = np.ascontiguousarray(kodim01[:171, :203])
    dist = code(ref, "jpeg", 15)
    ours = ms_ssim(ref, dist).item()
    # odd sides: pytorch-msssim zero-pads the 2×2 pooling (as here); piq replicate-pads the top/left
    pm = pytorch_msssim.ms_ssim(_t(_y(ref)), _t(_y(dist)), data_range=255).item()
    pq = piq.multi_scale_ssim(_t(_y(dist)), _t(_y(ref)), data_range=255.0).item()
    assert abs(ours - pm) < 1e-5
    assert 1e-7 < abs(ours - pq) < 1e-4


def test_ssim_sewar_variant_matches_sewar(crop_pairs):
    from sewar.full_ref import ssim as sewar_ssim

    ref, pairs = crop_pairs
    for _, dist in pairs[:2]:
        assert abs(ssim_sewar(ref, dist).item() - sewar_ssim(_y(ref), _y(dist), MAX=255)[0]) < TOL
    # sewar on an RGB array averages the per-channel values
    dist = pairs[0][1]
    assert abs(ssim_sewar(ref, dist, channels="rgb").item() - sewar_ssim(ref, dist)[0]) < TOL


def test_ms_ssim_sewar_variant_matches_sewar(kodim_crop, crop_pairs):
    from sewar.full_ref import msssim

    dist = code(kodim_crop, "jpeg", 15)
    assert abs(ms_ssim_sewar(kodim_crop, dist).item() - msssim(_y(kodim_crop), _y(dist), MAX=255)) < TOL
    ref, pairs = crop_pairs  # 96 px: sewar drops to 4 scales (with a warning); so does the variant
    with pytest.warns(UserWarning, match="Reducing to 4 scales"):
        ref_value = msssim(_y(ref), _y(pairs[0][1]), MAX=255)
    assert abs(ms_ssim_sewar(ref, pairs[0][1]).item() - ref_value) < TOL


# --- VIF-P ------------------------------------------------------------------------------------


def test_vif_matches_sewar_on_crops(crop_pairs):
    from sewar.full_ref import vifp

    ref, pairs = crop_pairs
    for _, dist in pairs[:2]:
        assert abs(vif(ref, dist).item() - vifp(_y(ref), _y(dist))) < TOL
    dist = pairs[0][1]
    assert abs(vif(ref, dist, channels="rgb").item() - vifp(ref, dist)) < TOL


def test_vif_matches_piq_on_kodak(kodim_mid, kodak_pairs):
    import piq

    yr = _y(kodim_mid)
    for _, dist in kodak_pairs[::3]:
        pq = piq.vif_p(_t(_y(dist)), _t(yr), data_range=255.0).item()
        assert abs(vif(kodim_mid, dist).item() - pq) < TOL
        assert abs(vif(kodim_mid, dist, dtype=torch.float64).item() - pq) < 1e-7  # piq: ε = 1e-8 vs 1e-10


def test_vif_of_identical_images_is_one(kodim_crop):
    assert vif(kodim_crop, kodim_crop).item() == pytest.approx(1.0, abs=1e-9)


# --- batches, scales, gradients ------------------------------------------------------------


@pytest.mark.parametrize("fn", [psnr_rgb, psnr_y, psnr_ycbcr, ssim, ssim_sewar, ms_ssim, vif])
def test_batch_equals_single_and_data_range(fn, kodim_mid, kodak_pairs):
    ref = kodim_mid[:192, :192]
    dists = [np.ascontiguousarray(d[:192, :192]) for _, d in kodak_pairs]
    batch = fn(np.stack([ref] * len(dists)), np.stack(dists))
    singles = [fn(ref, d).item() for d in dists]
    np.testing.assert_allclose(batch.numpy(), singles, atol=1e-7)
    unit = fn(ref / 255.0, dists[0] / 255.0, data_range=1.0).item()
    assert unit == pytest.approx(singles[0], abs=1e-6)
    tensors = fn(torch.from_numpy(ref).permute(2, 0, 1), torch.from_numpy(dists[0]).permute(2, 0, 1)).item()
    assert tensors == pytest.approx(singles[0], abs=1e-9)


def test_float64_and_float32_agree(kodim_mid, kodak_pairs):
    dist = kodak_pairs[0][1]
    for fn in (ssim, ms_ssim, vif):
        a = fn(kodim_mid, dist, dtype=torch.float32).item()
        b = fn(kodim_mid, dist, dtype=torch.float64).item()
        assert abs(a - b) < TOL


def test_metrics_are_differentiable(kodim_crop):
    ref = torch.from_numpy(kodim_crop).permute(2, 0, 1)[None].float() / 255
    dist = (ref + 0.05 * torch.randn_like(ref)).clamp(0, 1).requires_grad_(True)
    loss = 1 - ms_ssim(ref, dist, data_range=1.0) + (1 - ssim(ref, dist, data_range=1.0)) + (1 - vif(ref, dist, data_range=1.0))
    loss.sum().backward()
    assert dist.grad is not None and torch.isfinite(dist.grad).all() and dist.grad.abs().sum() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(kodim_mid, kodak_pairs):  # pragma: no cover - needs a GPU
    dist = kodak_pairs[0][1]
    for fn in (ssim, ms_ssim, vif):
        assert abs(fn(kodim_mid, dist, device="cuda").item() - fn(kodim_mid, dist).item()) < 1e-6


# --- bad input ---------------------------------------------------------------------------------


def test_shape_mismatch(kodim_crop):
    with pytest.raises(MetricInputError, match="shapes differ"):
        ssim(kodim_crop, kodim_crop[:-1])


def test_dtype_mismatch(kodim_crop):
    with pytest.raises(MetricInputError, match="dtypes differ"):
        psnr_rgb(kodim_crop, kodim_crop.astype(np.float32))


def test_nan_and_inf(kodim_crop):
    bad = kodim_crop.astype(np.float64)
    bad[3, 4, 1] = np.nan
    with pytest.raises(MetricInputError, match="NaN or infinite"):
        vif(kodim_crop.astype(np.float64), bad)
    bad[3, 4, 1] = np.inf
    with pytest.raises(MetricInputError, match="NaN or infinite"):
        psnr_y(bad, kodim_crop.astype(np.float64))


def test_ms_ssim_minimum_size(kodim01):
    ok = kodim01[:161, :161]
    assert 0 < ms_ssim(ok, ok).item() <= 1
    small = kodim01[:160, :300]
    with pytest.raises(MetricInputError, match=r"at least 161×161"):
        ms_ssim(small, small)
    with pytest.raises(MetricInputError, match="at least 41"):
        vif(kodim01[:40, :40], kodim01[:40, :40])
    with pytest.raises(MetricInputError, match="at least 11"):
        ssim(kodim01[:10, :50], kodim01[:10, :50])


def test_bad_parameters(kodim_crop):
    with pytest.raises(MetricInputError, match="channels"):
        ssim(kodim_crop, kodim_crop, channels="lab")
    with pytest.raises(MetricInputError, match="data_range"):
        ssim(kodim_crop, kodim_crop, data_range=0)
    with pytest.raises(MetricInputError, match="odd"):
        ssim(kodim_crop, kodim_crop, win_size=8)
    with pytest.raises(MetricInputError, match="weights"):
        psnr_ycbcr(kodim_crop, kodim_crop, weights=(1, 1))
    with pytest.raises(MetricInputError, match="1 or 3 channels"):
        ssim(np.zeros((50, 50, 4)), np.zeros((50, 50, 4)))
    assert issubclass(MetricInputError, DlicError)
