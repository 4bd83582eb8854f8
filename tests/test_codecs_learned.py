"""Learned codecs (CompressAI) with small untrained models passed in: real entropy coding, offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlic_lib.codecs import encode_to_bpp, get_codec
from dlic_lib.codecs.learned import HEADER_SIZE, LearnedHeader, pack_strings, unpack_strings, weights_digest
from dlic_lib.errors import DlicError


def _model(arch: str, seed: int = 0):
    from compressai.models import (
        Cheng2020Anchor, FactorizedPrior, JointAutoregressiveHierarchicalPriors, MeanScaleHyperprior,
        ScaleHyperprior,
    )

    torch.manual_seed(seed)
    cls = {
        "bmshj2018-factorized": FactorizedPrior, "bmshj2018-hyperprior": ScaleHyperprior,
        "mbt2018-mean": MeanScaleHyperprior, "mbt2018": JointAutoregressiveHierarchicalPriors,
    }
    model = Cheng2020Anchor(N=16) if arch == "cheng2020-anchor" else cls[arch](N=16, M=24)
    model.update(force=True)
    return model.eval()


@pytest.mark.parametrize(
    "arch", ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean", "mbt2018", "cheng2020-anchor"]
)
def test_round_trip_with_user_model(arch):
    rng = np.random.default_rng(1)
    img = np.clip(rng.normal(128, 30, (40, 70, 3)), 0, 255).astype(np.uint8)  # odd-ish size: padded, cropped
    codec = get_codec(arch, model=_model(arch))
    coded = codec.encode(img, 3)
    assert coded.weights == "user-model" and coded.codec == arch
    assert coded.decoded.shape == img.shape
    assert coded.bpp == 8 * len(coded.data) / (40 * 70)
    w, h, strings = unpack_strings(coded.data[HEADER_SIZE:])
    assert (w, h) == (70, 40) and len(strings) == (1 if arch == "bmshj2018-factorized" else 2)
    np.testing.assert_array_equal(codec.decode(coded.data, quality=3), coded.decoded)  # deterministic
    assert not coded.cached and not codec.encode(img, 3).cached  # user models are never cached


def test_quality_selects_model_and_rate_targeting_picks_closest(kodim_crop):
    models = {q: _model("bmshj2018-hyperprior", seed=q) for q in (1, 2, 3)}
    crop = kodim_crop[:64, :64]
    codec = get_codec("bmshj2018-hyperprior", model=models)
    res = encode_to_bpp(crop, codec, 2.0)
    bpps = dict(res.trials)
    assert res.bpp == min(bpps.values(), key=lambda b: abs(np.log(b / 2.0)))
    assert set(bpps) <= {1, 2, 3} and res.encodes == len(bpps)
    with pytest.raises(DlicError, match="no user model"):
        codec.encode(crop, 5)


def test_encode_many_matches_single(kodim_crop):
    codec = get_codec("mbt2018-mean", model=_model("mbt2018-mean"), batch_size=2)
    imgs = [kodim_crop[:48, :64], kodim_crop[48:96, :64], kodim_crop[:32, :32]]
    many = codec.encode_many(imgs, 2)
    for img, coded in zip(imgs, many):
        single = codec.encode(img, 2)
        assert coded.data == single.data
        np.testing.assert_array_equal(coded.decoded, single.decoded)


@pytest.mark.parametrize("data", [b"", b"\x00\x10\x00\x10\x01\x05ab", b"\x00\x10\x00\x10\x01\x02ab\x00"])
def test_corrupt_learned_data(data):
    codec = get_codec("bmshj2018-factorized", model=_model("bmshj2018-factorized"))
    with pytest.raises(DlicError):
        codec.decode(data, quality=1)


def test_the_codec_knows_every_compressai_architecture():
    from dlic_lib.codecs.learned import ARCHITECTURE_CODES, LEARNED_ARCHITECTURES
    from dlic_lib.models.compressai_models import COMPRESSAI_ARCHITECTURES

    assert LEARNED_ARCHITECTURES == tuple(COMPRESSAI_ARCHITECTURES)
    assert ARCHITECTURE_CODES["bmshj2018-factorized"] == 1 and ARCHITECTURE_CODES["cheng2020-anchor"] == 5  # stored in files


def test_string_packing_round_trip():
    strings = [b"x" * 200, b"", b"abc"]
    assert unpack_strings(pack_strings(5, 7, strings)) == (5, 7, strings)
    with pytest.raises(DlicError):
        pack_strings(0, 7, strings)


def test_bad_learned_options():
    with pytest.raises(DlicError, match="metric"):
        get_codec("mbt2018", metric="psnr")
    with pytest.raises(DlicError, match="one of"):
        get_codec("mbt2018", model=_model("mbt2018")).encode(np.zeros((16, 16, 3), np.uint8), 9)


def test_missing_checkpoint_names_the_training_command(kodim_crop):
    with pytest.raises(DlicError, match="dlic train --model cheng2020-anchor --metric ms-ssim"):
        get_codec("cheng2020-anchor", metric="ms-ssim").encode(kodim_crop, 2)


def test_files_say_which_model_made_them_and_a_mismatch_is_refused():
    """Every learned file names its architecture, objective, quality and weights; decoding checks all four."""
    rng = np.random.default_rng(2)
    img = np.clip(rng.normal(128, 30, (32, 48, 3)), 0, 255).astype(np.uint8)
    models = {q: _model("bmshj2018-factorized", seed=q) for q in (2, 3)}
    codec = get_codec("bmshj2018-factorized", model=models)
    coded = codec.encode(img, 3)
    header, rest = LearnedHeader.parse(coded.data)
    assert (header.architecture, header.metric, header.quality) == ("bmshj2018-factorized", "mse", 3)
    assert header.weights == weights_digest(models[3])[:12] != weights_digest(models[2])[:12]
    assert coded.bpp == 8 * (HEADER_SIZE + len(rest)) / (32 * 48)  # the header is counted in the rate
    fresh = get_codec("bmshj2018-factorized", model=models)  # no model resolved yet: the file says which
    np.testing.assert_array_equal(fresh.decode(coded.data), coded.decoded)
    np.testing.assert_array_equal(fresh.decode(coded.data, quality=3), coded.decoded)
    with pytest.raises(DlicError, match="coded at quality 3, not 2"):
        fresh.decode(coded.data, quality=2)
    other_weights = get_codec("bmshj2018-factorized", model={3: _model("bmshj2018-factorized", seed=9)})
    with pytest.raises(DlicError, match="weights"):
        other_weights.decode(coded.data)
    with pytest.raises(DlicError, match="made by bmshj2018-factorized"):
        get_codec("bmshj2018-hyperprior", model=_model("bmshj2018-hyperprior")).decode(coded.data)
    with pytest.raises(DlicError, match="mse-optimised"):
        get_codec("bmshj2018-factorized", metric="ms-ssim", model=models).decode(coded.data)
    with pytest.raises(DlicError, match="no header"):
        fresh.decode(coded.data[HEADER_SIZE:])  # a file of the format without header
    forged = bytearray(coded.data)
    forged[3] = 200  # an architecture code no version knows
    with pytest.raises(DlicError, match="header"):
        fresh.decode(bytes(forged))


def test_cli_decode_refuses_another_quality(tmp_path, monkeypatch, capsys, kodim_crop):
    """``dlic decode`` with a trained checkpoint: the file's own quality by default, a different --quality refused."""
    import shutil
    from pathlib import Path

    from PIL import Image

    from dlic_lib.cli import main
    from dlic_lib.data import read_image

    shutil.copytree(Path(__file__).parent / "data" / "legacy_rd", tmp_path / "ck", ignore=shutil.ignore_patterns("state_*"))
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "ck"))  # one tiny quality-3 model
    Image.fromarray(kodim_crop[:64, :96]).save(tmp_path / "in.png")
    args = ["encode", str(tmp_path / "in.png"), "--codec", "bmshj2018-factorized", "--quality", "3", "-o", str(tmp_path / "x.bin"),
            "--decoded", str(tmp_path / "enc.png")]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["decode", str(tmp_path / "x.bin"), "--codec", "bmshj2018-factorized", "-o", str(tmp_path / "dec.png")]) == 0
    np.testing.assert_array_equal(read_image(tmp_path / "dec.png"), read_image(tmp_path / "enc.png"))
    capsys.readouterr()
    bad = ["decode", str(tmp_path / "x.bin"), "--codec", "bmshj2018-factorized", "--quality", "2", "-o", str(tmp_path / "bad.png")]
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert err.startswith("dlic: error:") and "quality 3, not 2" in err and err.count("\n") == 1
    assert not (tmp_path / "bad.png").exists()


