"""Generated bad inputs for every ``dlic`` command (hypothesis), plus one regression test per known case.

Every run must end in one of two ways: exit 0 with its outputs written, or a non-zero exit with
one line ``dlic: error: …`` on stderr, no traceback, no file left behind and the inputs
untouched, within bounded time and memory. ``DLIC_DEBUG=1`` makes an unexpected exception
escape ``main`` so that hypothesis reports it instead of the command's internal-error line.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from dlic_lib.cli import main

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MAX_SECONDS = 60
MAX_RSS_KB = 6 * 1024 * 1024


@pytest.fixture(autouse=True)
def _debug(monkeypatch):
    monkeypatch.setenv("DLIC_DEBUG", "1")


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            rc = exc.code
    assert time.monotonic() - t0 < MAX_SECONDS, f"{argv} took too long"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < MAX_RSS_KB
    return int(rc or 0), out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def assert_clean(rc: int, err: str, folder: Path, before: dict[str, str], outputs: list[str] = (),
                 inputs: list[str] | None = None) -> None:
    """The outcome contract: success with outputs, or one error line and nothing changed.

    ``inputs`` (default: every file in ``before``) must be untouched either way; on failure no
    file may change at all.
    """
    assert "Traceback" not in err
    after = snapshot(folder)
    for name in before if inputs is None else inputs:
        assert after.get(name) == before[name], f"input {name} was changed"
    if rc != 0:
        for name, digest in before.items():
            assert after.get(name) == digest, f"{name} was changed by a failing command"
    if rc == 0:
        for name in outputs:
            assert name in after, f"exit 0 but {name} is missing"
        return
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("dlic: error: "), err
    assert all(ln.startswith("dlic: ") for ln in lines), err
    assert sorted(after) == sorted(before), f"files left behind: {sorted(set(after) - set(before))}"


# --- strategies --------------------------------------------------------------------------------

MODES = ("RGB", "L", "1", "P", "RGBA", "LA", "I;16", "I", "F", "CMYK", "YCbCr")
FORMATS = {"PNG": ".png", "BMP": ".bmp", "TIFF": ".tif", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif", "PPM": ".ppm"}


@st.composite
def image_files(draw) -> tuple[bytes, str]:
    """Bytes of an image file in an odd mode, size or format, often damaged; and a file suffix."""
    kind = draw(st.sampled_from(["image", "image", "image", "random", "empty", "text"]))
    if kind == "random":
        return draw(st.binary(min_size=1, max_size=300)), draw(st.sampled_from([".png", ".jpg", ".bin"]))
    if kind == "empty":
        return b"", ".png"
    if kind == "text":
        return draw(st.text(max_size=50)).encode(), ".png"
    mode = draw(st.sampled_from(MODES))
    w, h = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    seed = draw(st.integers(0, 2**16))
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    img = Image.fromarray(arr, "RGB")
    try:
        img = img.convert(mode)
    except ValueError:
        pass
    if mode in ("RGBA", "LA") and draw(st.booleans()):
        img.putalpha(255)  # opaque alpha: usable
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    buf = io.BytesIO()
    try:
        img.save(buf, fmt)
    except (OSError, ValueError, KeyError):
        img.convert("RGB").save(buf, "PNG")
        fmt = "PNG"
    data = buf.getvalue()
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "junk"]))
    if damage == "truncate" and len(data) > 1:
        data = data[: draw(st.integers(1, len(data) - 1))]
    elif damage == "flip":
        pos = draw(st.integers(0, len(data) - 1))
        data = data[:pos] + bytes([data[pos] ^ draw(st.integers(1, 255))]) + data[pos + 1:]
    elif damage == "junk":
        data = data + draw(st.binary(min_size=1, max_size=40))
    return data, FORMATS[fmt]


def mutate(data: bytes, draw) -> tuple[bytes, str]:
    how = draw(st.sampled_from(["truncate", "flip", "append", "prefix", "random", "empty", "none"]))
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))], how
    if how == "flip":
        pos = draw(st.integers(0, len(data) - 1))
        return data[:pos] + bytes([data[pos] ^ draw(st.integers(1, 255))]) + data[pos + 1:], how
    if how == "append":
        return data + draw(st.binary(min_size=1, max_size=64)), how
    if how == "prefix":
        return draw(st.binary(min_size=1, max_size=8)) + data, how
    if how == "random":
        return draw(st.binary(min_size=1, max_size=200)), how
    if how == "empty":
        return b"", how
    return data, how


# --- encode: any image file, any codec -----------------------------------------------------------

@SETTINGS
@given(image=image_files(), codec=st.sampled_from(["jpeg", "webp", "jpeg2000", "hevc"]))
def test_encode_any_image_file(image, codec):
    data, suffix = image
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / f"in{suffix}").write_bytes(data)
        before = snapshot(folder)
        rc, out, err = run_cli(["encode", folder / f"in{suffix}", "--codec", codec, "--quality",
                                {"jpeg2000": "2", "hevc": "30", "jpegxl": "1"}.get(codec, "50"),
                                "-o", folder / "o" / "x.bin", "--decoded", folder / "o" / "x.png", "--json"])
        assert_clean(rc, err, folder, before, ["o/x.bin", "o/x.png"])
        if rc == 0:
            from dlic_lib.data import read_image

            assert read_image(folder / "o" / "x.png").shape[:2] == Image.open(io.BytesIO(data)).size[::-1]


# --- decode: any bytes, any codec ----------------------------------------------------------------

@pytest.fixture(scope="module")
def streams():
    from dlic_lib.codecs import get_codec

    img = np.random.default_rng(3).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    return {name: get_codec(name).encode(img, use_cache=False).data
            for name in ("jpeg", "webp", "jpeg2000", "hevc", "vvc", "av1", "jpegxl")}


@SETTINGS
@given(data=st.data())
def test_decode_any_bytes(streams, data):
    from dlic_lib.codecs.ffmpeg_codecs import stream_check

    codec = data.draw(st.sampled_from(sorted(streams)))
    source = data.draw(st.sampled_from(sorted(streams)))
    payload, how = mutate(streams[source], data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "in.bin").write_bytes(payload)
        before = snapshot(folder)
        rc, _, err = run_cli(["decode", folder / "in.bin", "--codec", codec, "-o", folder / "out.png"])
        assert_clean(rc, err, folder, before, ["out.png"])
        if how in ("truncate", "empty") and source == codec:
            detectable = codec not in ("hevc", "vvc", "av1") or len(payload) < 6 or \
                stream_check(payload[5:]) != payload[4] >> 1
            assert rc != 0 or not detectable, f"truncated {codec} stream decoded with exit 0"


# --- metrics --pairs: malformed CSV files --------------------------------------------------------

CELLS = ["ref.png", "dist.png", "", "  ", "1", "missing.png", "sub", "ref.png ", "é.png", "\"a,b\"", "nan", "NA"]


@st.composite
def pair_tables(draw) -> bytes:
    kind = draw(st.sampled_from(["table", "table", "table", "binary", "latin1", "empty", "blank_lines"]))
    if kind == "binary":
        return draw(st.binary(max_size=200))
    if kind == "empty":
        return b""
    if kind == "blank_lines":
        return b"\n\n  \n"
    header = draw(st.sampled_from(["reference,distorted", "reference,distorted,quality", "ref,dist", "reference",
                                   "distorted,reference", "\ufeffreference,distorted", "reference,distorted,reference"]))
    rows = draw(st.lists(st.lists(st.sampled_from(CELLS), min_size=1, max_size=4), max_size=4))
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    return text.encode("latin-1", errors="replace") if kind == "latin1" else text.encode("utf-8")


@pytest.fixture(scope="module")
def pair_images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pair_images")
    rng = np.random.default_rng(1)
    ref = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(ref).save(folder / "ref.png")
    Image.fromarray(np.clip(ref.astype(int) + 5, 0, 255).astype(np.uint8)).save(folder / "dist.png")
    Image.fromarray(ref).save(folder / "1", format="PNG")  # a numeric file name
    Image.fromarray(ref).save(folder / "é.png")
    (folder / "sub").mkdir()
    return folder


@SETTINGS
@given(table=pair_tables(), suffix=st.sampled_from([".csv", ".parquet"]))
def test_metrics_pairs_any_csv(pair_images, table, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for p in pair_images.iterdir():
            if p.is_file():
                (folder / p.name).write_bytes(p.read_bytes())
            else:
                (folder / p.name).mkdir()
        (folder / "pairs.csv").write_bytes(table)
        before = snapshot(folder)
        rc, _, err = run_cli(["metrics", "--pairs", folder / "pairs.csv", "--out", folder / f"res{suffix}",
                              "--metrics", "psnr_y"])
        assert_clean(rc, err, folder, before, [f"res{suffix}"])


# --- corr and bd: malformed tables -----------------------------------------------------------------

VALUES = ["1", "2.5", "3", "4", "4", "5", "", "x", "nan", "-1", "1e308", "inf"]


@st.composite
def stimulus_table(draw, value_column: str) -> str:
    n = draw(st.integers(0, 6))
    ids = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", ""]), min_size=n, max_size=n))
    values = draw(st.lists(st.sampled_from(VALUES), min_size=n, max_size=n))
    codecs = draw(st.lists(st.sampled_from(["jpeg", "hevc"]), min_size=n, max_size=n))
    lines = [f"stimulus,{value_column},codec"] + [f"{i},{v},{c}" for i, v, c in zip(ids, values, codecs)]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(mos=stimulus_table("mos"), metric=stimulus_table("psnr"),
       extra=st.sampled_from([[], ["--by", "codec"], ["--by", "codec", "--group", "g=jpeg"], ["--group", "g=x"],
                              ["--metric", "codec"], ["--logistic", "none"]]))
def test_corr_any_tables(mos, metric, extra):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "mos.csv").write_text(mos)
        (folder / "m.csv").write_text(metric)
        before = snapshot(folder)
        rc, out, err = run_cli(["corr", "--mos", folder / "mos.csv", "--metrics", folder / "m.csv", "--json", *extra])
        assert_clean(rc, err, folder, before)


@SETTINGS
@given(anchor=stimulus_table("psnr_y"), test=stimulus_table("psnr_y"),
       metric=st.sampled_from(["psnr_y", "bpp", "codec", "nope"]))
def test_bd_any_curves(anchor, test, metric):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a.csv").write_text(anchor.replace("stimulus", "bpp"))
        (folder / "t.csv").write_text(test.replace("stimulus", "bpp"))
        before = snapshot(folder)
        rc, _, err = run_cli(["bd", folder / "a.csv", folder / "t.csv", "--metric", metric])
        assert_clean(rc, err, folder, before)


# --- parameters and paths ------------------------------------------------------------------------

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**6, 10**6).map(str),
                    st.sampled_from(["", "x", "1e999", "-0", "0x10", "½"]))


@SETTINGS
@given(quality=NUMBERS, bpp=st.one_of(st.none(), NUMBERS), tolerance=NUMBERS,
       option=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["chroma=444", "chroma=422", "mode=crf",
                                                                           "preset=nope", "effort=0", "=1", "a=b=c"])),
       codec=st.sampled_from(["jpeg", "webp", "jpegxl", "hevc", "nocodec", ""]))
def test_encode_any_parameters(quality, bpp, tolerance, option, codec):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        Image.fromarray(np.full((8, 8, 3), 100, np.uint8)).save(folder / "in.png")
        before = snapshot(folder)
        how = ["--bpp", bpp, "--tolerance", tolerance] if bpp is not None else ["--quality", quality]
        opts = ["-O", option] if option is not None else []
        rc, _, err = run_cli(["encode", folder / "in.png", "--codec", codec, *how, *opts, "-o", folder / "x.bin"])
        assert_clean(rc, err, folder, before, ["x.bin"])


@SETTINGS
@given(target=st.sampled_from(["in.png", "./in.png", "dir", "dir/", "file/x.bin", "new/deep/x.bin", "sp ace/ü.bin",
                               "link.png", ".", "", "dir/../in.png"]),
       decoded=st.sampled_from([None, "in.png", "x.png", "file/y.png", "dir", "same"]),
       command=st.sampled_from(["encode", "decode"]))
def test_any_output_path(target, decoded, command):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        Image.fromarray(np.full((8, 8, 3), 100, np.uint8)).save(folder / "in.png")
        (folder / "dir").mkdir()
        (folder / "file").write_text("x")
        (folder / "link.png").symlink_to(folder / "in.png")
        (folder / "in.bin").write_bytes(Path(folder / "in.png").read_bytes())
        before = snapshot(folder)
        out = folder / target if target else ""
        if command == "encode":
            argv = ["encode", folder / "in.png", "--codec", "webp", "--quality", "50", "-o", out]
            if decoded is not None:
                argv += ["--decoded", out if decoded == "same" else folder / decoded]
        else:
            bits = folder / "bits.webp"
            bits.write_bytes(_webp_bytes())
            before = snapshot(folder)
            argv = ["decode", bits, "--codec", "webp", "-o", out]
        rc, _, err = run_cli(argv)
        assert_clean(rc, err, folder, before, inputs=["in.png", "in.bin"] if command == "encode" else ["bits.webp"])
        if command == "encode":
            assert (folder / "in.png").read_bytes() == (folder / "in.bin").read_bytes()


def _webp_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(buf, "WEBP", quality=50)
    return buf.getvalue()


@SETTINGS
@given(args=st.lists(st.sampled_from(["--r1", "--r2", "--n1", "--n2", "0.5", "-2", "1", "3", "nan", "x", "1e9",
                                      "--two-sided"]), max_size=9))
def test_fisher_z_any_arguments(args):
    with tempfile.TemporaryDirectory() as tmp:
        rc, _, err = run_cli(["stats", "fisher-z", *args])
        assert_clean(rc, err, Path(tmp), {})


@pytest.mark.parametrize("argv", [
    ["data", "verify", "no-such-dataset"], ["data", "fetch", "no-such-dataset"], ["data"], ["codecs", "nope"],
    ["nope"], ["metrics"], ["metrics", "{f}/a.png", "{f}/b.png"], ["metrics", "{f}", "{f}"], ["decode"],
    ["encode", "{f}/none.png", "--codec", "jpeg", "--quality", "5", "-o", "{f}/x"],
    ["dsis", "analyze", "{f}/none.csv"], ["dsis", "plan", "{f}"], ["corr", "--mos", "{f}", "--metrics", "{f}"],
    ["bd", "{f}", "{f}", "--metric", "psnr_y"],
])
def test_every_command_refuses_missing_and_folder_inputs(tmp_path, argv):
    before = snapshot(tmp_path)
    rc, _, err = run_cli([a.format(f=tmp_path) for a in argv])
    assert rc != 0
    assert_clean(rc, err, tmp_path, before)


# --- regressions of the reported cases -------------------------------------------------------------

def _write_images(folder: Path) -> None:
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(ref).save(folder / "ref.png")
    Image.fromarray(255 - ref).save(folder / "dist.png")


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"reference,distorted\n\xff\xfe,dist.png\n", "not UTF-8 text (byte 20, line 2)"),
    (b"reference,distorted\nref.png,\n", "blank distorted in row(s) 1"),
    (b"reference,distorted\n", "lists no pairs"),
    (b"ref,dist\nref.png,dist.png\n", "lacks column(s) distorted, reference"),
    (b"reference,distorted\nref.png,nothere.png\n", "row 1: distorted image file not found"),
])
def test_pairs_csv_problems_are_one_line(tmp_path, content, message):
    _write_images(tmp_path)
    (tmp_path / "pairs.csv").write_bytes(content)
    rc, _, err = run_cli(["metrics", "--pairs", tmp_path / "pairs.csv", "--out", tmp_path / "r.csv"])
    assert rc == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "r.csv").exists()


def test_pairs_csv_with_numeric_paths_and_extra_columns(tmp_path):
    _write_images(tmp_path)
    (tmp_path / "1").write_bytes((tmp_path / "ref.png").read_bytes())
    (tmp_path / "pairs.csv").write_text("reference,distorted,quality\n1,dist.png,20\nref.png,1,\n")
    rc, _, err = run_cli(["metrics", "--pairs", tmp_path / "pairs.csv", "--out", tmp_path / "r.parquet",
                          "--metrics", "psnr_y"])
    assert rc == 0, err
    df = pd.read_parquet(tmp_path / "r.parquet")
    assert list(df["reference"]) == ["1", "ref.png"] and df["quality"].iloc[0] == 20


def test_pairs_out_may_not_overwrite_an_input(tmp_path):
    _write_images(tmp_path)
    (tmp_path / "pairs.csv").write_text("reference,distorted\nref.png,dist.png\n")
    rc, _, err = run_cli(["metrics", "--pairs", tmp_path / "pairs.csv", "--out", tmp_path / "pairs.csv"])
    assert rc == 2 and "is also an input" in err


def _corr_files(folder: Path, mos: str, metrics: str) -> list:
    (folder / "mos.csv").write_text(mos)
    (folder / "m.csv").write_text(metrics)
    return ["corr", "--mos", folder / "mos.csv", "--metrics", folder / "m.csv", "--logistic", "none"]


MOS5 = "stimulus,mos,codec\na,1,j\nb,2,j\nc,3,h\nd,4,h\ne,5,h\n"


@pytest.mark.parametrize("metrics, extra, message", [
    ("stimulus,psnr\na,1\na,2\nc,3\nd,4\ne,5\n", [], "'a' appear(s) more than once, on line(s) 2, 3"),
    ("stimulus,psnr\na,1\nb,oops\nc,3\nd,4\ne,5\n", ["--metric", "psnr"], "not a number on line(s) 3"),
    ("stimulus,psnr\na,1\nb,2\nc,3\nd,4\ne,5\n", ["--by", "codec", "--group", "g=j,x"], "names value(s) 'x'"),
    ("stimulus,psnr\na,1\nb,2\nc,3\nd,4\ne,5\n", ["--group", "g=j"], "--group needs a --by column"),
    ("stimulus,psnr\na,1\n", [], "only 1 stimulus(s) appear in both files"),
])
def test_corr_refuses_naming_the_rows(tmp_path, metrics, extra, message):
    rc, _, err = run_cli([*_corr_files(tmp_path, MOS5, metrics), *extra])
    assert rc == 2 and message in err, err


def test_corr_warns_about_a_constant_metric_and_text_columns(tmp_path):
    with pytest.warns(UserWarning, match="psnr is constant over the 5 stimuli"):
        rc, out, err = run_cli(_corr_files(tmp_path, MOS5, "stimulus,psnr,note\na,3,x\nb,3,y\nc,3,z\nd,3,w\ne,3,v\n"))
    assert rc == 0 and "column(s) note" in err


def test_corr_refuses_duplicate_ids_in_the_mos_file(tmp_path):
    rc, _, err = run_cli(_corr_files(tmp_path, MOS5 + "a,2,j\n", "stimulus,psnr\na,1\nb,2\nc,3\nd,4\ne,5\n"))
    assert rc == 2 and "line(s) 2, 7" in err


def test_bd_metric_may_not_be_the_rate(tmp_path):
    (tmp_path / "a.csv").write_text("bpp,psnr_y\n0.1,30\n0.2,32\n0.4,35\n0.8,38\n")
    rc, _, err = run_cli(["bd", tmp_path / "a.csv", tmp_path / "a.csv", "--metric", "bpp"])
    assert rc == 2 and "is the rate column" in err


def test_decompression_bomb_is_a_clear_error(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setenv("DLIC_MAX_IMAGE_PIXELS", "1000")
    rc, _, err = run_cli(["encode", tmp_path / "big.png", "--codec", "jpeg", "--quality", "50", "-o", tmp_path / "x.jpg"])
    assert rc == 2 and "is too large (50×40" in err and "decompression bomb" in err
    monkeypatch.delenv("DLIC_MAX_IMAGE_PIXELS")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # Pillow's own guard (2× = 1000 px) gives the same line
    rc, _, err = run_cli(["encode", tmp_path / "big.png", "--codec", "jpeg", "--quality", "50", "-o", tmp_path / "x.jpg"])
    assert rc == 2 and "is too large" in err


def test_large_images_get_psnr_in_strips_exactly(monkeypatch):
    from dlic_lib.metrics import api, compute

    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (203, 151, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    names = "psnr_rgb,psnr_y,psnr_ycbcr,psnr_ycbcr_411"
    options = {"psnr_y": {"max_db": 20.0}, "psnr_ycbcr": {"round_planes": True, "range": "limited"}}
    whole = compute(a, b, metrics=names, progress=False, options=options)
    calls = []
    monkeypatch.setenv("DLIC_METRIC_TILE_PIXELS", "5000")
    monkeypatch.setattr(api, "_STRIP_PIXELS", 3000)
    original = api._tiled_psnr
    monkeypatch.setattr(api, "_tiled_psnr", lambda *x, **k: calls.append(1) or original(*x, **k))
    strips = compute(a, b, metrics=names, progress=False, options=options)
    assert len(calls) == 4 and whole["psnr_y"].iloc[0] == 20.0
    for name in names.split(","):
        assert strips[name].iloc[0] == pytest.approx(whole[name].iloc[0], abs=1e-9)


def test_vif_of_identical_constant_images_is_one():
    from dlic_lib.metrics.vif import vif

    flat = np.full((48, 48, 3), 77, np.uint8)
    assert float(vif(flat, flat)[0]) == 1.0
    assert float(vif(flat, flat + 1)[0]) < 1.0


def test_unknown_device_names_its_source(monkeypatch):
    from dlic_lib.device import resolve_device
    from dlic_lib.errors import DlicError

    monkeypatch.setenv("DLIC_DEVICE", "bogus")
    with pytest.raises(DlicError, match="unknown device 'bogus' \\(from DLIC_DEVICE\\)"):
        resolve_device()


def test_folder_inputs_are_called_folders(tmp_path):
    rc, _, err = run_cli(["metrics", tmp_path, tmp_path])
    assert rc == 2 and "got a folder" in err
    rc, _, err = run_cli(["encode", tmp_path, "--codec", "jpeg", "--quality", "5", "-o", tmp_path / "x.jpg"])
    assert rc == 2 and "got a folder" in err


def test_usage_errors_are_one_line(tmp_path):
    rc, _, err = run_cli(["encode", "--codec", "jpeg"])
    assert rc == 2 and err.count("\n") == 1 and err.startswith("dlic: error: encode: ")


def test_partial_mirror_does_not_fall_back_to_the_embedded_default(tmp_path, monkeypatch, kodak_dir):
    import shutil

    from dlic_lib.data import resolve_dataset
    from dlic_lib.errors import DatasetUnavailableError

    mirror = tmp_path / "mirror" / "kodak"
    mirror.mkdir(parents=True)
    for p in sorted(kodak_dir.glob("kodim*.png"))[1:]:
        (mirror / p.name).symlink_to(p)
    shutil.copy(kodak_dir / "SHA256SUMS", mirror / "SHA256SUMS") if (kodak_dir / "SHA256SUMS").exists() else None
    monkeypatch.setenv("DLIC_DATA_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(DatasetUnavailableError, match="kodim01.png"):
        resolve_dataset("kodak", progress=False)


def test_corrupt_mirror_file_is_named(tmp_path, monkeypatch, kodak_dir):
    from dlic_lib.data import resolve_dataset
    from dlic_lib.errors import ChecksumError

    mirror = tmp_path / "mirror" / "kodak"
    mirror.mkdir(parents=True)
    for p in kodak_dir.iterdir():
        (mirror / p.name).symlink_to(p)
    (mirror / "kodim05.png").unlink()
    (mirror / "kodim05.png").write_bytes(b"not the image")
    monkeypatch.setenv("DLIC_DATA_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(ChecksumError, match="kodim05.png"):
        resolve_dataset("kodak", progress=False)


@st.composite
def raw_votes(draw) -> str:
    header = draw(st.sampled_from(["subject,stimulus,score", "subject,stimulus", "subject,stimulus,score,codec", ""]))
    n = draw(st.integers(0, 8))
    rows = [",".join(draw(st.lists(st.sampled_from(["a", "b", "x", "y", "1", "5", "", "abc", "3.5", "-1", "101"]),
                                   min_size=2, max_size=4))) for _ in range(n)]
    return "\n".join([header, *rows]) + "\n"


@SETTINGS
@given(votes=raw_votes(), command=st.sampled_from([["dsis", "analyze", "{f}", "--scale", "5"], ["dsis", "analyze", "{f}"],
                                                   ["dsis", "plan", "{f}"]]))
def test_dsis_any_tables(votes, command):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "t.csv").write_text(votes.replace("subject,stimulus", "stimulus,subject") if "plan" in command else votes)
        before = snapshot(folder)
        rc, _, err = run_cli([a.format(f=folder / "t.csv") for a in command])
        assert_clean(rc, err, folder, before)
