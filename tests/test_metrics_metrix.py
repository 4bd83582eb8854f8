"""MeTriX MuX metrics: UQI against sewar and the window formula; WSNR and NQM against closed forms and the formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
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


# --- WSNR and NQM: no independent implementation is installable (MeTriX MuX is MATLAB-only), so
# they are checked against closed forms, a plain numpy evaluation of the formulas and properties.


@pytest.fixture(scope="module")
def square_pairs(kodim01):
    ref = np.ascontiguousarray(kodim01[:256, 200:456])
    return ref, [code(ref, "jpeg", q) for q in (10, 40, 90)]


def _wsnr_numpy(x: np.ndarray, y: np.ndarray, nfreq: float = 60.0) -> float:
    h, w = x.shape
    fy = (np.arange(h) - h / 2 + 0.5) / h * 2 * nfreq
    fx = (np.arange(w) - w / 2 + 0.5) / h * 2 * nfreq  # MeTriX scales both axes by the row count
    xx, yy = np.meshgrid(fx, fy)
    plane = xx + 1j * yy
    radfreq = np.abs(plane) / ((1 - 0.7) / 2 * np.cos(4 * np.angle(plane)) + (1 + 0.7) / 2)
    csf = 2.6 * (0.0192 + 0.114 * radfreq) * np.exp(-((0.114 * radfreq) ** 1.1))
    csf[radfreq < 7.8909] = 0.9809
    err = np.fft.fftshift(np.fft.fft2(x - y)) * csf
    return float(10 * np.log10(np.sum(np.abs(np.fft.fft2(x)) ** 2) / np.sum(np.abs(err) ** 2)))


def test_wsnr_matches_formula_and_closed_form(square_pairs):
    from dlic_lib.metrics.metrix import wsnr

    ref, dists = square_pairs
    yr = color.rgb_to_y(ref)
    for d in dists:
        assert abs(wsnr(ref, d).item() - _wsnr_numpy(yr, color.rgb_to_y(d))) < 1e-9
    rect = code(ref[:, :200], "jpeg", 30)  # non-square
    assert abs(wsnr(ref[:, :200], rect).item() - _wsnr_numpy(yr[:, :200], color.rgb_to_y(rect))) < 1e-9
    # a constant error e lands on the DC bin, where the CSF is its plateau 0.9809:
    # WSNR = 10 log10(mean(x²) / (0.9809 e)²)
    shifted = yr + 3.0
    expect = 10 * np.log10(np.mean(yr**2) / (0.9809 * 3.0) ** 2)
    assert wsnr(yr, shifted).item() == pytest.approx(expect, abs=1e-9)
    # a fine grating (Nyquist rows) is far less visible than the same error at low frequency
    rows = np.indices(yr.shape)[0]
    fine = wsnr(yr, yr + 4 * (-1.0) ** rows).item()
    coarse = wsnr(yr, yr + 4 * np.cos(2 * np.pi * rows / 64)).item()
    assert fine > coarse + 10
    assert wsnr(ref, dists[2]).item() > wsnr(ref, dists[1]).item() > wsnr(ref, dists[0]).item()
    assert wsnr(ref, ref).item() == float("inf")


def _nqm_numpy(x: np.ndarray, y: np.ndarray) -> float:
    h, w = x.shape
    ky, kx = np.meshgrid(np.arange(h) - h / 2, np.arange(w) - w / 2, indexing="ij")  # MATLAB -n/2:n/2-1
    r = np.hypot(ky, kx)

    def g(rr, lo, hi, outside, phase):
        arg = np.where((rr >= lo) & (rr <= hi), rr, outside)
        return np.fft.fftshift(0.5 * (1 + np.cos(np.pi * np.log2(arg) - phase)))

    filters = [g(r + 2, 1, 4, 4, np.pi), g(r, 1, 4, 4, np.pi), g(r, 2, 8, 0.5, 0), g(r, 4, 16, 4, np.pi),
               g(r, 8, 32, 0.5, 0), g(r, 16, 64, 4, np.pi)]  # fmt: skip

    def ctf(f):
        return 1 / (520 * (0.0192 + 0.114 * f) * np.exp(-((0.114 * f) ** 1.1)))

    def decompose(img):
        spec = np.fft.fft2(img)
        parts = [np.real(np.fft.ifft2(spec * f)) for f in filters]
        acc, contrasts = parts[0].copy(), []
        for band in parts[1:]:
            contrasts.append(band / acc)
            acc = acc + band
        return parts[1:], contrasts

    a, c = decompose(x)
    ai, ci = decompose(y)
    view = (1 / 3.5) * (180 / np.pi)
    y1, y2 = np.zeros_like(x), np.zeros_like(x)
    for k in range(5):
        cik = ci[k].copy()
        cik[np.abs(cik) > 1] = 1
        ct = ctf(k + 1)
        t = ct * (0.86 * (c[k] / ct - 1) + 0.3)
        aik = np.where(np.abs(cik - c[k]) - t < 0, a[k], ai[k])
        d = ctf(2.0 ** (k + 1) / view)
        y1 += np.where(np.abs(c[k]) < d, 0, a[k])
        y2 += np.where(np.abs(cik) < d, 0, aik)
    return float(10 * np.log10(np.sum(y1**2) / np.sum((y1 - y2) ** 2)))


def test_nqm_matches_formula_and_properties(square_pairs, kodim_crop):
    from dlic_lib.metrics.metrix import _nqm_filters, nqm

    ref, dists = square_pairs
    yr = color.rgb_to_y(ref)
    for d in dists:
        assert abs(nqm(ref, d).item() - _nqm_numpy(yr, color.rgb_to_y(d))) < 1e-9
    rect = code(kodim_crop, "jpeg", 20)  # non-square sizes, then odd ones (half-integer grid)
    assert abs(nqm(kodim_crop, rect).item() - _nqm_numpy(color.rgb_to_y(kodim_crop), color.rgb_to_y(rect))) < 1e-9
    odd_r, odd_d = kodim_crop[:101, :155], rect[:101, :155]
    assert abs(nqm(odd_r, odd_d).item() - _nqm_numpy(color.rgb_to_y(odd_r), color.rgb_to_y(odd_d))) < 1e-9
    # Peli's cosine-log bands tile the spectrum: G1 + … + G5 = 1 between 2 and 32 cycles/image
    g = _nqm_filters(128, 128, torch.device("cpu"))
    k = torch.fft.fftfreq(128, dtype=torch.float64) * 128  # even sizes: the grid is the FFT frequency index
    r = torch.hypot(*torch.meshgrid(k, k, indexing="ij"))
    mid = (r >= 2) & (r <= 32)
    assert torch.allclose(g[1:].sum(0)[mid], torch.ones_like(r[mid]), atol=1e-12)
    assert nqm(ref, dists[2]).item() > nqm(ref, dists[1]).item() > nqm(ref, dists[0]).item()
    assert nqm(ref, ref).item() == float("inf")


def test_wsnr_nqm_registry_batches_and_bad_input(square_pairs):
    from dlic_lib.metrics.metrix import nqm, wsnr

    ref, dists = square_pairs
    for fn in (wsnr, nqm):
        batch = fn(np.stack([ref] * 3), np.stack(dists)).numpy()
        np.testing.assert_allclose(batch, [fn(ref, d).item() for d in dists], atol=1e-10)
        assert fn(ref / 255.0, dists[0] / 255.0, data_range=1.0).item() == pytest.approx(batch[0], abs=1e-8)
        with pytest.raises(MetricInputError, match="shapes differ"):
            fn(ref, dists[0][:-1])
        bad = ref.astype(np.float64)
        bad[1, 1, 1] = np.inf
        with pytest.raises(MetricInputError, match="NaN or infinite"):
            fn(bad, ref.astype(np.float64))
    with pytest.raises(MetricInputError, match="at least 8×8"):
        nqm(ref[:7, :7], ref[:7, :7])
    df = compute(ref, dists[0], metrics="wsnr,nqm,uqi")
    assert df["nqm"][0] == pytest.approx(nqm(ref, dists[0]).item())
