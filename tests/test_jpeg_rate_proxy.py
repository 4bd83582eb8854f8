"""The rate proxy (eqs. 3.4–3.8) against libjpeg's own coefficients and file sizes; the 8×8 DCT."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.fft import dctn

from dlic_lib.jpeg import (
    block_dct,
    block_idct,
    dct_matrix,
    decode_luma,
    encode_luma,
    hard_nonzero_count,
    luma_quant_table,
    quantise,
    read_quantised,
    rgb_to_luma,
    soft_nonzero_count,
)
from dlic_lib.jpeg.dct import oracle_jpeg, round_half_away


@pytest.fixture(scope="module")
def luma(kodim01) -> np.ndarray:
    return rgb_to_luma(kodim01)


def as_tensor(y: np.ndarray, dtype=torch.float64) -> torch.Tensor:
    return torch.tensor(y, dtype=dtype)[None, None] / 255.0


def test_dct_is_orthonormal_and_equals_scipy():
    d = dct_matrix(dtype=torch.float64)
    assert torch.allclose(d @ d.T, torch.eye(8, dtype=torch.float64), atol=1e-12)
    x = torch.randn(2, 1, 16, 24, dtype=torch.float64)
    coeffs = block_dct(x)
    ref = dctn(x[1, 0, 8:16, 16:24].numpy(), norm="ortho")
    assert np.allclose(coeffs[1, 0, 1, 2].numpy(), ref, atol=1e-12)
    assert torch.allclose(block_idct(coeffs), x, atol=1e-12)


@pytest.mark.parametrize("qf", [10, 25, 55, 75, 90])
def test_levels_match_the_coefficients_libjpeg_wrote(luma, qf):
    coeffs, _ = read_quantised(encode_luma(luma, qf))
    f = block_dct(torch.tensor(luma, dtype=torch.float64)[None, None] - 128.0)
    levels = round_half_away(f / torch.tensor(luma_quant_table(qf), dtype=torch.float64))[0, 0].numpy()
    assert levels.shape == coeffs.shape
    assert np.abs(levels - coeffs).max() <= 1  # libjpeg's integer DCT differs only at rounding ties
    assert ((levels != 0) == (coeffs != 0)).mean() >= 0.995
    libjpeg = int((coeffs != 0).sum())
    hard = int(hard_nonzero_count(as_tensor(luma), qf))
    soft = float(soft_nonzero_count(as_tensor(luma, torch.float32), qf))
    assert 0.97 * libjpeg <= hard <= libjpeg * 1.005
    assert 0.97 * hard <= soft <= hard + 0.5
    # DC excluded: exactly the blocks with a non-zero DC level fewer
    no_dc = int(hard_nonzero_count(as_tensor(luma), qf, include_dc=False))
    assert hard - no_dc == int((levels[..., 0, 0] != 0).sum())


def test_soft_count_tends_to_the_hard_count(luma):
    x = as_tensor(luma[:128, :128])
    hard = float(hard_nonzero_count(x, 25))
    errors = [abs(float(soft_nonzero_count(x, 25, eps=e)) - hard) for e in (1e-3, 1e-5, 1e-8)]
    assert errors == sorted(errors, reverse=True) and errors[-1] < 0.01 * hard


def test_proxy_gradient_pushes_only_near_the_threshold(luma):
    x = as_tensor(luma[:64, :64], torch.float32).requires_grad_(True)
    soft_nonzero_count(x, 25).backward()
    g = x.grad
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    # a flat patch has only its DC term: no coefficient sits near a threshold except by chance
    flat = torch.full((1, 1, 8, 8), 0.5, requires_grad=True)
    soft_nonzero_count(flat, 25).backward()
    assert flat.grad.abs().max() == 0


def test_per_image_counts_sum_to_the_batch_count(luma):
    x = torch.stack([as_tensor(luma[:64, :64])[0], as_tensor(luma[64:128, :64])[0]])
    per = soft_nonzero_count(x, 55, per_image=True)
    assert per.shape == (2,) and torch.isclose(per.sum(), soft_nonzero_count(x, 55))


@pytest.mark.parametrize("qf", [10, 25, 55, 75])
def test_proxy_correlates_with_real_file_sizes(qf, kodak_dir):
    """Fig. 3.11: 100 patches of 48×48 (random Kodak positions), proxy vs bytes of the real file."""
    from dlic_lib.data import read_image

    rng = np.random.default_rng(qf)
    patches = []
    for i in range(100):
        y = rgb_to_luma(read_image(kodak_dir / f"kodim{1 + i % 24:02d}.png"))
        r, c = rng.integers(0, y.shape[0] - 48), rng.integers(0, y.shape[1] - 48)
        patches.append(y[r:r + 48, c:c + 48])
    bits = np.array([8 * len(encode_luma(p, qf)) for p in patches])
    soft = soft_nonzero_count(torch.tensor(np.stack(patches)[:, None] / 255.0), qf, per_image=True).numpy()
    assert np.corrcoef(soft, bits)[0, 1] > 0.97


def test_quantise_straight_through_and_oracle(luma):
    c = torch.tensor([[-1.5, -0.5, 0.49, 0.5, 2.5, 7.0, 8.0, 12.0]], dtype=torch.float64).repeat(8, 1)
    assert round_half_away(c)[0].tolist() == [-2, -1, 0, 1, 3, 7, 8, 12]
    c.requires_grad_(True)
    quantise(c, torch.ones(8, 8, dtype=torch.float64), straight_through=True).sum().backward()
    assert torch.equal(c.grad, torch.ones_like(c))
    # the float-DCT quantiser reproduces libjpeg's QF 10 decoding closely (a FakeCodec's ceiling)
    y = luma[:256, :256]
    ref = decode_luma(encode_luma(y, 10)).astype(np.float64)
    ours = oracle_jpeg(as_tensor(y), 10)[0, 0].numpy() * 255.0
    psnr = 10 * np.log10(255**2 / np.mean((np.round(ours) - ref) ** 2))
    assert psnr > 40.0
