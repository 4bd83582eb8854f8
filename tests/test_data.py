"""Dataset resolution: order, checksums, download, conversion, embedded default."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest
import yaml

from dlic_lib.data import load_manifest, resolve_dataset, verify_dataset
from dlic_lib.data.convert import sureal_py_to_csv
from dlic_lib.errors import ChecksumError, DatasetUnavailableError, DlicError

DATA = Path(__file__).parent / "data"


def test_manifest_matches_mirror_checksums(mirror_dir):
    manifest = load_manifest()
    for name in ("kodak", "wikimedia-photos", "tlabs-image-quality", "nflx-public", "jpeg-aic4"):
        sums = {}
        for line in (mirror_dir / name / "SHA256SUMS").read_text().splitlines():
            digest, path = line.split(None, 1)
            sums[path.strip().lstrip("./")] = digest
        files = {f.path: f.sha256 for f in manifest.dataset(name).files}
        assert files == sums, name
    kodak = manifest.dataset("kodak")
    assert [f.url for f in kodak.files][:2] == [
        "http://r0k.us/graphics/kodak/kodak/kodim01.png",
        "http://r0k.us/graphics/kodak/kodak/kodim02.png",
    ]


def test_photo_splits_are_disjoint_and_complete():
    spec = load_manifest().dataset("wikimedia-photos")
    train, val, test = (set(spec.splits[s]) for s in ("train", "val", "test"))
    assert not (train & val or train & test or val & test)
    assert train | val | test == {f.path for f in spec.files}
    assert len(test) == 8 and len(spec.attribution) >= 49  # upstream lists 50 source pages
    assert all(a.startswith("https://commons.wikimedia.org/wiki/File") for a in spec.attribution)


def test_mirror_is_used_and_verified(kodak_dir):
    ds = resolve_dataset("kodak")
    assert ds.source.startswith("mirror:") and not ds.embedded
    assert len(ds.images()) == 24 and ds.images()[0] == kodak_dir / "kodim01.png"


def test_cache_comes_before_mirror(tmp_path, monkeypatch, kodak_dir):
    cache = tmp_path / "data"
    shutil.copytree(kodak_dir, cache / "kodak")
    monkeypatch.setenv("DLIC_DATA_DIR", str(cache))
    ds = resolve_dataset("kodak")
    assert ds.source == "cache" and ds.images()[0].parent == cache / "kodak"


def _mirror_copy(tmp_path: Path, kodak_dir: Path) -> Path:
    mirror = tmp_path / "mirror"
    shutil.copytree(kodak_dir, mirror / "kodak")
    return mirror


def test_checksum_mismatch_is_refused(tmp_path, monkeypatch, kodak_dir):
    mirror = _mirror_copy(tmp_path, kodak_dir)
    with open(mirror / "kodak" / "kodim07.png", "ab") as fh:
        fh.write(b"\0")
    monkeypatch.setenv("DLIC_DATA_MIRROR", str(mirror))
    with pytest.raises(ChecksumError, match="kodim07.png"):
        resolve_dataset("kodak")
    rows = dict(verify_dataset("kodak"))
    assert rows[str(mirror / "kodak" / "kodim07.png")] == "MISMATCH"


def test_offline_without_data_falls_back_to_labelled_embedded_default(tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_DATA_MIRROR", str(tmp_path / "nothing"))
    with pytest.warns(UserWarning, match="embedded default"):
        ds = resolve_dataset("kodak")
    assert ds.embedded and ds.source == "embedded:scikit-image"
    assert "EMBEDDED DEFAULT" in ds.provenance()["label"]
    assert {p.name for p in ds.images()} == {"astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"}
    with pytest.raises(DatasetUnavailableError, match="offline"):
        resolve_dataset("kodak", allow_embedded=False)
    with pytest.raises(DatasetUnavailableError):
        resolve_dataset("jpeg-aic4")  # no embedded default for score tables


def test_mirror_order_follows_pathsep(tmp_path, monkeypatch, kodak_dir):
    import os

    second = _mirror_copy(tmp_path, kodak_dir)
    monkeypatch.setenv("DLIC_DATA_MIRROR", os.pathsep.join([str(tmp_path / "empty"), str(second)]))
    assert resolve_dataset("kodak").source == f"mirror:{second}"


@pytest.fixture()
def http_root(tmp_path):
    """A loopback HTTP server serving ``tmp_path/www``."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _manifest_with(tmp_path: Path, datasets: dict) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "datasets": datasets}))
    return path


