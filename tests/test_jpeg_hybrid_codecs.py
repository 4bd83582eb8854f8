"""Every pipeline of the CNN-around-JPEG chapter as a codec: real JPEG inside, bpp from bytes,
decode(file) equal to the encoder's reconstruction."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from dlic_lib.codecs import CodecUnavailableError, get_codec
from dlic_lib.codecs.hybrid import HYBRID_CODECS, PIPELINES, unpack_hybrid
from dlic_lib.errors import DlicError
from dlic_lib.jpeg import encode_luma, read_quantised, rgb_to_luma
from dlic_lib.models import build_model


@pytest.fixture(scope="module")
def image(kodim_crop) -> np.ndarray:
    return kodim_crop[:96, :131]  # odd width on purpose


def tiny_nets(seed: int = 0):
    torch.manual_seed(seed)
    return build_model("cnn-cr", width=0.125), build_model("cnn-sr", width=0.125)


def test_registry_knows_every_pipeline():
    for name in ("jpeg-y", "bicubic-jpeg", *PIPELINES):
        assert name in HYBRID_CODECS
        assert get_codec(name).name == name
    assert set(PIPELINES) == {"cnn-yl", "cnn-fc-frame", "cnn-fc-block-pixel", "cnn-fc-block-dct", "cnn-rd", "cnn-rdv2", "cnn-mse"}


def test_jpeg_y_is_the_plain_luma_jpeg(image):
    coded = get_codec("jpeg-y").encode(image, 10, use_cache=False)
    y = rgb_to_luma(image)
    assert coded.data == encode_luma(y, 10)
    assert coded.bpp == 8 * len(coded.data) / y.size
    ref = np.asarray(Image.open(io.BytesIO(coded.data)))
    assert np.array_equal(coded.decoded[..., 0], ref) and np.array_equal(coded.decoded[..., 2], ref)
    optimised = get_codec("jpeg-y", optimize=True).encode(image, 10, use_cache=False)
    assert optimised.n_bytes < coded.n_bytes
    assert np.array_equal(optimised.decoded, coded.decoded)


def test_bicubic_jpeg_equals_the_pillow_chain(image):
    coded = get_codec("bicubic-jpeg").encode(image, 25, use_cache=False)
    width, height, qf, jpeg = unpack_hybrid(coded.data, "bicubic-jpeg")
    assert (width, height, qf) == (131, 96, 25) and len(coded.data) == 5 + len(jpeg)
    y = np.pad(rgb_to_luma(image), ((0, 0), (0, 1)), mode="edge")
    lr = Image.fromarray(y).resize((66, 48), Image.BICUBIC)
    buf = io.BytesIO()
    lr.save(buf, "JPEG", quality=25)
    assert jpeg == buf.getvalue()
    up = Image.open(io.BytesIO(jpeg)).resize((132, 96), Image.BICUBIC)
    assert np.array_equal(coded.decoded[..., 1], np.asarray(up)[:, :131])
    assert coded.decoded.shape == image.shape


def test_cnn_pipeline_file_and_bit_exact_decode(image):
    cr, sr = tiny_nets()
    codec = get_codec("cnn-rd", cr=cr, sr={55: sr})
    coded = codec.encode(image, 55, use_cache=False)
    width, height, qf, jpeg = unpack_hybrid(coded.data, "cnn-rd")
    assert (width, height, qf) == (131, 96, 55)
    coeffs, table = read_quantised(jpeg)  # a real JPEG of the 66×48 plane
    assert coeffs.shape[:2] == (6, 9)
    assert coded.bpp == 8 * (5 + len(jpeg)) / (131 * 96)
    again = get_codec("cnn-rd", cr=cr, sr={55: sr}).decode(coded.data)
    assert np.array_equal(again, coded.decoded)
    assert coded.weights == "user-model"
    with pytest.raises(DlicError, match="QF 75"):
        codec.encode(image, 75, use_cache=False)


def test_cnn_with_zero_residuals_is_float_bicubic(image):
    cr, sr = tiny_nets()
    for net in (cr, sr):
        last = [m for m in net.body if isinstance(m, torch.nn.Conv2d)][-1]
        torch.nn.init.zeros_(last.weight), torch.nn.init.zeros_(last.bias)
    codec = get_codec("cnn-yl", cr=cr, sr=sr)
    y = np.pad(rgb_to_luma(image), ((0, 0), (0, 1)), mode="edge")
    lr = codec._down(y, 90).astype(int)
    ref = np.asarray(Image.fromarray(y).resize((66, 48), Image.BICUBIC)).astype(int)
    assert np.abs(lr - ref).max() <= 1  # Pillow rounds between its two passes
    cnn = codec.encode(image, 90, use_cache=False)
    bic = get_codec("bicubic-jpeg").encode(image, 90, use_cache=False)
    diff = np.abs(cnn.decoded.astype(int) - bic.decoded.astype(int))
    assert diff.mean() < 2.0 and abs(cnn.n_bytes - bic.n_bytes) < 0.05 * bic.n_bytes


def test_missing_weights_say_how_to_train(image):
    codec = get_codec("cnn-yl")
    ok, reason = codec.available()
    assert not ok and "dlic train" in reason
    with pytest.raises(CodecUnavailableError, match="dlic train"):
        codec.encode(image, 25)


def test_weights_come_from_the_zoo(image, tmp_path):
    from dlic_lib import zoo

    cr, sr = tiny_nets(1)
    for role, net, rate_key, objective in (("cr", cr, {}, "cnn-mse"), ("sr", sr, {"qf": 25}, "cnn-mse")):
        path = tmp_path / f"{role}.pt"
        torch.save({"format": zoo.RELEASE_FORMAT, "state_dict": net.state_dict()}, path)
        zoo.register(zoo.ZooEntry(f"cnn-{role}", objective, rate_key, path, "", task="jpeg-cnn",
                                  build={"width": 0.125}, config={"profile": "smoke", "steps": 1}))
    codec = get_codec("cnn-mse")
    assert codec.available()[0]
    coded = codec.encode(image, 25, use_cache=False)
    assert coded.weights.startswith("dlic-checkpoint:")
    ref = get_codec("cnn-mse", cr=cr, sr=sr).encode(image, 25, use_cache=False)
    assert coded.data == ref.data and np.array_equal(coded.decoded, ref.decoded)
    with pytest.raises(CodecUnavailableError):  # no SR trained for QF 55
        codec.encode(image, 55, use_cache=False)


@pytest.mark.parametrize("name", ["jpeg-y", "bicubic-jpeg", "cnn-yl"])
def test_corrupt_data_is_a_clear_error(name):
    with pytest.raises(DlicError):
        get_codec(name).decode(b"\x00\x10\x00\x10\x19" + b"not a jpeg" * 3)


def test_bad_options():
    with pytest.raises(DlicError):
        get_codec("jpeg-y", optimize="maybe")
    with pytest.raises(DlicError):
        get_codec("cnn-rd").encode(np.zeros((16, 16, 3), np.uint8), 30)
