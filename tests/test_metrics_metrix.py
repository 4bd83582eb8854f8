"""UQI against sewar (its variant) and against a direct window-by-window evaluation of the paper's formula."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_helpers import code

from dlic_lib import color
from dlic_lib.metrics import MetricInputError, compute
from dlic_lib.metrics.metrix import uqi, uqi_sewar


@pytest.fixture(scope="module")
def small_pair(kodim_crop):
    ref = np.ascontiguousarray(kodim_crop[20:84, 40:136])  # 64×96
    return ref, code(ref, "jpeg", 20)


def _uqi_by_windows(x: np.ndarray, y: np.ndarray, b: int = 8) -> float:
    qs = []
    for i in range(x.shape[0] - b + 1):
        for j in range(x.shape[1] - b + 1):
            u, v = x[i : i + b, j : j + b].ravel(), y[i : i + b, j : j + b].ravel()
            mu, mv = u.mean(), v.mean()
            cov = ((u - mu) * (v - mv)).mean()
            qs.append(4 * cov * mu * mv / ((u.var() + v.var()) * (mu * mu + mv * mv)))
    return float(np.mean(qs))


def test_uqi_matches_the_formula(small_pair):
    ref, dist = small_pair
    yr, yd = color.rgb_to_y(ref), color.rgb_to_y(dist)
    assert abs(uqi(ref, dist).item() - _uqi_by_windows(yr, yd)) < 1e-10


def test_uqi_sewar_matches_sewar(small_pair):
    from sewar.full_ref import uqi as sewar_uqi

    ref, dist = small_pair
    yr, yd = color.rgb_to_y(ref), color.rgb_to_y(dist)
    assert abs(uqi_sewar(ref, dist).item() - sewar_uqi(yr, yd)) < 1e-10
    assert abs(uqi_sewar(ref, dist, channels="rgb").item() - sewar_uqi(ref, dist)) < 1e-10
    assert abs(uqi_sewar(ref, dist).item() - uqi(ref, dist).item()) > 1e-3  # sewar's formula is not UQI


def test_uqi_special_cases_and_errors(small_pair):
    ref, _ = small_pair
    flat = np.full((32, 32), 100.0)
    assert uqi(flat, flat).item() == 1.0  # flat equal blocks: Q = 1 as in img_qi.m
    assert uqi(ref, ref).item() == pytest.approx(1.0, abs=1e-12)
    assert uqi(flat, flat * 0.5).item() == pytest.approx(2 * 100 * 50 / (100**2 + 50**2))
    with pytest.raises(MetricInputError, match="at least 8×8"):
        uqi(flat[:7], flat[:7])
    df = compute(ref, ref, metrics=["uqi", "uqi_sewar"])
    assert df["uqi"][0] == pytest.approx(1.0)
