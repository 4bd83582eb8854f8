"""The ``rnn`` codec: real bitstream, exact rate ladder, bit-exact decoding, entropy-coded bits."""

import numpy as np
import pytest
import torch

from dlic_lib.codecs import get_codec
from dlic_lib.codecs.rnn import HEADER_BYTES, RnnCodec, weights_fingerprint
from dlic_lib.errors import DlicError
from dlic_lib.models.recurrent import RecurrentCodec


def _model(seed=0, width=0.125):
    torch.manual_seed(seed)
    return RecurrentCodec(width=width, iterations=4).eval()


@pytest.fixture(scope="module")
def kodak_crop(kodim01):
    return np.ascontiguousarray(kodim01[96:192, 256:384])


@pytest.fixture(scope="module")
def crop():
    rng = np.random.default_rng(0)
    yy, xx = np.indices((45, 70))
    img = np.stack([(yy * 3 + xx) % 256, (xx * 2) % 256, (yy * 5) % 256], -1) + rng.integers(0, 20, (45, 70, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def test_registered_and_raw_rate_is_exactly_an_eighth_per_iteration():
    codec = get_codec("rnn", mode="raw", model=_model())
    assert isinstance(codec, RnnCodec) and codec.info()["quality_name"] == "iterations"
    img = np.full((64, 96, 3), 128, np.uint8)
    for k in (1, 3):
        coded = codec.encode(img, k, use_cache=False)
        assert coded.n_bytes == HEADER_BYTES + k * 6 * 16  # 6 patches × 128 bits per iteration
        assert coded.bpp == pytest.approx(0.125 * k + 8 * HEADER_BYTES / (64 * 96), abs=1e-12)
        assert coded.decoded.shape == img.shape


def test_any_size_and_decode_is_bit_exact_for_any_thread_count(crop):
    model = _model()
    coded = RnnCodec(model=model).encode(crop, 3, use_cache=False)
    assert coded.decoded.shape == crop.shape
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = RnnCodec(model=model).decode(coded.data)
        torch.set_num_threads(2)
        two = RnnCodec(model=model).decode(coded.data)
    finally:
        torch.set_num_threads(threads)
    assert np.array_equal(one, coded.decoded) and np.array_equal(two, coded.decoded)
    head = RnnCodec.parse_header(coded.data)
    assert head == {"mode": "entropy", "width": 70, "height": 45, "iterations": 3,
                    "sha256_prefix": weights_fingerprint(model)[:16]}


def test_fixed_point_decoder_matches_the_float_network():
    """The integer decoder's corrections are the float network's to a small fraction of an 8-bit step."""
    from dlic_lib.codecs.rnn_exact import ACT_BITS, ExactDecoder

    model = _model(1, width=0.25)
    torch.manual_seed(5)
    codes = torch.where(torch.randn(4, 6, 32, 2, 2) > 0, 1.0, -1.0)
    exact = ExactDecoder(model.decoder)
    with torch.no_grad():
        fs, es = model.decoder.init_state(codes[0]), exact.init_state(6, 2, 2)
        for b in codes:
            f, fs = model.decoder(b, fs)
            e, es = exact.step(b, es)
            assert torch.equal(e, torch.round(e))  # integers on the grid
            err = (e * 2.0 ** -(ACT_BITS + 1) - f.double()).abs()
            assert err.max() < 0.25 / 255 and err.mean() < 0.02 / 255


def test_entropy_mode_codes_the_same_bits_in_fewer_bytes_on_kodak(kodak_crop):
    model = _model(2)
    raw = RnnCodec(mode="raw", model=model)
    ent = RnnCodec(mode="entropy", model=model)
    a, b = raw.encode(kodak_crop, 4, use_cache=False), ent.encode(kodak_crop, 4, use_cache=False)
    assert np.array_equal(raw.read_bits(a.data)[1], ent.read_bits(b.data)[1])
    assert np.array_equal(a.decoded, b.decoded)
    assert b.n_bytes < a.n_bytes


def test_checkpoint_file_and_bad_input(tmp_path, crop):
    model = _model(3)
    path = tmp_path / "rnn.pt"
    torch.save({"architecture": "toderici2017-rnn", "build": model.config(), "state_dict": model.state_dict()}, path)
    codec = RnnCodec(checkpoint=str(path))
    coded = codec.encode(crop, 2, use_cache=False)
    assert np.array_equal(RnnCodec(model=model).decode(coded.data), coded.decoded)
    with pytest.raises(DlicError, match="coded with weights"):
        RnnCodec(model=_model(4)).decode(coded.data)
    for bad in (coded.data[:-1], b"XX" + coded.data[2:], coded.data[:10]):
        with pytest.raises(DlicError, match="truncated or not an rnn bitstream"):
            codec.decode(bad)
    with pytest.raises(DlicError, match="does not exist"):
        RnnCodec(checkpoint=str(tmp_path / "missing.pt")).encode(crop, 1)
    with pytest.raises(DlicError, match="mode must be"):
        RnnCodec(mode="zip")
    assert not RnnCodec().available()[0]  # no weights anywhere in an isolated test


def test_cli_encode_at_a_target_rate_picks_the_iteration_count(tmp_path, capsys):
    import json

    from dlic_lib.cli import main
    from dlic_lib.data import write_png

    model = _model(6)
    ckpt = tmp_path / "rnn.pt"
    torch.save({"architecture": "toderici2017-rnn", "build": model.config(), "state_dict": model.state_dict()}, ckpt)
    src = tmp_path / "in.png"
    write_png(src, np.full((64, 128, 3), 90, np.uint8))
    out, png = tmp_path / "out.rnn", tmp_path / "out.png"
    args = ["encode", str(src), "--codec", "rnn", "--bpp", "0.25", "-O", f"checkpoint={ckpt}", "-O", "mode=raw",
            "-o", str(out), "--decoded", str(png), "--json"]
    assert main(args) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["quality"] == 2 and out.stat().st_size == HEADER_BYTES + 2 * 8 * 16
    assert main(["decode", str(out), "--codec", "rnn", "-O", f"checkpoint={ckpt}", "-o", str(tmp_path / "d.png")]) == 0
    from dlic_lib.data import read_image

    assert np.array_equal(read_image(tmp_path / "d.png"), read_image(png))


@pytest.mark.parametrize("mode", ["raw", "entropy"])
def test_one_pass_codes_every_rate_as_separate_encodes_and_decodes(crop, mode):
    codec = RnnCodec(mode=mode, model=_model(seed=3))
    assert codec.progressive
    coded = codec.encode_qualities(crop, [4, 1, 2], use_cache=False)
    assert [c.quality for c in coded] == [4, 1, 2]
    for c in coded:
        alone = RnnCodec(mode=mode, model=_model(seed=3)).encode(crop, c.quality, use_cache=False)
        assert c.data == alone.data and np.array_equal(c.decoded, alone.decoded)
        assert np.array_equal(codec.decode(c.data), c.decoded)  # the file alone gives the encoder's image
        assert c.decode_s > 0 and c.encode_s >= c.decode_s
