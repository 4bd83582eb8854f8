"""The ``bls2017`` codec: real rANS bytes, a self-describing header, exact decoding on any thread count, zoo and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dlic_lib.codecs import LEARNED_CODECS, get_codec
from dlic_lib.codecs.bls2017 import HEADER_BYTES, Bls2017Codec, parse_header
from dlic_lib.codecs.rnn import weights_fingerprint
from dlic_lib.errors import DlicError
from dlic_lib.models.bls2017 import BLS2017


def _net(seed: int = 0, N: int = 8) -> BLS2017:
    torch.manual_seed(seed)
    net = BLS2017(N)
    with torch.no_grad():  # a non-trivial IGDN, as after training
        for layer in (net.g_s[1], net.g_s[3]):
            layer.gamma.add_(0.05 * torch.rand_like(layer.gamma))
    net.update(force=True)
    return net.eval()


def _release(path, net, lmbda=0.0067, alpha=0.5, proxy="alternating", target="vmaf"):
    from dlic_lib.zoo import RELEASE_FORMAT

    settings = {"proxy": proxy, "target": target, "N": net.N, "lmbda": lmbda, "alpha": alpha, "patch": 32}
    torch.save({"format": RELEASE_FORMAT, "settings": settings, "state_dict": net.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def crop(kodim01):
    return np.ascontiguousarray(kodim01[100:181, 200:330])  # 81 × 130: not a multiple of 16


def test_registered_as_a_learned_codec():
    assert "bls2017" in LEARNED_CODECS
    codec = get_codec("bls2017", model=_net())
    assert isinstance(codec, Bls2017Codec) and codec.info()["quality_name"] == "lmbda"


def test_real_bytes_header_and_bit_exact_decoding_on_any_thread_count(crop, tmp_path):
    net = _net()
    path = _release(tmp_path / "release.pt", net)
    coded = get_codec("bls2017", checkpoint=str(path)).encode(crop, use_cache=False)
    assert coded.quality == pytest.approx(0.0067) and coded.decoded.shape == crop.shape
    assert coded.bpp == 8 * len(coded.data) / (81 * 130) and len(coded.data) > HEADER_BYTES
    head = parse_header(coded.data)
    assert head == {"objective": "mse", "width": 130, "height": 81, "lmbda": 0.0067, "alpha": 0.5,
                    "sha256_prefix": weights_fingerprint(net)[:16]}  # fmt: skip
    # the latent string is CompressAI's rANS string of the padded image, exactly
    x = torch.from_numpy(np.pad(crop, ((0, 15), (0, 14), (0, 0)), mode="edge")).permute(2, 0, 1)[None].float() / 255
    with torch.inference_mode():
        assert coded.data[HEADER_BYTES:] == net.compress(x)["strings"][0][0]
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = Bls2017Codec(checkpoint=str(path)).decode(coded.data)
        torch.set_num_threads(2)
        two = Bls2017Codec(checkpoint=str(path)).decode(coded.data)
    finally:
        torch.set_num_threads(threads)
    assert np.array_equal(one, coded.decoded) and np.array_equal(two, coded.decoded)


def test_exact_synthesis_is_the_float_network_to_within_one_step():
    from dlic_lib.codecs.bls2017_exact import ExactSynthesis

    net = _net(1, N=16)
    torch.manual_seed(2)
    y = torch.round(4 * torch.randn(2, 16, 6, 9))
    exact = ExactSynthesis(net.g_s)(y)
    with torch.no_grad():
        ref = net.g_s(y).clamp(0, 1).double() * 255
    err = (exact.double() - ref).abs()
    assert exact.dtype == torch.uint8 and exact.shape == (2, 3, 96, 144)
    assert err.max() < 0.5 + 0.01  # rounding, plus at most 1 % of a step of fixed-point error
    assert (exact.double() != ref.round()).double().mean() < 0.01
    assert torch.equal(ExactSynthesis(net.g_s)(y), exact)
    # the float network is untouched (its reparametrisations stay float32)
    assert net.g_s[1].beta_reparam.pedestal.dtype == torch.float32


def test_rate_grows_with_a_finer_network_and_quality_must_match_the_release(crop, tmp_path):
    path = _release(tmp_path / "r.pt", _net())
    codec = Bls2017Codec(checkpoint=str(path))
    assert codec.encode(crop, 0.0067, use_cache=False).quality == pytest.approx(0.0067)
    with pytest.raises(DlicError, match="trained with λ = 0.0067, not 0.1"):
        codec.encode(crop, 0.1, use_cache=False)
    with pytest.raises(DlicError, match="coded at λ = 0.0067, not 0.2"):
        codec.decode(codec.encode(crop, use_cache=False).data, quality=0.2)


def test_from_the_zoo_by_objective_lambda_and_profile(crop, tmp_path):
    from dlic_lib import zoo
    from dlic_lib.config import checkpoint_dir

    nets = {lam: _net(i) for i, lam in enumerate((0.0067, 0.025))}
    checkpoint_dir().mkdir(parents=True, exist_ok=True)
    for lam, net in nets.items():
        path = _release(checkpoint_dir() / f"vmafp-{lam}.pt", net, lmbda=2 * lam)
        zoo.register(zoo.ZooEntry("bls2017", "vmaf_p", {"lmbda": 2 * lam, "alpha": 0.5}, path, "", task="proxiqa",
                                  build={"N": 8}, config={"profile": "smoke", "steps": 2}))  # fmt: skip
    codec = get_codec("bls2017", objective="vmaf_p", profile="smoke")
    assert codec.search_values() == [0.0134, 0.05]
    coded = codec.encode(crop, 0.05, use_cache=False)
    assert parse_header(coded.data)["sha256_prefix"] == weights_fingerprint(nets[0.025])[:16]
    assert coded.weights.startswith("dlic-checkpoint:")
    # the file finds its own weights: a fresh codec decodes it from the header alone
    assert np.array_equal(Bls2017Codec(objective="vmaf_p").decode(coded.data), coded.decoded)
    with pytest.raises(DlicError, match="made by the vmaf_p network"):
        Bls2017Codec(objective="mse").decode(coded.data)
    with pytest.raises(DlicError, match="no vmaf_p release with λ = 0.3 .*dlic train --task proxiqa"):
        codec.encode(crop, 0.3, use_cache=False)
    with pytest.raises(DlicError, match="no ssim_p release of bls2017.*dlic train --task proxiqa"):
        Bls2017Codec(objective="ssim_p").encode(crop, 0.05, use_cache=False)


def test_other_weights_refused(crop, tmp_path):
    data = Bls2017Codec(checkpoint=str(_release(tmp_path / "a.pt", _net(0)))).encode(crop, use_cache=False).data
    other = Bls2017Codec(checkpoint=str(_release(tmp_path / "b.pt", _net(5))))
    with pytest.raises(DlicError, match="coded with weights"):
        other.decode(data)


def test_bad_input_is_a_one_line_error(crop, tmp_path):
    from dlic_lib.zoo import RELEASE_FORMAT

    with pytest.raises(DlicError, match="not found"):
        Bls2017Codec(checkpoint=str(tmp_path / "missing.pt")).encode(crop, use_cache=False)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(DlicError, match="cannot be read"):
        Bls2017Codec(checkpoint=str(junk)).encode(crop, use_cache=False)
    proxy = tmp_path / "proxy.pt"
    torch.save({"format": RELEASE_FORMAT, "settings": {"proxy": "pretrain"}, "proxy": {}, "state_dict": {}}, proxy)
    with pytest.raises(DlicError, match="proxy alone"):
        Bls2017Codec(checkpoint=str(proxy)).encode(crop, use_cache=False)
    other = tmp_path / "other.pt"
    torch.save({"format": RELEASE_FORMAT, "settings": {}, "state_dict": {"w": torch.zeros(2)}}, other)
    with pytest.raises(DlicError, match="not a release of a bls2017 codec"):
        Bls2017Codec(checkpoint=str(other)).encode(crop, use_cache=False)
    codec = Bls2017Codec(checkpoint=str(_release(tmp_path / "ok.pt", _net())))
    data = codec.encode(crop, use_cache=False).data
    for bad in (b"", data[:HEADER_BYTES], b"XX" + data[2:], data[:-1], data + b"\x00"):
        with pytest.raises(DlicError, match="bls2017"):
            codec.decode(bad)
    with pytest.raises(DlicError, match="objective must be one of"):
        Bls2017Codec(objective="psnr")
    with pytest.raises(DlicError, match="either model= or checkpoint="):
        Bls2017Codec(checkpoint="x.pt", model=_net())


def test_command_line_encode_and_decode(crop, tmp_path, capsys):
    from dlic_lib.cli import main
    from dlic_lib.data import read_image, write_png

    src, out, png = tmp_path / "in.png", tmp_path / "out.bls", tmp_path / "out.png"
    write_png(src, crop)
    path = _release(tmp_path / "release.pt", _net())
    assert main(["encode", str(src), "--codec", "bls2017", "--checkpoint", str(path), "-o", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["bytes"] == out.stat().st_size and record["quality"] == pytest.approx(0.0067)
    assert main(["decode", str(out), "--codec", "bls2017", "--checkpoint", str(path), "-o", str(png)]) == 0
    expected = Bls2017Codec(checkpoint=str(path)).decode(out.read_bytes())
    assert np.array_equal(read_image(png), expected)
    capsys.readouterr()
    assert main(["encode", str(src), "--codec", "bls2017", "--checkpoint", str(tmp_path / "none.pt"), "-o",
                 str(tmp_path / "x.bls")]) != 0  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err.startswith("dlic: error:") and "not found" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.bls").exists()
