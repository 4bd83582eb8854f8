"""The output policy (:mod:`dlic_lib.outputs`) and the hardened FFmpeg runner (:mod:`dlic_lib.ffmpeg`)."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from dlic_lib import outputs
from dlic_lib.ffmpeg import FFmpegError, default_memory, default_timeout, ffmpeg_exe, run_ffmpeg
from dlic_lib.outputs import OutputPathError, atomic_path, atomic_paths, check_output, write_bytes, write_table


def _names(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_write_creates_parents_and_replaces_atomically(tmp_path):
    target = tmp_path / "a" / "b" / "out.bin"
    write_bytes(target, b"one")
    write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert _names(tmp_path) == ["a", "a/b", "a/b/out.bin"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("case", ["folder", "parent_file", "input", "hard_link", "symlink", "empty", "fifo"])
def test_bad_output_paths_are_refused_with_one_line(tmp_path, case):
    src = tmp_path / "in.png"
    src.write_bytes(b"input")
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_bytes(b"x")
    if case == "hard_link":
        os.link(src, tmp_path / "link.png")
    if case == "symlink":
        (tmp_path / "sym.png").symlink_to(src)
    if case == "fifo":
        os.mkfifo(tmp_path / "pipe")
    target = {"folder": tmp_path / "dir", "parent_file": tmp_path / "file" / "out.png", "input": tmp_path / "." / "in.png",
              "hard_link": tmp_path / "link.png", "symlink": tmp_path / "sym.png", "empty": "",
              "fifo": tmp_path / "pipe"}[case]
    before = _names(tmp_path)
    with pytest.raises(OutputPathError) as err:
        write_bytes(target, b"new", inputs=[src])
    assert "\n" not in str(err.value)
    assert _names(tmp_path) == before and src.read_bytes() == b"input"


def test_failure_inside_the_writer_leaves_nothing_and_keeps_the_old_file(tmp_path):
    old = tmp_path / "keep.bin"
    old.write_bytes(b"old")
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with atomic_paths([old, tmp_path / "new" / "second.bin"]) as (a, b):
                a.write_bytes(b"half")
                b.write_bytes(b"half")
                raise exc
    assert old.read_bytes() == b"old"
    assert _names(tmp_path) == ["keep.bin"]  # the folder made for the second output is gone too


def test_outputs_of_one_command_must_differ(tmp_path):
    with pytest.raises(OutputPathError, match="given twice"):
        with atomic_paths([tmp_path / "x.png", tmp_path / "sub" / ".." / "x.png"]):
            pass
    assert _names(tmp_path) == []


def test_temporary_names_never_match_the_target_suffix(tmp_path):
    with atomic_path(tmp_path / "t.json") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".part" and not list(tmp_path.glob("*.json"))
        tmp.write_text("{}")
    assert (tmp_path / "t.json").read_text() == "{}"


def test_write_table_by_suffix(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"a": [1, 2]})
    write_table(df, tmp_path / "t.parquet")
    write_table(df, tmp_path / "t.csv")
    assert pd.read_parquet(tmp_path / "t.parquet").equals(df) and pd.read_csv(tmp_path / "t.csv").equals(df)


def test_check_output_touches_nothing(tmp_path):
    check_output(tmp_path / "x" / "y" / "z.png")
    assert _names(tmp_path) == []
    assert outputs.prepare_output(tmp_path / "x" / "z.png") == tmp_path / "x" / "z.png" and (tmp_path / "x").is_dir()


# --- FFmpeg ----------------------------------------------------------------------------------

def test_ffmpeg_has_one_locator():
    from dlic_lib.codecs import ffmpeg as codec_ffmpeg
    from dlic_lib.metrics import vmaf

    assert codec_ffmpeg.ffmpeg_exe is ffmpeg_exe and vmaf.ffmpeg_exe is ffmpeg_exe
    assert os.access(ffmpeg_exe(), os.X_OK)


def test_ffmpeg_timeout_kills_the_process_group():
    t0 = time.monotonic()
    with pytest.raises(FFmpegError, match="did not finish within 1 s"):
        # reads a never-ending lavfi source and writes nothing to stdout
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc=size=32x32:rate=5", "-f", "null", "-"], what="test", timeout=1)
    assert time.monotonic() - t0 < 15
    assert not _ffmpeg_children()


def test_ffmpeg_output_is_bounded():
    with pytest.raises(FFmpegError, match="more than 1000 bytes"):
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x64", "-frames:v", "50", "-f", "rawvideo", "pipe:"],
                   what="test", max_output=1000, timeout=60)
    assert not _ffmpeg_children()


def test_ffmpeg_memory_cap_stops_a_greedy_child():
    with pytest.raises(FFmpegError):
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=4096x4096", "-frames:v", "1", "-f", "rawvideo", "pipe:"],
                   what="test", memory=64 << 20, timeout=60)


def test_ffmpeg_defaults_scale_with_the_image(monkeypatch):
    monkeypatch.delenv("DLIC_FFMPEG_TIMEOUT", raising=False)
    monkeypatch.delenv("DLIC_FFMPEG_MEMORY", raising=False)
    assert default_timeout(10**6) < default_timeout(10**8) and default_timeout(None) == 300
    assert default_memory(10**8) > default_memory(10**6) >= 4 << 30
    monkeypatch.setenv("DLIC_FFMPEG_MEMORY", "2G")
    monkeypatch.setenv("DLIC_FFMPEG_TIMEOUT", "7")
    assert default_memory() == 2 << 30 and default_timeout(10**9) == 7
    monkeypatch.setenv("DLIC_FFMPEG_MEMORY", "lots")
    with pytest.raises(FFmpegError, match="DLIC_FFMPEG_MEMORY"):
        default_memory()


def _ffmpeg_children() -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(os.getpid())], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if os.path.basename(ffmpeg_exe()) in ln]


def test_a_symlinked_output_keeps_its_link(tmp_path):
    real = tmp_path / "real.bin"
    real.write_bytes(b"old")
    (tmp_path / "link.bin").symlink_to(real)
    write_bytes(tmp_path / "link.bin", b"new")
    assert (tmp_path / "link.bin").is_symlink() and real.read_bytes() == b"new"