def test_download_verifies_and_caches(tmp_path, monkeypatch, http_root, kodak_dir):
    root, base = http_root
    shutil.copy(kodak_dir / "kodim03.png", root / "k3.png")
    digest = hashlib.sha256((root / "k3.png").read_bytes()).hexdigest()
    manifest = load_manifest(_manifest_with(tmp_path, {"tiny": {"files": [{"path": "kodim03.png", "sha256": digest, "url": f"{base}/k3.png"}]}}))
    monkeypatch.setenv("DLIC_DATA_MIRROR", "")
    ds = resolve_dataset("tiny", allow_download=True, manifest=manifest, progress=False)
    assert ds.source == "download"
    cached = Path(ds.images()[0])
    assert cached.read_bytes() == (kodak_dir / "kodim03.png").read_bytes()
    (root / "k3.png").unlink()  # second resolution must not need the server
    assert resolve_dataset("tiny", allow_download=True, manifest=manifest).source == "cache"


def test_download_with_wrong_checksum_is_not_kept(tmp_path, monkeypatch, http_root):
    root, base = http_root
    (root / "f.bin").write_bytes(b"tampered")
    manifest = load_manifest(_manifest_with(tmp_path, {"bad": {"files": [{"path": "f.bin", "sha256": "0" * 64, "url": f"{base}/f.bin"}]}}))
    monkeypatch.setenv("DLIC_DATA_MIRROR", "")
    with pytest.raises(ChecksumError, match="not used"):
        resolve_dataset("bad", allow_download=True, manifest=manifest, progress=False)
    assert not any((tmp_path / "dlic").glob("**/f.bin"))


def test_download_converts_sureal_file(tmp_path, monkeypatch, http_root, mirror_dir):
    root, base = http_root
    shutil.copy(DATA / "NFLX_dataset_public_raw.py", root / "raw.py")
    spec = load_manifest().dataset("nflx-public").files[0]
    entry = {"path": spec.path, "sha256": spec.sha256, "url": f"{base}/raw.py", "url_sha256": spec.url_sha256, "convert": spec.convert}
    manifest = load_manifest(_manifest_with(tmp_path, {"nflx": {"files": [entry]}}))
    monkeypatch.setenv("DLIC_DATA_MIRROR", "")
    ds = resolve_dataset("nflx", allow_download=True, manifest=manifest, progress=False)
    assert ds.files()[0].read_bytes() == (mirror_dir / "nflx-public" / "nflx_public_raw.csv").read_bytes()


def test_unreachable_download_is_a_clear_error(tmp_path, monkeypatch):
    manifest = load_manifest(_manifest_with(tmp_path, {"gone": {"files": [{"path": "x.png", "sha256": "0" * 64, "url": "http://127.0.0.1:9/x.png"}]}}))
    monkeypatch.setenv("DLIC_DATA_MIRROR", "")
    with pytest.raises(DatasetUnavailableError, match="download of http://127.0.0.1:9/x.png failed"):
        resolve_dataset("gone", allow_download=True, manifest=manifest, progress=False)


def test_sureal_conversion_refuses_non_dataset():
    with pytest.raises(DlicError, match="not a sureal dataset"):
        sureal_py_to_csv(b"x = 1\n")
    with pytest.raises(DlicError):
        sureal_py_to_csv(b"import os\nref_videos = os.listdir('.')\ndis_videos = []\n")


def test_unknown_dataset_and_split():
    with pytest.raises(DlicError, match="unknown dataset 'nope'"):
        resolve_dataset("nope")
    with pytest.raises(DlicError, match="no split 'train'"):
        resolve_dataset("kodak").files("train")


def test_broken_manifest_is_a_clear_error(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("datasets: [1, 2\n")
    with pytest.raises(DlicError, match="not valid YAML"):
        load_manifest(bad)
    with pytest.raises(DlicError, match="not found"):
        load_manifest(tmp_path / "missing.yaml")
