"""read_image: documented conversions and clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dlic_lib.data import read_image, write_png
from dlic_lib.data.describe import colorfulness, spatial_information
from dlic_lib.errors import ImageReadError


def test_rgb_round_trip(tmp_path, kodim_crop):
    path = write_png(tmp_path / "a.png", kodim_crop)
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == kodim_crop.shape
    np.testing.assert_array_equal(out, kodim_crop)


def test_grayscale_and_palette_are_expanded(tmp_path, kodim_crop):
    gray = Image.fromarray(kodim_crop).convert("L")
    gray.save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (*kodim_crop.shape[:2], 3)
    np.testing.assert_array_equal(out[..., 0], np.asarray(gray))
    Image.fromarray(kodim_crop).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").shape == kodim_crop.shape


def test_rgba_opaque_is_accepted_transparent_refused(tmp_path, kodim_crop):
    rgba = np.dstack([kodim_crop, np.full(kodim_crop.shape[:2], 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "o.png")
    np.testing.assert_array_equal(read_image(tmp_path / "o.png"), kodim_crop)
    rgba[0, 0, 3] = 10
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    with pytest.raises(ImageReadError, match="transparent"):
        read_image(tmp_path / "t.png")


def test_16bit_grayscale_is_scaled(tmp_path):
    arr = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "g16.png")
    out = read_image(tmp_path / "g16.png")
    assert out[0, :, 0].tolist() == [0, 100, 255]


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_corrupt_files_are_refused(tmp_path, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match="bad.png"):
        read_image(path)


def test_truncated_png_is_refused(tmp_path, kodim_crop):
    path = write_png(tmp_path / "full.png", kodim_crop)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="corrupt or truncated"):
        read_image(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageReadError, match="not found"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)


def test_tiny_image(tmp_path):
    write_png(tmp_path / "1.png", np.zeros((1, 1, 3), np.uint8))
    assert read_image(tmp_path / "1.png").shape == (1, 1, 3)


def test_spatial_information_matches_direct_formula(kodim_crop):
    from scipy import ndimage

    y = kodim_crop.astype(float) @ np.array([0.299, 0.587, 0.114])
    mag = np.hypot(ndimage.sobel(y, 1, mode="nearest"), ndimage.sobel(y, 0, mode="nearest"))
    assert spatial_information(kodim_crop) == pytest.approx(mag[1:-1, 1:-1].std(), rel=1e-12)
    flat = np.full((16, 16, 3), 77, np.uint8)
    assert spatial_information(flat) == 0.0 and colorfulness(flat) == 0.0
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255  # rg = 255, yb = 127.5: colourfulness = 0.3·hypot(255, 127.5)
    assert colorfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))
