"""λ ladder: CompressAI zoo values, λ → quality mapping, parsing of user input."""

import math

import pytest

from dlic_lib.errors import DlicError
from dlic_lib.train.ladder import ZOO_LAMBDAS, lambda_for_quality, parse_lambdas, parse_qualities, quality_for_lambda


def test_zoo_values_are_compressais():
    from compressai.zoo.image import cfgs

    assert ZOO_LAMBDAS["mse"] == (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800)
    assert ZOO_LAMBDAS["ms-ssim"] == (2.40, 4.58, 8.73, 16.64, 31.73, 60.50, 115.37, 220.00)
    assert len(ZOO_LAMBDAS["mse"]) == len(cfgs["bmshj2018-factorized"])


@pytest.mark.parametrize("metric", ["mse", "ms-ssim"])
def test_zoo_lambdas_map_to_their_quality(metric):
    for q in range(1, 9):
        assert lambda_for_quality(q, metric) == ZOO_LAMBDAS[metric][q - 1]
        assert quality_for_lambda(ZOO_LAMBDAS[metric][q - 1], metric) == q


def test_other_lambdas_map_to_the_nearest_rung_on_a_log_scale():
    mid = math.sqrt(0.0018 * 0.0035)  # geometric midpoint between q1 and q2
    assert quality_for_lambda(mid * 0.99) == 1
    assert quality_for_lambda(mid * 1.01) == 2
    assert quality_for_lambda(1e-6) == 1
    assert quality_for_lambda(10.0) == 8
    assert quality_for_lambda(100.0, "ms-ssim") == 7


def test_parsing():
    assert parse_lambdas("0.0018, 0.0067,0.025") == [0.0018, 0.0067, 0.025]
    assert parse_lambdas([0.01]) == [0.01]
    assert parse_qualities("1,3,8") == [1, 3, 8]


@pytest.mark.parametrize(
    "call",
    [
        lambda: parse_lambdas("0.01,abc"),
        lambda: parse_lambdas("0.01,-1"),
        lambda: parse_lambdas(""),
        lambda: parse_lambdas("nan"),
        lambda: parse_qualities("0"),
        lambda: parse_qualities("9"),
        lambda: parse_qualities("x"),
        lambda: lambda_for_quality(9),
        lambda: lambda_for_quality(1, "psnr"),
        lambda: quality_for_lambda(0.0),
        lambda: quality_for_lambda(0.01, "ssim"),
    ],
)
def test_bad_input_is_a_clear_error(call):
    with pytest.raises(DlicError):
        call()


def test_hyperprior_profiles_round_crops_to_the_64_pixel_stride():
    from dlic_lib.train import TrainConfig

    bh = TrainConfig.from_profile("quick", model="bmshj2018-hyperprior", lmbda=0.0018).resolved()
    assert (bh.crop, bh.batch) == (128, 4)  # 96 → 128, batch scaled to keep ~the pixels per step
    bf = TrainConfig.from_profile("quick", model="bmshj2018-factorized", lmbda=0.0018).resolved()
    assert (bf.crop, bf.batch) == (96, 8)
    with pytest.raises(DlicError, match="multiple of 64"):
        TrainConfig.from_profile("quick", model="mbt2018-mean", lmbda=0.0018, crop=96).resolved()


def test_finetune_ladder_starts_from_the_mse_rung_and_records_it(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))  # no checkpoint from other tests

    from dlic_lib.checkpoints import find_checkpoint
    from dlic_lib.train import finetune_ladder, train_ladder

    with pytest.raises(DlicError, match="needs its starting model"):
        finetune_ladder("bmshj2018-factorized", [1], profile="smoke", progress=False)
    (base,) = train_ladder("bmshj2018-factorized", qualities=[1], profile="smoke", progress=False)
    (tuned,) = finetune_ladder("bmshj2018-factorized", [1], profile="smoke", progress=False)
    start = find_checkpoint("bmshj2018-factorized", "mse", 1)
    entry = find_checkpoint("bmshj2018-factorized", "ms-ssim", 1)
    assert entry is not None and entry.config["init_from"] == str(start.path)
    assert entry.config["steps"] == 4 and entry.config["crop"] == 192
    assert tuned.run_dir != base.run_dir
    # the fine-tuned weights moved away from the starting ones
    w0 = torch.load(start.path, weights_only=True)["state_dict"]["g_a.0.weight"].float()
    w1 = torch.load(entry.path, weights_only=True)["state_dict"]["g_a.0.weight"].float()
    assert not torch.equal(w0, w1) and (w1 - w0).abs().max() < 0.05
    with pytest.raises(DlicError, match="trains every objective from scratch"):
        finetune_ladder("bmshj2018-factorized", [1], profile="full", progress=False)
    (longer,) = finetune_ladder("bmshj2018-factorized", [1], profile="smoke", progress=False, overrides={"steps": 6})
    assert longer.run_dir != tuned.run_dir and longer.step == 6


def test_warm_start_ladder_starts_each_rung_from_the_one_below(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))  # no checkpoint from other tests

    from dlic_lib.cli import main
    from dlic_lib.train import train_ladder

    results = train_ladder("bmshj2018-factorized", qualities=[3, 1, 2], profile="smoke", progress=False, warm_start=True)
    assert [r.entry.quality for r in results] == [3, 1, 2]  # the order given
    q3, q1, q2 = results
    assert q1.config.init_from is None
    assert q2.config.init_from == str(q1.run_dir / "release.pt")
    assert q3.config.init_from == str(q2.run_dir / "release.pt")
    assert q3.entry.config["init_from"] == q3.config.init_from  # recorded with the checkpoint
    (scratch,) = train_ladder("bmshj2018-factorized", qualities=[3], profile="smoke", progress=False)
    assert scratch.run_dir != q3.run_dir  # a warm-started rung is a run of its own
    with pytest.raises(DlicError, match="one after another"):
        train_ladder("bmshj2018-factorized", qualities=[1, 2], profile="smoke", progress=False, warm_start=True, jobs=2)
    with pytest.raises(DlicError, match="pass warm_start=True"):
        train_ladder("bmshj2018-factorized", qualities=[1, 2], profile="smoke", progress=False, warm_steps=3)
    with pytest.raises(DlicError, match="warm_steps must be a positive integer"):
        train_ladder("bmshj2018-factorized", qualities=[1, 2], profile="smoke", progress=False, warm_start=True, warm_steps=0)
    # warm rungs can train longer than the first one
    longer = train_ladder("bmshj2018-factorized", qualities=[1, 2], profile="smoke", progress=False, warm_start=True,
                          warm_steps=10)
    assert [r.step for r in longer] == [8, 10] and longer[0].run_dir == q1.run_dir
    # the CLI reaches the same runs (already trained, so nothing is trained again)
    assert main(["train", "--profile", "smoke", "--qualities", "1,2", "--warm-start", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert str(q1.run_dir) in out and str(q2.run_dir) in out
