"""VSNR: the 9/7 DWT against PyWavelets, the whole computation against a step-by-step numpy
evaluation of MeTriX MuX's ``vsnr_modified.m`` (no installable VSNR exists), and its branches."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from metrics_helpers import code

from dlic_lib import color
from dlic_lib.metrics import MetricInputError, compute
from dlic_lib.metrics.vsnr import dwt97, metrix_pad, vsnr

pywt = pytest.importorskip("pywt")


def _dwt_pywt(img: np.ndarray, levels: int = 5) -> list[tuple[np.ndarray, ...]]:
    """5-level 2-D 9/7 DWT from PyWavelets' bior4.4 ('reflect' = whole-sample symmetric borders)."""

    def step(a, axis):
        lo, hi = pywt.dwt(a, "bior4.4", mode="reflect", axis=axis)
        n = a.shape[axis] // 2
        return np.take(lo, range(2, 2 + n), axis=axis), np.take(hi, range(2, 2 + n), axis=axis)

    out, ll = [], img
    for _ in range(levels):
        lo, hi = step(ll, 1)
        ll, lh = step(lo, 0)
        hl, hh = step(hi, 0)
        out.append((hl, lh, hh))
    return out


def _vsnr_numpy(src: np.ndarray, dst: np.ndarray, alpha: float = 0.04) -> float:
    b, k, g = 0.0, 0.02874, 2.2
    fs = 96 * 19.1 * math.tan(math.pi / 180) * 2.0 ** -np.arange(1, 6)

    def lum(p):
        return (b + k * p) ** g

    def u8(v):
        return np.floor(np.clip(v, 0, 255) + 0.5)

    def contrasts(img, zeta):
        return np.array([np.sqrt(sum((np.std(band) / (zeta * 2.0**s)) ** 2 for band in bands))
                         for s, bands in enumerate(_dwt_pywt(img), start=1)])  # fmt: skip

    def best(v):
        a0, a1, a2 = 59.8, -0.1258, -0.1087
        return np.maximum(0, (a0 - a0 * v) * fs ** (((-1 - a2) * v + a2) * np.log(fs) + (1 - a1) * v + a1))

    mx = src.mean()
    src_lum = lum(u8(src))
    ml = src_lum.mean()
    ci = src_lum.std() / ml
    zeta = ml * (b + k * mx) ** (1 - g) / (k * g)
    cis = contrasts(src, zeta)
    cte = np.linalg.norm(cis / best(0))
    err = u8(dst - src + mx)
    ce = lum(err).std() / ml
    if ce <= cte:
        lum_diff = abs(lum(err).mean() - ml)
        if lum_diff / ml < 0.01:
            return math.inf
        return 20 * math.log10(10 ** (ml / lum_diff) / 1.5)
    ces = contrasts(err, zeta)
    lo, hi = 0.0, 1.0
    for _ in range(32):
        v = (lo + hi) / 2
        csnrs = best(v)
        diff = np.linalg.norm(cis / csnrs) - ce
        if lo == hi or abs(diff) < 0.01 * ce:
            break
        lo, hi = (v, hi) if diff < 0 else (lo, v)
    d_gp = np.linalg.norm(cis / csnrs - ces)
    return 20 * math.log10(ci / (alpha * ce + (1 - alpha) * d_gp / math.sqrt(2)))


def test_dwt97_matches_pywavelets(kodim_crop):
    y = color.rgb_to_y(kodim_crop)  # 192×256: divisible by 2^5
    ours = dwt97(torch.from_numpy(y))
    for lev, (a, b) in enumerate(zip(ours, _dwt_pywt(y))):
        for o in range(3):
            assert np.abs(a[o].numpy() - b[o]).max() < 1e-8, (lev, o)


