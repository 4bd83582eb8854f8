"""The ``dlic`` command: data sub-commands, notebook runs and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DLIC = str(Path(sys.executable).with_name("dlic"))


def dlic(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([DLIC, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip() and not line.startswith("dlic: warning: ")]
    assert len(lines) == 1 and lines[0].startswith("dlic: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_help_lists_commands():
    out = dlic("--help")
    assert out.returncode == 0
    for command in ("data", "run", "book"):
        assert command in out.stdout


def test_data_list_json_and_verify():
    listing = json.loads(dlic("data", "list", "--json").stdout)
    kodak = next(row for row in listing if row["name"] == "kodak")
    assert kodak["files"] == 24 and kodak["present"] == 24
    verify = dlic("data", "verify", "kodak", "nflx-public")
    assert verify.returncode == 0 and "kodak: 24 ok, 0 missing, 0 mismatched" in verify.stdout


def test_data_fetch_reports_source():
    out = dlic("data", "fetch", "jpeg-aic4")
    assert out.returncode == 0 and "jpeg-aic4: 3 files from mirror:" in out.stdout


def test_verify_flags_a_corrupt_mirror_file(tmp_path, kodak_dir):
    mirror = tmp_path / "mirror"
    shutil.copytree(kodak_dir, mirror / "kodak")
    (mirror / "kodak" / "kodim05.png").write_bytes(b"junk")
    out = dlic("data", "verify", "kodak", env={"DLIC_DATA_MIRROR": str(mirror)})
    assert out.returncode == 1 and "MISMATCH" in out.stdout and "kodim05.png" in out.stdout
    fetch = dlic("data", "fetch", "kodak", "--no-embedded", env={"DLIC_DATA_MIRROR": str(mirror)})
    assert_one_line_error(fetch, "checksum mismatch", "kodim05.png")


def test_errors_are_one_line(tmp_path):
    assert_one_line_error(dlic("data", "fetch", "nope"), "unknown dataset 'nope'")
    assert_one_line_error(dlic("data", "fetch"), "--all")
    assert_one_line_error(dlic("run", "no_such_notebook"), "not found", "00_datasets")
    offline = dlic("data", "fetch", "kodak", "--no-embedded", env={"DLIC_DATA_MIRROR": str(tmp_path)})
    assert_one_line_error(offline, "not available", "offline")


def test_fetch_all_keep_going_reports_unavailable(tmp_path):
    out = dlic("data", "fetch", "--all", "--keep-going", env={"DLIC_DATA_MIRROR": str(tmp_path), "DLIC_DATA_DIR": str(tmp_path / "c")})
    assert out.returncode == 0, out.stderr
    assert "kodak: 4 files from embedded:scikit-image  [EMBEDDED DEFAULT]" in out.stdout
    assert "jpeg-aic4: UNAVAILABLE" in out.stdout
    assert out.stderr.splitlines()[0].startswith("dlic: warning: dataset 'kodak' is not reachable")
    strict = dlic("data", "fetch", "--all", env={"DLIC_DATA_MIRROR": str(tmp_path), "DLIC_DATA_DIR": str(tmp_path / "c")})
    assert_one_line_error(strict, "not available")


def test_bad_profile_is_rejected():
    out = dlic("run", "00_datasets", "--profile", "huge")
    assert out.returncode == 2 and "invalid choice: 'huge'" in out.stderr


def test_run_with_papermill_parameter(tmp_path):
    import nbformat

    target = tmp_path / "run.ipynb"
    out = dlic("run", "00", "--profile", "smoke", "-p", "max_images", "1", "-o", str(target))
    assert out.returncode == 0, out.stderr
    nb = nbformat.read(target, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "max_images = 1" in injected[0].source and 'profile = "smoke"' in injected[0].source


@pytest.mark.parametrize("value,expected", [("3", 3), ("0.5", 0.5), ("true", True), ("[1, 2]", [1, 2]), ("kodak", "kodak"), ("null", None)])
def test_parameter_parsing(value, expected):
    from dlic_lib.notebooks import parse_parameter

    assert parse_parameter(value) == expected
