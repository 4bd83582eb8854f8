"""Mixed quantisation: the decoder sees what the real decoder sees, the rate term stays CompressAI's."""

import pytest
import torch

from dlic_lib.errors import DlicError
from dlic_lib.train import TrainConfig, train
from dlic_lib.models import build_model
from dlic_lib.train.quantizers import check_quantizer, mixed_forward, ste_round

MODELS = ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean"]


def _net(model: str):
    torch.manual_seed(0)
    net = build_model(model, N=16, M=24)
    with torch.no_grad():  # medians off the integer grid, so that rounding around them matters
        net.entropy_bottleneck.quantiles.add_(0.37)
    return net


def test_ste_round_rounds_forward_and_passes_gradients():
    x = torch.tensor([0.2, 0.6, -1.4, 2.5], requires_grad=True)
    offset = torch.tensor([0.3, 0.3, -0.3, 0.0])
    y = ste_round(x, offset)
    assert torch.equal(y.detach(), torch.round(x.detach() - offset) + offset)
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones(4))
    assert torch.equal(ste_round(torch.tensor([1.49, -0.51])), torch.tensor([1.0, -1.0]))


@pytest.mark.parametrize("model", MODELS)
def test_mixed_forward_decodes_what_decompress_decodes(model):
    net = _net(model)
    net.update(force=True)
    net.eval()
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        mixed = mixed_forward(net, x)["x_hat"].clamp(0, 1)
        enc = net.compress(x)
        real = net.decompress(enc["strings"], enc["shape"])["x_hat"]
    assert torch.equal(mixed, real)


@pytest.mark.parametrize("model", MODELS)
def test_mixed_forward_keeps_the_noisy_rate_term(model):
    net = _net(model).train()
    x = torch.rand(2, 3, 64, 64)
    torch.manual_seed(1)
    ref = net(x)["likelihoods"]
    torch.manual_seed(1)
    mixed = mixed_forward(net, x)["likelihoods"]
    assert mixed.keys() == ref.keys()
    same = ["y"] if model == "bmshj2018-factorized" else ["z"]  # the hyper-synthesis sees rounded z
    for key in same:
        assert torch.equal(mixed[key], ref[key]), key


@pytest.mark.parametrize("model", MODELS)
def test_gradients_reach_the_analysis_transform_not_the_quantiles(model):
    net = _net(model).train()
    out = mixed_forward(net, torch.rand(2, 3, 64, 64))
    torch.mean(out["x_hat"] ** 2).backward()  # distortion only: through the rounded latents
    assert net.g_a[0].weight.grad is not None and net.g_a[0].weight.grad.abs().sum() > 0
    assert net.entropy_bottleneck.quantiles.grad is None  # the medians are the aux loss's business


def test_unknown_or_unsupported_quantizers_are_clear_errors():
    with pytest.raises(DlicError, match="unknown quantizer"):
        check_quantizer("round")
    with pytest.raises(DlicError, match="autoregressive"):
        TrainConfig.from_profile("smoke", model="mbt2018", quantizer="mixed").resolved()
    with pytest.raises(DlicError, match="autoregressive"):
        mixed_forward(build_model("mbt2018", N=8, M=8), torch.rand(1, 3, 64, 64))
    assert check_quantizer("mixed", "FactorizedPrior") == "mixed"


def test_mixed_training_runs_releases_and_is_a_run_of_its_own(capsys):
    from dlic_lib.cli import main

    noise = TrainConfig.from_profile("smoke", lmbda=0.0018).resolved()
    mixed = TrainConfig.from_profile("smoke", lmbda=0.0018, quantizer="mixed").resolved()
    assert noise.run_id() != mixed.run_id()
    assert main(["train", "--profile", "smoke", "--qualities", "1", "--quantizer", "mixed", "--no-progress"]) == 0
    assert mixed.run_id() in capsys.readouterr().out
    (result,) = [train(mixed, progress=False)]  # finished: returned from the registry, not retrained
    assert result.finished and result.entry.config["quantizer"] == "mixed" and result.val["bpp"] > 0
    assert result.log.loss.notna().all()
