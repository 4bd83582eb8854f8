"""dlic_lib.color against scikit-image and Pillow, and its round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dlic_lib.color import (
    planes_to_rgb, rgb_to_planes, rgb_to_y, rgb_to_ycbcr, subsample_420, to_uint8, upsample_420, ycbcr_to_rgb,
)
from dlic_lib.errors import DlicError


@pytest.fixture(scope="module")
def rgb():
    return np.random.default_rng(3).integers(0, 256, (37, 53, 3), dtype=np.uint8)


def test_bt601_limited_matches_skimage(rgb):
    from skimage.color import rgb2ycbcr, ycbcr2rgb

    ours = rgb_to_ycbcr(rgb, "bt601", "limited")
    np.testing.assert_allclose(ours, rgb2ycbcr(rgb), atol=0.02)  # skimage rounds its matrix to 3 decimals
    back = ycbcr_to_rgb(ours, "bt601", "limited") / 255.0
    np.testing.assert_allclose(back, ycbcr2rgb(rgb2ycbcr(rgb)), atol=2e-4)


def test_bt601_full_matches_pillow_jfif(rgb):
    pil = np.asarray(Image.fromarray(rgb).convert("YCbCr"), dtype=np.float64)
    ours = rgb_to_ycbcr(rgb, "bt601", "full")
    np.testing.assert_allclose(ours, pil, atol=1.01)  # Pillow uses fixed point and truncates
    assert np.abs(ours - pil).mean() < 0.6


@pytest.mark.parametrize("standard", ["bt601", "bt709"])
@pytest.mark.parametrize("rng_", ["full", "limited"])
def test_round_trip_numpy_and_torch(rgb, standard, rng_):
    back = ycbcr_to_rgb(rgb_to_ycbcr(rgb, standard, rng_), standard, rng_)
    np.testing.assert_allclose(back, rgb, atol=1e-9)
    t = torch.from_numpy(rgb).permute(2, 0, 1)[None].double()
    tb = ycbcr_to_rgb(rgb_to_ycbcr(t, standard, rng_, channel_axis=1), standard, rng_, channel_axis=1)
    np.testing.assert_allclose(tb[0].permute(1, 2, 0).numpy(), rgb, atol=1e-9)


def test_bt709_luma_and_grey_axis():
    grey = np.full((2, 2, 3), 77, np.uint8)
    for std in ("bt601", "bt709"):
        ycc = rgb_to_ycbcr(grey, std)
        np.testing.assert_allclose(ycc[..., 0], 77)
        np.testing.assert_allclose(ycc[..., 1:], 128)
    red = np.array([[[255, 0, 0]]], np.uint8)
    assert rgb_to_y(red, "bt709")[0, 0] == pytest.approx(0.2126 * 255)
    assert rgb_to_y(red, "bt601", "limited")[0, 0] == pytest.approx(16 + 0.299 * 219)


def test_420_resampling():
    plane = np.arange(35, dtype=np.float64).reshape(5, 7)
    sub = subsample_420(plane)
    assert sub.shape == (3, 4) and sub[0, 0] == np.mean(plane[:2, :2])
    flat = np.full((3, 4), 9.0)
    np.testing.assert_allclose(upsample_420(flat, (5, 7)), 9.0)
    assert upsample_420(sub, (5, 7), "nearest").shape == (5, 7)
    with pytest.raises(DlicError):
        upsample_420(sub, (8, 8))


@pytest.mark.parametrize("chroma", ["420", "444"])
@pytest.mark.parametrize("depth", [8, 10])
def test_planes_round_trip(kodim_crop, chroma, depth):
    y, cb, cr = rgb_to_planes(kodim_crop, chroma, bit_depth=depth)
    assert y.dtype == (np.uint8 if depth == 8 else np.uint16)
    assert cb.shape == ((96, 128) if chroma == "420" else (192, 256))
    back = planes_to_rgb(y, cb, cr, bit_depth=depth)
    err = np.abs(back.astype(int) - kodim_crop.astype(int))
    if chroma == "444":
        assert err.max() <= (2 if depth == 8 else 1)
    else:  # chroma resolution is lost, luma is kept
        assert 0 < err.mean() < 6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"chroma": "422"}, "chroma"), ({"bit_depth": 12}, "bit depth"), ({"standard": "bt2020"}, "standard")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(DlicError, match=match):
        rgb_to_planes(np.zeros((4, 4, 3), np.uint8), **kwargs)


def test_to_uint8_rounds_and_clips():
    np.testing.assert_array_equal(to_uint8(np.array([-3.0, 0.5, 1.5, 254.6, 300.0])), [0, 0, 2, 255, 255])
