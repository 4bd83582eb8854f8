"""Shared test fixtures: where the offline dataset mirror is, and small real images from it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent


def _mirror() -> Path:
    for raw in os.environ.get("DLIC_DATA_MIRROR", "").split(os.pathsep):
        if raw.strip() and Path(raw).is_dir():
            return Path(raw)
    return (REPO.parent / "shared" / "datasets").resolve()


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """The dataset mirror (``DLIC_DATA_MIRROR`` or ``../shared/datasets``); the suite needs it."""
    path = _mirror()
    if not (path / "kodak").is_dir():
        pytest.fail(f"dataset mirror not found at {path}; set DLIC_DATA_MIRROR to the folder holding kodak/")
    return path


@pytest.fixture(scope="session")
def kodak_dir(mirror_dir: Path) -> Path:
    return mirror_dir / "kodak"


@pytest.fixture(scope="session")
def kodim01(kodak_dir: Path) -> np.ndarray:
    """kodim01 as RGB uint8 (512×768)."""
    from dlic_lib.data import read_image

    return read_image(kodak_dir / "kodim01.png")


@pytest.fixture(scope="session")
def kodim_crop(kodim01: np.ndarray) -> np.ndarray:
    """A 192×256 crop of kodim01 for fast tests."""
    return np.ascontiguousarray(kodim01[160:352, 256:512])


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Each test writes caches, checkpoints and result tables to a private temporary folder, never to ~/.cache."""
    base = tmp_path_factory.getbasetemp() / "dlic-home"
    monkeypatch.setenv("DLIC_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("DLIC_CACHE_DIR", str(base / "results"))
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(base / "checkpoints"))
    monkeypatch.setenv("DLIC_RESULTS_DIR", str(base / "tables"))
    monkeypatch.setenv("DLIC_DATA_MIRROR", str(_mirror()))
    monkeypatch.setenv("DLIC_OFFLINE", "1")
    monkeypatch.setenv("DLIC_DEVICE", os.environ.get("DLIC_DEVICE", "cpu"))
