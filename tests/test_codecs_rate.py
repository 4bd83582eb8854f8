"""Rate targeting: the seed-000 targets on Kodak images, few encodes, honest reports when unreachable."""

from __future__ import annotations

import numpy as np
import pytest

from dlic_lib.codecs import SEED000_TARGETS, encode_to_bpp, get_codec
from dlic_lib.data import read_image
from dlic_lib.errors import DlicError


@pytest.fixture(scope="module")
def kodak_pair(kodak_dir):
    return {name: read_image(kodak_dir / f"{name}.png") for name in ("kodim03", "kodim23")}


def _check(result, codec):
    """Within 2 %, or an honest closest point: at the parameter's end (unreachable) or between whole values."""
    spec = codec.quality_spec
    if result.within_tolerance:
        return
    if not result.reachable:
        # the parameter's end was tried and the result is the closest rate reached
        end = spec.low if (result.bpp > result.target_bpp) == spec.increasing else spec.high
        bpps = dict(result.trials)
        assert end in bpps, result.trials
        assert result.bpp == (min(bpps.values()) if result.bpp > result.target_bpp else max(bpps.values()))
        return
    assert spec.integer, f"{codec.name}: continuous parameter but missed the target: {result}"
    # whole-valued parameter: the neighbours lie on both sides of the target, the chosen one is closest
    step = 1 if spec.increasing else -1
    bpps = dict(result.trials)
    q = result.quality
    for n in (q - step, q + step):
        if spec.low <= n <= spec.high and n not in bpps:
            bpps[n] = codec.encode(_image[0], n).bpp
    lower, higher = bpps.get(q - step), bpps.get(q + step)
    err = abs(np.log(result.bpp / result.target_bpp))
    for other in (lower, higher):
        if other is not None:
            assert err <= abs(np.log(other / result.target_bpp)) + 1e-12
    assert (lower is None or lower <= result.target_bpp * 1.02) and (higher is None or higher >= result.target_bpp * 0.98)


_image: list[np.ndarray] = []


@pytest.mark.parametrize("name", ["jpeg", "webp", "jpeg2000", "hevc"])
def test_four_targets_on_full_kodak_images(kodak_pair, name):
    codec = get_codec(name, **({"mode": "crf", "preset": "veryfast"} if name == "hevc" else {}))
    for img_name, img in kodak_pair.items():
        _image[:] = [img]
        for target in SEED000_TARGETS:
            res = encode_to_bpp(img, codec, target)
            _check(res, codec)
            assert res.encodes <= 10, (img_name, target, res.trials)
            # fine parameters hit every target in reach; JPEG and WebP cannot go below ~0.07 bpp here
            if name in ("jpeg2000", "hevc") or target >= 0.125:
                assert res.within_tolerance, (name, img_name, target, res.bpp)
            else:
                assert not res.reachable and not res.within_tolerance


@pytest.mark.parametrize(
    ("name", "options"),
    [("av1", {"cpu_used": 8}), ("vvc", {"preset": "faster"}), ("jpegxl", {"effort": 3})],
)
def test_four_targets_on_kodak_crops(kodak_pair, name, options):
    codec = get_codec(name, **options)
    for img in kodak_pair.values():
        crop = np.ascontiguousarray(img[128:320, 256:512])
        _image[:] = [crop]
        for target in SEED000_TARGETS:
            _check(encode_to_bpp(crop, codec, target), codec)


def test_not_above_and_rerun_is_free(kodim_crop, tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CACHE_DIR", str(tmp_path))
    codec = get_codec("jpeg")
    res = encode_to_bpp(kodim_crop, codec, 0.4, not_above=True)
    assert res.bpp <= 0.4 and res.within_tolerance
    assert all(b > 0.4 or b <= res.bpp for _, b in res.trials)
    again = encode_to_bpp(kodim_crop, codec, 0.4, not_above=True)
    assert again.cache_hits == again.encodes and again.coded.data == res.coded.data


def test_string_codec_uses_fine_hevc_mode(kodim_crop):
    res = encode_to_bpp(kodim_crop, "hevc", 0.5)
    assert res.coded.params["mode"] == "crf" and res.within_tolerance


@pytest.mark.parametrize("target", [0, -1, float("nan"), "x"])
def test_bad_target(kodim_crop, target):
    with pytest.raises(DlicError, match="target bpp"):
        encode_to_bpp(kodim_crop, "jpeg", target)


def test_bad_tolerance(kodim_crop):
    with pytest.raises(DlicError, match="tolerance"):
        encode_to_bpp(kodim_crop, "jpeg", 0.5, tolerance=2)
