"""Where dlic keeps things: data cache, result cache, checkpoints (all overridable by environment).

| variable | default | holds |
|---|---|---|
| ``DLIC_DATA_DIR`` | ``~/.cache/dlic`` | verified dataset files, one folder per dataset |
| ``DLIC_DATA_MIRROR`` | *(none)* | ``os.pathsep``-separated folders holding datasets (read only) |
| ``DLIC_CACHE_DIR`` | ``$DLIC_DATA_DIR/results`` | coded images, metric tables and other reusable results |
| ``DLIC_CHECKPOINT_DIR`` | ``$DLIC_DATA_DIR/checkpoints`` | trained model checkpoints and their registry |
| ``DLIC_OFFLINE`` | unset | ``1`` forbids downloads (datasets, pretrained weights) |
| ``DLIC_RESULTS_DIR`` | ``<project>/results`` | tidy result tables (CSV/Parquet) written by the notebooks |
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["data_dir", "mirror_dirs", "cache_dir", "checkpoint_dir", "offline", "project_root", "results_dir",
           "environment"]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else default


def data_dir() -> Path:
    """The user cache of verified dataset files (``DLIC_DATA_DIR``, default ``~/.cache/dlic``)."""
    return _env_path("DLIC_DATA_DIR", Path.home() / ".cache" / "dlic")


def mirror_dirs() -> list[Path]:
    """Read-only mirror folders from ``DLIC_DATA_MIRROR`` (``os.pathsep``-separated), in order."""
    raw = os.environ.get("DLIC_DATA_MIRROR", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def cache_dir() -> Path:
    """The result cache (``DLIC_CACHE_DIR``, default ``<data_dir>/results``)."""
    return _env_path("DLIC_CACHE_DIR", data_dir() / "results")


def checkpoint_dir() -> Path:
    """Trained checkpoints and their registry (``DLIC_CHECKPOINT_DIR``, default ``<data_dir>/checkpoints``)."""
    return _env_path("DLIC_CHECKPOINT_DIR", data_dir() / "checkpoints")


def offline() -> bool:
    """True when ``DLIC_OFFLINE`` is set to a true value: no download is attempted."""
    return os.environ.get("DLIC_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def project_root() -> Path:
    """The repository root (the folder holding ``data_manifest.yaml``) of a source checkout."""
    return Path(__file__).resolve().parent.parent


def results_dir() -> Path:
    """Tidy result tables written by the notebooks (``DLIC_RESULTS_DIR``, default ``<project>/results``)."""
    return _env_path("DLIC_RESULTS_DIR", project_root() / "results")


@contextlib.contextmanager
def environment(settings: dict[str, str]) -> Iterator[None]:
    """Set ``settings`` in ``os.environ`` for the body; restore every key (or its absence) afterwards."""
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
