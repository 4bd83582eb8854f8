"""Batched libvmaf labels for ProxIQA training equal libvmaf's score of each pair on its own."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlic_lib.metrics import MetricInputError, libvmaf
from dlic_lib.metrics.vmaf_batch import to_uint8_images, vmaf_labels, vmaf_labels_per_pair


@pytest.fixture(scope="module")
def patch_pairs(kodim01):
    """Six 128² Kodak patches with distortions of very different strength (VMAF ≈ 10 … 100)."""
    rng = np.random.default_rng(0)
    ref = np.stack([kodim01[r:r + 128, c:c + 128] for r in (0, 200, 384) for c in (0, 400)]).astype(np.float32) / 255
    t = torch.from_numpy(ref).permute(0, 3, 1, 2).contiguous()
    blur = torch.nn.functional.avg_pool2d(t, 5, stride=1, padding=2, count_include_pad=False)
    noise = torch.from_numpy(rng.normal(0, 1, t.shape).astype(np.float32))
    sigmas = torch.tensor([0.0, 2, 6, 12, 25, 40]).view(-1, 1, 1, 1) / 255
    dist = (t + sigmas * noise).clamp(0, 1)
    dist[3:] = (0.5 * dist[3:] + 0.5 * blur[3:])
    return t, dist


def test_batch_labels_equal_libvmaf_of_each_pair_alone(patch_pairs):
    ref, dist = patch_pairs
    labels = vmaf_labels(ref, dist)
    assert labels.shape == (6,) and labels.dtype == torch.float32
    r8, d8 = to_uint8_images(ref), to_uint8_images(dist)
    alone = [libvmaf(r8[i], d8[i])[0]["vmaf"] for i in range(6)]  # the library's metric, default features
    np.testing.assert_allclose(labels.numpy(), alone, rtol=0, atol=1e-4)
    assert float(labels[0]) > 97 and float(labels[-1]) < 60  # the range a proxy has to learn
    assert torch.all(labels[1:] < labels[0])


def test_per_pair_reference_path_agrees(patch_pairs):
    ref, dist = patch_pairs
    np.testing.assert_allclose(vmaf_labels_per_pair(ref[:2], dist[:2]).numpy(),
                               vmaf_labels(ref[:2], dist[:2]).numpy(), atol=1e-4)  # fmt: skip


def test_order_of_the_batch_does_not_change_a_label(patch_pairs):
    ref, dist = patch_pairs
    perm = torch.tensor([5, 2, 0, 4, 1, 3])
    np.testing.assert_allclose(vmaf_labels(ref[perm], dist[perm]).numpy(), vmaf_labels(ref, dist)[perm].numpy(), atol=1e-4)


def test_rounding_to_8_bits():
    x = torch.tensor([0.0, 0.5 / 255, 1.5 / 255, 254.6 / 255, 1.2, -0.3]).view(1, 1, 1, 6).expand(1, 3, 1, 6)
    assert to_uint8_images(x)[0, 0, :, 0].tolist() == [0, 0, 2, 255, 255, 0]


def test_bad_batches_refused():
    with pytest.raises(MetricInputError, match=r"\(B, 3, H, W\)"):
        vmaf_labels(torch.rand(3, 64, 64), torch.rand(3, 64, 64))
    with pytest.raises(MetricInputError, match="floating-point"):
        vmaf_labels(torch.zeros(1, 3, 64, 64, dtype=torch.uint8), torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(MetricInputError, match="at least"):
        vmaf_labels(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))
