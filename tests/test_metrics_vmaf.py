"""libvmaf (through imageio-ffmpeg's FFmpeg) and the PyTorch metrics on the same planes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from metrics_helpers import coded_pairs
from scipy.ndimage import uniform_filter

from dlic_lib import color
from dlic_lib.metrics import MetricInputError, libvmaf, ms_ssim, psnr_planes, ssim


@pytest.fixture(scope="module")
def vmaf_run(kodim01):
    ref = np.ascontiguousarray(kodim01[:256, :384])
    dists = [d for _, d in coded_pairs(ref)]
    res = libvmaf(np.stack([ref] * len(dists)), np.stack(dists))
    return ref, dists, res


def _planes(rgb, range="limited"):
    return color.to_uint8(color.rgb_to_ycbcr(rgb, standard="bt601", range=range)).astype(np.float64)


def test_libvmaf_reports_all_features(vmaf_run):
    _, dists, res = vmaf_run
    assert len(res) == len(dists)
    for r in res:
        for key in ("vmaf", "psnr_y", "psnr_cb", "psnr_cr", "float_ssim", "float_ms_ssim", "vif_scale0", "vif_scale3"):
            assert key in r
        assert 0 <= r["vmaf"] <= 100
    vm = [r["vmaf"] for r in res]
    assert vm[0] < vm[1] < vm[2]  # JPEG q10 < q35 < q80


def test_psnr_planes_match_libvmaf_psnr(vmaf_run):
    ref, dists, res = vmaf_run
    for dist, r in zip(dists, res):
        ours = psnr_planes(_planes(ref), _planes(dist), max_db=60.0).numpy()[0]
        np.testing.assert_allclose(ours, [r["psnr_y"], r["psnr_cb"], r["psnr_cr"]], atol=2e-6)  # 6 printed decimals


def _libvmaf_decimate(plane):
    # libvmaf float_ssim: box filter of size f = max(1, round(min(H, W)/256)) ending at each sample, every f-th kept
    f = max(1, round(min(plane.shape) / 256))
    if f == 1:
        return plane
    return uniform_filter(plane, f, mode="reflect")[::f, ::f]


def test_ssim_matches_libvmaf_float_ssim(vmaf_run):
    ref, dists, res = vmaf_run
    yr = _libvmaf_decimate(_planes(ref)[..., 0])
    for dist, r in zip(dists, res):
        yd = _libvmaf_decimate(_planes(dist)[..., 0])
        # same window, constants and 'valid' borders; libvmaf sums in single precision without
        # centring, the likely source of the residual (max 1.5e-4 observed, on flat sky areas)
        assert abs(ssim(yr, yd, dtype=torch.float64).item() - r["float_ssim"]) < 3e-4


def test_ms_ssim_close_to_libvmaf_float_ms_ssim(vmaf_run):
    ref, dists, res = vmaf_run
    yr = _planes(ref)[..., 0]
    for dist, r in zip(dists, res):
        yd = _planes(dist)[..., 0]
        # libvmaf downsamples with a 9/7 wavelet low-pass instead of a 2×2 mean: agreement ~1e-3
        assert abs(ms_ssim(yr, yd).item() - r["float_ms_ssim"]) < 3e-3


def test_libvmaf_420_and_identical(kodim_crop):
    res = libvmaf(kodim_crop, kodim_crop, subsampling="420")[0]
    assert res["psnr_y"] == 60.0 and res["float_ssim"] == pytest.approx(1.0)
    assert res["vmaf"] > 95


def test_libvmaf_bad_input(kodim_crop):
    with pytest.raises(MetricInputError, match="uint8"):
        libvmaf(kodim_crop.astype(np.float32), kodim_crop.astype(np.float32))
    with pytest.raises(MetricInputError, match="shapes differ"):
        libvmaf(kodim_crop, kodim_crop[:100])
    with pytest.raises(MetricInputError, match="at least 32"):
        libvmaf(kodim_crop[:16], kodim_crop[:16])
    with pytest.raises(MetricInputError, match="even"):
        libvmaf(kodim_crop[:101], kodim_crop[:101], subsampling="420")
    with pytest.raises(MetricInputError, match="libvmaf failed"):
        libvmaf(kodim_crop, kodim_crop, features=("no_such_feature",))


def test_batch_equals_single_calls_no_motion(kodim01, kodim_crop):
    refs = np.stack([kodim_crop, np.ascontiguousarray(kodim01[:192, :256])])
    dists = np.stack([coded_pairs(r)[0][1] for r in refs])
    batch = [r["vmaf"] for r in libvmaf(refs, dists)]
    single = [libvmaf(refs[i], dists[i])[0]["vmaf"] for i in range(2)]
    assert batch == single


def test_vmaf_torch_matches_libvmaf_on_24_kodak_pairs(kodak_dir):
    pytest.importorskip("vmaf_torch")
    from dlic_lib.data import read_image
    from dlic_lib.metrics.vmaf_torch import vmaf_torch
    from metrics_helpers import code

    refs, dists = [], []
    for i in range(1, 25):
        r = np.ascontiguousarray(read_image(kodak_dir / f"kodim{i:02d}.png")[:256, :256])
        refs.append(r)
        dists.append(code(r, "jpeg", (10, 30, 60, 90)[i % 4]))
    lib = np.array([r["vmaf"] for r in libvmaf(np.stack(refs), np.stack(dists))])
    ours = vmaf_torch(np.stack(refs), np.stack(dists), round_luma=True, clip=True).numpy()
    assert np.abs(ours - lib).max() < 0.25  # measured max 0.18 VMAF points: vmaf-torch computes the features in float


def test_vmaf_torch_gradient(kodim_crop):
    pytest.importorskip("vmaf_torch")
    from dlic_lib.metrics.vmaf_torch import vmaf_torch

    ref = torch.from_numpy(kodim_crop[:64, :64].copy()).permute(2, 0, 1)[None].float()
    dist = (ref + 8 * torch.randn_like(ref)).clamp(0, 255).requires_grad_(True)
    vmaf_torch(ref, dist).sum().backward()
    assert torch.isfinite(dist.grad).all() and dist.grad.abs().sum() > 0
