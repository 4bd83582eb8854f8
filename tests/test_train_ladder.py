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
