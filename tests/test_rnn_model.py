"""The recursive ConvLSTM codec network (seed 003 Table 4.2)."""

import torch

from dlic_lib.models import build_model, param_count
from dlic_lib.models.recurrent import BITS_PER_ITERATION, ConvLSTMCell, RecurrentCodec, binarize


def test_table_4_2_parameter_count_and_no_biases():
    model = build_model("toderici2017-rnn")
    assert param_count(model) == 32_835_360  # seed 003 Table 4.2 (claim C38)
    assert param_count(model.encoder) == 1_728 + 851_968 + 5_767_168 + 10_485_760 + 16_384
    assert not any(name.endswith("bias") for name, _ in model.named_parameters())


def test_convlstm_count_formula_and_quick_width():
    cell = ConvLSTMCell(64, 256, stride=2)
    assert param_count(cell) == 4 * 256 * (9 * 64 + 256)
    assert param_count(RecurrentCodec(width=0.25)) == 2_058_696


def test_shapes_rate_and_additive_reconstruction():
    torch.manual_seed(0)
    model = RecurrentCodec(width=0.125).eval()
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        residuals, codes, recon = model(x, iterations=4)
    assert residuals.shape == (4, 3, 3, 32, 32) and codes.shape == (4, 3, 32, 2, 2)
    assert codes[0, 0].numel() == BITS_PER_ITERATION and set(codes.unique().tolist()) <= {-1.0, 1.0}
    assert torch.allclose(recon, x - residuals[-1])
    # the first k iterations do not depend on later ones (the codec is progressive)
    with torch.no_grad():
        r2, c2, _ = model(x, iterations=2)
    assert torch.equal(c2, codes[:2]) and torch.allclose(r2, residuals[:2])


def test_binarizer_stochastic_mean_and_straight_through():
    torch.manual_seed(0)
    x = torch.full((200_000,), 0.3, requires_grad=True)
    b = binarize(x, stochastic=True)
    assert set(b.detach().unique().tolist()) == {-1.0, 1.0}
    assert abs(b.mean().item() - 0.3) < 0.01  # E[b] = x
    b.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))
    assert binarize(torch.tensor([-0.2, 0.0, 0.7]), stochastic=False).tolist() == [-1.0, 1.0, 1.0]