def test_book_weights_never_download_and_use_the_zoo(monkeypatch, kodim_crop):
    """weights="book" (chapter 2 below full): online, the pretrained zoo is not even tried."""
    import importlib

    zoo_resolve = importlib.import_module("dlic_lib.zoo.resolve")
    monkeypatch.delenv("DLIC_OFFLINE", raising=False)
    tried = []
    monkeypatch.setattr(zoo_resolve, "pretrained_model", lambda *a, **k: tried.append(a))
    book = get_codec("bmshj2018-factorized", metric="mse", weights="book")
    ok, why = book.available()
    assert not ok and "weights=book" in why and "dlic train --model bmshj2018-factorized" in why
    assert book.search_values() == [] and book.options["weights"] == "book"
    with pytest.raises(DlicError, match="dlic train"):
        book.encode(kodim_crop, 1)
    assert tried == []
    auto = get_codec("bmshj2018-factorized", metric="mse")
    assert auto.available()[0] and "weights" not in auto.options  # unchanged default: cache keys too
    with pytest.raises(DlicError, match="dlic train"):
        auto.encode(kodim_crop, 1)
    assert tried  # the default tries the pretrained zoo first
    with pytest.raises(DlicError, match="weights must be"):
        get_codec("bmshj2018-factorized", weights="zoo")
