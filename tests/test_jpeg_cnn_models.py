"""CNN-CR, CNN-SR and the three CNN-FakeCodec variants: registry, shapes, parameter counts."""

from __future__ import annotations

import pytest
import torch

from dlic_lib.models import build_model, model_names, param_count
from dlic_lib.models.jpeg_cnn import kernel_schedule


def conv_params(layers: list[tuple[int, int, int]]) -> int:
    """Σ k²·c_in·c_out + c_out over (k, c_in, c_out)."""
    return sum(k * k * ci * co + co for k, ci, co in layers)


def test_registered():
    names = set(model_names())
    assert {"cnn-cr", "cnn-sr", "fakecodec-frame", "fakecodec-block-pixel", "fakecodec-block-dct"} <= names


def test_cnn_cr_full_size():
    cr = build_model("cnn-cr")
    # §2.6.3: 3×3 stride 2 (1→64), 8 × 3×3 (64→64), 3×3 (64→1)
    assert param_count(cr) == conv_params([(3, 1, 64)] + [(3, 64, 64)] * 8 + [(3, 64, 1)]) == 296_641
    x = torch.rand(2, 1, 48, 64)
    assert cr(x).shape == (2, 1, 24, 32)


def test_cnn_sr_full_size():
    sr = build_model("cnn-sr")
    assert param_count(sr) == conv_params([(3, 1, 64)] + [(3, 64, 64)] * 3 + [(3, 64, 4)]) == 113_732
    assert sr(torch.rand(2, 1, 24, 32)).shape == (2, 1, 48, 64)


def test_zero_body_gives_bicubic():
    from dlic_lib.jpeg.resample import downscale2, upscale2

    cr, sr = build_model("cnn-cr", width=0.25), build_model("cnn-sr", width=0.25)
    for m in (cr, sr):
        last = [p for p in m.body.modules() if isinstance(p, torch.nn.Conv2d)][-1]
        torch.nn.init.zeros_(last.weight), torch.nn.init.zeros_(last.bias)
    x = torch.rand(1, 1, 32, 32)
    assert torch.allclose(cr(x), downscale2(x)) and torch.allclose(sr(x), upscale2(x))


def test_kernel_schedules():
    assert kernel_schedule("9to1", 4) == (9, 5, 3, 1)
    assert kernel_schedule("9to1", 8) == (9, 9, 5, 5, 3, 3, 1, 1)
    assert kernel_schedule("9to1", 12) == (9,) * 3 + (5,) * 3 + (3,) * 3 + (1,) * 3
    assert kernel_schedule("3x3", 8) == (3,) * 8
    with pytest.raises(ValueError):
        kernel_schedule("9to1", 6)


@pytest.mark.parametrize("name, kernels", [
    ("fakecodec-frame", (9, 9, 5, 5, 3, 3, 1, 1)),
    ("fakecodec-block-pixel", (3,) * 8),
    ("fakecodec-block-dct", (3,) * 8),
])
def test_fakecodec_full_size(name, kernels):
    m = build_model(name)
    assert m.kernels == kernels
    chans = [1] + [64] * 7 + [1]
    assert param_count(m) == conv_params([(k, chans[i], chans[i + 1]) for i, k in enumerate(kernels)])
    x = torch.rand(3, 1, 48, 48)
    assert m(x).shape == x.shape


def test_fakecodec_ablation_settings_and_width():
    wide = build_model("fakecodec-frame", width=4.0)  # Table 3.6: 256 filters
    assert wide.body[0].out_channels == 256
    deep = build_model("fakecodec-frame", depth=12)  # Table 3.5
    assert len([m for m in deep.body if isinstance(m, torch.nn.Conv2d)]) == 12
    rep = build_model("fakecodec-block-dct", padding="replicate")  # Table 3.8
    assert rep.body[0].padding_mode == "replicate"
    quick = build_model("fakecodec-block-dct", width=0.5)
    assert quick.body[0].out_channels == 32


@pytest.mark.parametrize("variant", ["block-pixel", "block-dct"])
def test_block_variants_act_on_each_block_alone(variant):
    m = build_model(f"fakecodec-{variant}", width=0.25).eval()
    x = torch.rand(1, 1, 16, 16)
    y = x.clone()
    y[..., :8, :8] = torch.rand(8, 8)  # change one block
    with torch.no_grad():
        a, b = m(x), m(y)
    assert torch.equal(a[..., 8:, :], b[..., 8:, :]) and torch.equal(a[..., :8, 8:], b[..., :8, 8:])


def test_identity_at_zero_body():
    x = torch.rand(2, 1, 16, 24)
    for variant in ("frame", "block-pixel", "block-dct"):
        m = build_model(f"fakecodec-{variant}", width=0.25)
        last = m.body[-1]
        torch.nn.init.zeros_(last.weight), torch.nn.init.zeros_(last.bias)
        assert torch.allclose(m(x), x, atol=1e-6)