def test_metrix_pad_follows_the_matlab_indexing():
    x = np.arange(7 * 5, dtype=np.float64).reshape(7, 5)
    got = metrix_pad(torch.from_numpy(x)[None, None], multiple=4, minimum=12)[0, 0].numpy()
    h, w, hm, wm = 7, 5, 12, 12
    top, left = round((hm - h) / 2), round((wm - w) / 2)
    ref = np.zeros((hm, wm))
    # MATLAB (1-based): padded(top+(1:H), 1:left) = in(1:H, 1 + min(W-1, left:-1:1)), etc.
    ref[top : top + h, :left] = x[:, [min(w - 1, j) for j in range(left, 0, -1)]]
    ref[top : top + h, left + w :] = x[:, [w - 1 - min(w - 1, j) for j in range(1, wm - w - left + 1)]]
    ref[:top, left : left + w] = x[[min(h - 1, i) for i in range(top, 0, -1)], :]
    ref[top + h :, left : left + w] = x[[h - 1 - min(h - 1, i) for i in range(1, hm - h - top + 1)], :]
    ref[:top, :left], ref[top + h :, :left] = x[1, 1], x[h - 2, 1]
    ref[:top, left + w :], ref[top + h :, left + w :] = x[1, w - 2], x[h - 2, w - 2]
    ref[top : top + h, left : left + w] = x
    np.testing.assert_array_equal(got, ref)


def test_vsnr_matches_the_metrix_steps(kodim_crop):
    yr = color.rgb_to_y(kodim_crop)
    for q in (10, 30, 60, 90):
        dist = code(kodim_crop, "jpeg", q)
        assert abs(vsnr(kodim_crop, dist).item() - _vsnr_numpy(yr, color.rgb_to_y(dist))) < 1e-9
    # a size that MeTriX pads (100×150 → 128×160)
    small, sd = kodim_crop[:100, :150], code(np.ascontiguousarray(kodim_crop[:100, :150]), "jpeg", 20)
    pr = metrix_pad(torch.from_numpy(color.rgb_to_y(small))[None, None])[0, 0].numpy()
    pd = metrix_pad(torch.from_numpy(color.rgb_to_y(sd))[None, None])[0, 0].numpy()
    assert pr.shape == (128, 160)
    assert abs(vsnr(small, sd).item() - _vsnr_numpy(pr, pd)) < 1e-9


def test_vsnr_branches_order_and_batches(kodim_crop):
    y = color.rgb_to_y(kodim_crop)
    values = [vsnr(kodim_crop, code(kodim_crop, "jpeg", q)).item() for q in (10, 40, 90)]
    assert values[0] < values[1] < values[2]
    # brightness-only change: Weber's law branch, 20 log10(10^(μ_L/ΔL) / 1.5)
    lum = (0.02874 * np.floor(np.clip(y, 0, 255) + 0.5)) ** 2.2
    shifted = y + 20
    err = np.floor(np.clip(shifted - y + y.mean(), 0, 255) + 0.5)
    ml, dl = lum.mean(), abs(((0.02874 * err) ** 2.2).mean() - lum.mean())
    assert vsnr(y, shifted).item() == pytest.approx(20 * math.log10(10 ** (ml / dl) / 1.5), rel=1e-12)
    # a low-contrast texture with one pixel changed by 1: below threshold, +inf; visible noise: finite
    texture = 128 + 3 * np.random.RandomState(0).randn(128, 128)
    bumped = texture.copy()
    bumped[64, 64] += 1
    assert vsnr(texture, bumped).item() == math.inf
    noisy = texture + 2 * np.random.RandomState(1).randn(128, 128)
    assert vsnr(texture, noisy).item() == pytest.approx(_vsnr_numpy(texture, noisy), abs=1e-9)
    dists = np.stack([code(kodim_crop, "jpeg", q) for q in (10, 40, 90)])
    np.testing.assert_allclose(vsnr(np.stack([kodim_crop] * 3), dists).numpy(), values, atol=1e-12)
    assert compute(kodim_crop, dists[0], metrics=["vsnr"])["vsnr"][0] == pytest.approx(values[0])


def test_vsnr_bad_input(kodim_crop):
    dist = code(kodim_crop, "jpeg", 30)
    with pytest.raises(MetricInputError, match="alpha"):
        vsnr(kodim_crop, dist, alpha=1.5)
    with pytest.raises(MetricInputError, match="at least 8×8"):
        vsnr(kodim_crop[:7], dist[:7])
    with pytest.raises(MetricInputError, match="shapes differ"):
        vsnr(kodim_crop, dist[1:])
    bad = kodim_crop.astype(np.float64)
    bad[2, 2, 2] = np.nan
    with pytest.raises(MetricInputError, match="NaN or infinite"):
        vsnr(bad, dist.astype(np.float64))
