"""``dlic codecs list``, ``dlic encode``, ``dlic decode``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from dlic_lib.cli import main
from dlic_lib.data import read_image


def test_codecs_list_json(capsys):
    assert main(["codecs", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = {r["name"]: r for r in rows}
    assert {"jpeg", "jpeg2000", "webp", "hevc", "vvc", "av1", "jpegxl", "mbt2018"} <= set(names)
    for r in rows:
        assert {"name", "kind", "available", "version"} <= set(r)
    assert names["hevc"]["available"] and names["hevc"]["kind"] == "conventional"
    assert names["cheng2020-anchor"]["kind"] == "learned"


def test_codecs_group_alone_prints_help(capsys):
    assert main(["codecs"]) == 2
    assert "list" in capsys.readouterr().err


def test_encode_decode_round_trip(kodak_dir, tmp_path, capsys):
    src = kodak_dir / "kodim23.png"
    out, dec = tmp_path / "k.bin", tmp_path / "k.png"
    assert main(["encode", "--codec", "hevc", "-O", "preset=veryfast", "--quality", "34", str(src),
                 "-o", str(out), "--decoded", str(dec), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert {"codec", "bytes", "bpp", "quality", "encode_s", "decode_s", "width", "height"} <= set(rec)
    assert rec["bytes"] == out.stat().st_size and rec["bpp"] == 8 * rec["bytes"] / (768 * 512)
    again = tmp_path / "again.png"
    assert main(["decode", "--codec", "hevc", str(out), "-o", str(again)]) == 0
    np.testing.assert_array_equal(read_image(again), read_image(dec))


def test_encode_to_target_bpp(kodim_crop, tmp_path, capsys):
    src = tmp_path / "crop.png"
    Image.fromarray(kodim_crop).save(src)
    assert main(["encode", "--codec", "jpeg2000", "--bpp", "0.3", str(src), "-o", str(tmp_path / "c.j2k"), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert abs(rec["bpp"] / 0.3 - 1) <= 0.02 and rec["encodes"] >= 1 and rec["within_tolerance"]



def test_encode_to_target_bpp_uses_fine_rate_steps(kodim_crop, tmp_path, capsys):
    src = tmp_path / "crop.png"
    Image.fromarray(kodim_crop).save(src)
    assert main(["encode", "--codec", "hevc", "--bpp", "0.5", str(src), "-o", str(tmp_path / "c.hevc"), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["param_mode"] == "crf" and rec["within_tolerance"]
    # a mode the user names wins over the targeting default
    assert main(["encode", "--codec", "hevc", "--bpp", "0.5", "-O", "mode=qp", str(src), "-o", str(tmp_path / "q.hevc"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["param_mode"] == "qp"


def test_targeting_options_keep_libaom_for_av1_444():
    from dlic_lib.codecs import targeting_options

    assert targeting_options("av1") == {"encoder": "svt-av1"}
    assert targeting_options("av1", chroma="444") == {"chroma": "444"}
    assert targeting_options("av1", chroma="444", encoder="libaom") == {"chroma": "444", "encoder": "libaom"}
    assert targeting_options("hevc", mode="qp") == {"mode": "qp"}
    assert targeting_options("jpeg", chroma="444") == {"chroma": "444"}

def _inputs(tmp_path):
    rng = np.random.default_rng(0)
    files = {}
    files["text"] = tmp_path / "notes.png"
    files["text"].write_text("not an image")
    files["truncated"] = tmp_path / "trunc.png"
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(files["truncated"])
    files["truncated"].write_bytes(files["truncated"].read_bytes()[:200])
    files["transparent"] = tmp_path / "rgba.png"
    rgba = rng.integers(0, 255, (20, 20, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(files["transparent"])
    return files


@pytest.mark.parametrize("kind", ["text", "truncated", "transparent"])
def test_encode_bad_input_files(tmp_path, capsys, kind):
    path = _inputs(tmp_path)[kind]
    assert main(["encode", "--codec", "jpeg", "--quality", "50", str(path), "-o", str(tmp_path / "o.bin")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dlic: error:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("mode", ["L", "P", "I;16", "RGBA-opaque"])
def test_encode_converts_documented_modes(tmp_path, capsys, mode):
    arr = (np.arange(33 * 17).reshape(33, 17) % 251).astype(np.uint8)
    path = tmp_path / "img.png"
    if mode == "I;16":
        Image.fromarray(arr.astype(np.uint16) * 257).save(path)
    elif mode == "RGBA-opaque":
        Image.fromarray(np.dstack([arr, arr, arr, np.full_like(arr, 255)]), "RGBA").save(path)
    else:
        Image.fromarray(arr, "L").convert(mode).save(path)
    assert main(["encode", "--codec", "webp", "--quality", "60", str(path), "-o", str(tmp_path / "o.webp"), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert (rec["width"], rec["height"]) == (17, 33)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--codec", "jpeg", "--quality", "0"], "quality must be in"),
        (["--codec", "nope", "--quality", "3"], "unknown codec"),
        (["--codec", "jpeg", "--quality", "50", "-O", "chroma"], "KEY=VALUE"),
        (["--codec", "mbt2018", "--quality", "3"], "dlic train"),
    ],
)
def test_encode_bad_arguments(kodak_dir, tmp_path, capsys, argv, match):
    assert main(["encode", *argv, str(kodak_dir / "kodim01.png"), "-o", str(tmp_path / "o.bin")]) == 2
    assert match in capsys.readouterr().err


def test_decode_wrong_codec_and_missing_file(kodak_dir, tmp_path, capsys):
    out = tmp_path / "k.jpg"
    assert main(["encode", "--codec", "jpeg", "--quality", "50", str(kodak_dir / "kodim01.png"), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["decode", "--codec", "av1", str(out), "-o", str(tmp_path / "x.png")]) == 2
    assert "dlic: error:" in capsys.readouterr().err
    assert main(["decode", "--codec", "jpeg", str(tmp_path / "missing.bin"), "-o", str(tmp_path / "x.png")]) == 2
    assert "not found" in capsys.readouterr().err
