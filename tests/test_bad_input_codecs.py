"""Bad bitstreams, codec options and output paths of ``dlic encode`` / ``dlic decode``."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlic_lib.cli import main
from dlic_lib.codecs import get_codec
from dlic_lib.codecs.ffmpeg_codecs import stream_check
from dlic_lib.errors import DlicError

CODECS = ("jpeg", "webp", "jpeg2000", "hevc", "vvc", "av1", "jpegxl")
DLIC = [sys.executable, "-c", "import sys; from dlic_lib.cli import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def small_image():
    rng = np.random.default_rng(7)
    base = np.linspace(0, 255, 64 * 48 * 3).reshape(48, 64, 3)
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def streams(small_image):
    return {name: get_codec(name).encode(small_image, use_cache=False).data for name in CODECS}


def _run(argv):
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", CODECS)
@pytest.mark.parametrize("cut", [0.5, 0.9, -1])
def test_truncated_bitstreams_are_refused(streams, name, cut):
    data = streams[name]
    short = data[:cut] if cut == -1 else data[: int(len(data) * cut)]
    if name in ("hevc", "vvc", "av1"):
        assert data[4] >> 1 == stream_check(data[5:]) != stream_check(short[5:])
    with pytest.raises(DlicError, match="truncated|corrupt|complete"):
        get_codec(name).decode(short)


@pytest.mark.filterwarnings("ignore:.*no integrity check")
@pytest.mark.parametrize("name", CODECS)
def test_foreign_bitstreams_are_refused(streams, name):
    for other, data in streams.items():
        if other != name:
            with pytest.raises(DlicError):
                get_codec(name).decode(data)


def test_whole_bitstreams_still_decode_bit_exactly(streams, small_image):
    for name, data in streams.items():
        again = get_codec(name).encode(small_image, use_cache=False)
        np.testing.assert_array_equal(get_codec(name).decode(data), again.decoded)


def test_cli_option_values_follow_the_codec_signature(tmp_path, small_image):
    src = tmp_path / "in.png"
    Image.fromarray(small_image).save(src)
    rc, out, err = _run(["encode", str(src), "--codec", "jpeg", "-O", "chroma=444", "--quality", "50",
                         "-o", str(tmp_path / "a.jpg"), "--json"])
    assert rc == 0, err
    assert json.loads(out)["chroma"] == "4:4:4"
    from dlic_lib.cli.codecs import _parse_options

    assert _parse_options(["chroma=444", "cpu_used=4"], "av1") == {"chroma": "444", "cpu_used": 4}
    assert _parse_options(["qpa=true", "preset=faster"], "vvc") == {"qpa": True, "preset": "faster"}
    for bad, message in ((["cpu_used=fast"], "whole number"), (["qpa=maybe"], "bool"), (["nonsense=1"], "no option"),
                         (["chroma"], "KEY=VALUE")):
        codec = "vvc" if "qpa" in bad[0] else "av1"
        with pytest.raises(DlicError, match=message):
            _parse_options(bad, codec)


def _listing(folder: Path):
    return sorted(p.name for p in folder.iterdir())


def test_failed_decoded_output_leaves_no_bitstream(tmp_path, small_image):
    src = tmp_path / "in.png"
    Image.fromarray(small_image).save(src)
    (tmp_path / "blocker").write_text("a file")
    before = _listing(tmp_path)
    rc, _, err = _run(["encode", str(src), "--codec", "jpeg", "--quality", "50", "-o", str(tmp_path / "ok.jpg"),
                       "--decoded", str(tmp_path / "blocker" / "x.png")])
    assert rc == 2 and err.count("\n") == 1 and err.startswith("dlic: error:") and "blocker is a file" in err
    assert _listing(tmp_path) == before


@pytest.mark.parametrize("argv_tail, message", [
    (["-o", "{src}"], "is also an input"),
    (["-o", "{dir}/x.jpg", "--decoded", "{dir}/x.jpg"], "given twice"),
    (["-o", "{dir}"], "is a folder"),
])
def test_encode_refuses_outputs_that_would_destroy_data(tmp_path, small_image, argv_tail, message):
    src = tmp_path / "in.png"
    Image.fromarray(small_image).save(src)
    original = src.read_bytes()
    tail = [a.format(src=src, dir=tmp_path) for a in argv_tail]
    rc, _, err = _run(["encode", str(src), "--codec", "jpeg", "--quality", "50", *tail])
    assert rc == 2 and message in err and err.count("\n") == 1
    assert src.read_bytes() == original and _listing(tmp_path) == ["in.png"]


def test_encode_creates_missing_parent_folders(tmp_path, small_image):
    src = tmp_path / "in.png"
    Image.fromarray(small_image).save(src)
    rc, _, err = _run(["encode", str(src), "--codec", "webp", "--quality", "50", "-o", str(tmp_path / "a" / "b" / "x.webp"),
                       "--decoded", str(tmp_path / "c" / "x.png")])
    assert rc == 0, err
    assert (tmp_path / "a" / "b" / "x.webp").is_file() and (tmp_path / "c" / "x.png").is_file()


def test_decode_refuses_wrong_codec_and_quality(tmp_path, streams):
    bit = tmp_path / "x.webp"
    bit.write_bytes(streams["webp"])
    rc, _, err = _run(["decode", str(bit), "--codec", "jpeg2000", "-o", str(tmp_path / "y.png")])
    assert rc == 2 and "not a JPEG 2000 codestream" in err
    rc, _, err = _run(["decode", str(bit), "--codec", "webp", "--quality", "3", "-o", str(tmp_path / "y.png")])
    assert rc == 2 and "learned codecs" in err
    rc, _, err = _run(["decode", str(tmp_path), "--codec", "webp", "-o", str(tmp_path / "y.png")])
    assert rc == 2 and "folder" in err
    assert _listing(tmp_path) == ["x.webp"]


def test_unreachable_bpp_target_warns(tmp_path, small_image):
    src = tmp_path / "in.png"
    Image.fromarray(small_image).save(src)
    rc, out, err = _run(["encode", str(src), "--codec", "jpeg", "--bpp", "0.0001", "-o", str(tmp_path / "x.jpg"), "--json"])
    assert rc == 0 and "dlic: warning: jpeg cannot reach 0.0001 bpp" in err
    assert not json.loads(out)["within_tolerance"]
    rc, _, err = _run(["encode", str(src), "--codec", "jpeg", "--bpp", "-1", "-o", str(tmp_path / "y.jpg")])
    assert rc == 2 and "--bpp must be a positive number" in err


def _marked_processes(marker: str, program: str = "") -> list[int]:
    """Processes whose environment holds ``marker`` (and whose command line names ``program``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes() and \
                        program.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_truncated_jpegxl_decode_is_quick_and_leaves_no_ffmpeg(tmp_path, streams):
    """A truncated JPEG XL file once made FFmpeg retry forever while its stderr grew without bound."""
    bit = tmp_path / "half.jxl"
    bit.write_bytes(streams["jpegxl"][: len(streams["jpegxl"]) // 2])
    marker = f"DLIC_TEST_MARKER={uuid.uuid4().hex}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    t0 = time.monotonic()
    proc = subprocess.run([*DLIC, "decode", str(bit), "--codec", "jpegxl", "-o", str(tmp_path / "x.png")],
                          capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 2 and "Unexpected end of JXL codestream" in proc.stderr
    assert proc.stderr.count("\n") == 1 and time.monotonic() - t0 < 150  # FFmpeg's own limit is 300 s
    assert not _marked_processes(marker) and _listing(tmp_path) == ["half.jxl"]
    # the largest process this test session has waited for (FFmpeg included) stayed small
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 4 * 1024 * 1024


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_ffmpeg_dies_with_an_interrupted_or_killed_parent(tmp_path, how):
    marker = f"DLIC_TEST_MARKER={uuid.uuid4().hex}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    # Ctrl-C as in a terminal, even where this test runs in the background (which inherits SIGINT ignored)
    script = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
              "from dlic_lib.ffmpeg import run_ffmpeg\n"
              "print('start', flush=True)\n"
              "run_ffmpeg(['-re', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=5', '-f', 'null', '-'], what='t', timeout=300)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"start"
        deadline, seen = time.monotonic() + 120, []
        while not seen and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = _marked_processes(marker, "ffmpeg-")
        assert seen  # FFmpeg runs, under the python parent
        proc.send_signal(how)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 20
        while _marked_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _marked_processes(marker)
    finally:
        for pid in _marked_processes(marker):  # never leave a stray process behind a failed check
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)
