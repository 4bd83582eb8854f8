"""IFC and wavelet-domain VIF: the pyramid against pyrtools, the statistics against a step-by-step
numpy evaluation of the release's code (with pyrtools' own corrDn for the windowed sums), properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from metrics_helpers import code

from dlic_lib import color
from dlic_lib.metrics import MetricInputError, compute
from dlic_lib.metrics.ifc import ifc, steerable_subbands, vif_wavelet

pt = pytest.importorskip("pyrtools")


@pytest.fixture(scope="module")
def pairs(kodim_crop):
    return kodim_crop, [code(kodim_crop, "jpeg", q) for q in (10, 40, 90)]


def _subbands_pyrtools(y: np.ndarray) -> list[np.ndarray]:
    """The release's subband list [25, 22, 19, …, 4] = (level, 0°), (level, 90°), finest level first."""
    pyr = pt.pyramids.SteerablePyramidSpace(y, height=4, order=5, edge_type="reflect1")
    return [pyr.pyr_coeffs[(lev, b)] for lev in range(4) for b in (0, 3)]


def _reference(yr: np.ndarray, yd: np.ndarray, sigma_n_sq: float | None) -> float:
    from pyrtools.pyramids.c.wrapper import corrDn

    m, num, den = 3, 0.0, 0.0
    for idx, (c, d) in enumerate(zip(_subbands_pyrtools(yr), _subbands_pyrtools(yd))):
        win = 2 ** (4 - idx // 2) + 1
        h, w = (c.shape[0] // m) * m, (c.shape[1] // m) * m
        c, d = np.ascontiguousarray(c[:h, :w]), np.ascontiguousarray(d[:h, :w])
        box = np.ones((win, win))
        kw = dict(edge_type="reflect1", step=(m, m), start=(1, 1), stop=(h - 1, w - 1))
        mx, my = corrDn(c, box / win**2, **kw), corrDn(d, box / win**2, **kw)
        n = win * win
        cov = corrDn(c * d, box, **kw) - n * mx * my
        ssx = np.maximum(corrDn(c * c, box, **kw) - n * mx**2, 0)
        ssy = np.maximum(corrDn(d * d, box, **kw) - n * my**2, 0)
        g = cov / (ssx + 1e-15)
        vv = (ssy - g * cov) / n
        g[ssx < 1e-15], vv[ssx < 1e-15] = 0, ssy[ssx < 1e-15]
        g[ssy < 1e-15], vv[ssy < 1e-15] = 0, 0
        vv[g < 0] = ssy[g < 0]
        g[g < 0] = 0
        vv[vv <= 1e-15] = 1e-15
        # GSM of the reference subband: C_U from all overlapping 3×3 blocks, s² on disjoint ones
        allv = np.stack([c[k : h - (m - 1 - k), j : w - (m - 1 - j)].ravel() for j in range(m) for k in range(m)])
        cu = np.cov(allv, bias=True)
        disj = np.stack([c[k::m, j::m].ravel() for j in range(m) for k in range(m)])
        ss = (np.linalg.inv(cu) @ disj * disj).sum(0).reshape(h // m, w // m) / (m * m)
        lam = np.linalg.eigvalsh(cu)
        off = math.ceil(((win - 1) / 2) / m)
        g, vv, ss = (a[off : a.shape[0] - off, off : a.shape[1] - off] for a in (g, vv, ss))
        for lj in lam:
            num += np.log2(1 + g * g * ss * lj / (vv + (1e-10 if sigma_n_sq is None else sigma_n_sq))).sum()
            if sigma_n_sq is not None:
                den += np.log2(1 + ss * lj / sigma_n_sq).sum()
    return num / yr.size if sigma_n_sq is None else num / den


def test_pyramid_matches_pyrtools(kodim01):
    y = color.rgb_to_y(kodim01[:200, :300])
    ours = steerable_subbands(torch.from_numpy(y)[None, None])
    ref = _subbands_pyrtools(y)
    for i, r in enumerate(ref):
        assert np.abs(ours[i // 2][0, i % 2].numpy() - r).max() < 1e-9


def test_ifc_and_vif_wavelet_match_the_release_steps(pairs):
    ref, dists = pairs
    yr = color.rgb_to_y(ref)
    for d in dists:
        yd = color.rgb_to_y(d)
        assert ifc(ref, d).item() == pytest.approx(_reference(yr, yd, None), rel=1e-9)
        assert vif_wavelet(ref, d).item() == pytest.approx(_reference(yr, yd, 0.4), rel=1e-9)


def test_ifc_properties_batches_and_registry(pairs):
    ref, dists = pairs
    v = [vif_wavelet(ref, d).item() for d in dists]
    f = [ifc(ref, d).item() for d in dists]
    assert v[0] < v[1] < v[2] < 1 and f[0] < f[1] < f[2]
    assert vif_wavelet(ref, ref).item() == pytest.approx(1.0, abs=1e-9)
    assert ifc(ref, ref).item() > f[2]
    np.testing.assert_allclose(ifc(np.stack([ref] * 3), np.stack(dists)).numpy(), f, rtol=1e-10)
    assert ifc(ref / 255.0, dists[0] / 255.0, data_range=1.0).item() == pytest.approx(f[0], rel=1e-9)
    df = compute(ref, dists[0], metrics=["ifc", "vif_wavelet"])
    assert df["ifc"][0] == pytest.approx(f[0]) and df["vif_wavelet"][0] == pytest.approx(v[0])


def test_ifc_bad_input(pairs):
    ref, dists = pairs
    for fn in (ifc, vif_wavelet):
        with pytest.raises(MetricInputError, match="at least 72×72"):
            fn(ref[:71], dists[0][:71])
        with pytest.raises(MetricInputError, match="shapes differ"):
            fn(ref, dists[0][:, :-1])
        bad = ref.astype(np.float64)
        bad[0, 0, 0] = np.nan
        with pytest.raises(MetricInputError, match="NaN or infinite"):
            fn(bad, ref.astype(np.float64))
    assert np.isfinite(ifc(ref[:72, :72], dists[0][:72, :72]).item())
