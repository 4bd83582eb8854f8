"""Parsing and validation of ``data_manifest.yaml`` into typed records."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..config import project_root
from ..errors import DlicError

__all__ = ["FileSpec", "DatasetSpec", "Manifest", "load_manifest", "manifest_path", "manifest_checkpoints"]


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset: its relative path, sha256 and canonical URL."""

    path: str
    sha256: str
    url: str | None = None
    url_sha256: str | None = None  # sha256 of the downloaded file when it is converted (``convert``)
    convert: str | None = None  # name of a converter in :mod:`dlic_lib.data.convert`


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset as the manifest describes it."""

    name: str
    title: str
    kind: str  # "images" | "subjective"
    role: str
    license: str
    homepage: str
    files: tuple[FileSpec, ...]
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    embedded_files: tuple[str, ...] = ()
    embedded_splits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    attribution: tuple[str, ...] = ()
    note: str = ""
    user_provided: bool = False


@dataclass(frozen=True)
class Manifest:
    datasets: dict[str, DatasetSpec]
    embedded_package: str
    embedded_module: str
    embedded_files: dict[str, str]  # file name -> sha256
    path: Path

    def dataset(self, name: str) -> DatasetSpec:
        try:
            return self.datasets[name]
        except KeyError:
            known = ", ".join(sorted(self.datasets))
            raise DlicError(f"unknown dataset {name!r}; the manifest knows: {known}") from None


def manifest_path() -> Path:
    """``DLIC_MANIFEST`` if set, else ``data_manifest.yaml`` at the project root."""
    env = os.environ.get("DLIC_MANIFEST", "").strip()
    return Path(env).expanduser() if env else project_root() / "data_manifest.yaml"


def load_manifest(path: str | Path | None = None) -> Manifest:
    """Read and validate the data manifest (cached per path)."""
    return _load(Path(path) if path is not None else manifest_path())


def manifest_checkpoints(path: str | Path | None = None) -> list[dict]:
    """The ``checkpoints:`` records of the manifest (trained weights released with the project).

    An absent or unreadable manifest lists none (:func:`load_manifest` reports a broken one).
    """
    import yaml

    path = Path(path) if path is not None else manifest_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    records = raw.get("checkpoints") if isinstance(raw, dict) else None
    return [dict(r) for r in records if isinstance(r, dict)] if isinstance(records, list) else []


@lru_cache(maxsize=8)
def _load(path: Path) -> Manifest:
    import yaml

    if not path.is_file():
        raise DlicError(f"data manifest not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DlicError(f"data manifest {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), dict):
        raise DlicError(f"data manifest {path} has no 'datasets' mapping")
    datasets = {name: _dataset(name, spec or {}, path) for name, spec in raw["datasets"].items()}
    emb = raw.get("embedded_defaults") or {}
    return Manifest(
        datasets=datasets,
        embedded_package=str(emb.get("package", "")),
        embedded_module=str(emb.get("module", "")),
        embedded_files=dict(emb.get("files") or {}),
        path=path,
    )


def _dataset(name: str, spec: dict, path: Path) -> DatasetSpec:
    files = []
    for entry in spec.get("files") or []:
        if not entry.get("path") or not entry.get("sha256"):
            raise DlicError(f"data manifest {path}: dataset {name!r} has a file entry without path or sha256")
        files.append(
            FileSpec(
                path=str(entry["path"]),
                sha256=str(entry["sha256"]).lower(),
                url=entry.get("url"),
                url_sha256=entry.get("url_sha256"),
                convert=entry.get("convert"),
            )
        )
    known = {f.path for f in files}
    splits = {k: tuple(v) for k, v in (spec.get("splits") or {}).items()}
    for split, members in splits.items():
        unknown = sorted(set(members) - known)
        if unknown:
            raise DlicError(f"data manifest {path}: split {name}/{split} names unknown files {unknown[:3]}")
    emb = spec.get("embedded_default") or {}
    return DatasetSpec(
        name=name,
        title=str(spec.get("title", name)),
        kind=str(spec.get("kind", "images")),
        role=str(spec.get("role", "")),
        license=str(spec.get("license", "")),
        homepage=str(spec.get("homepage", "")),
        files=tuple(files),
        splits=splits,
        embedded_files=tuple(emb.get("files") or ()),
        embedded_splits={k: tuple(v) for k, v in (emb.get("splits") or {}).items()},
        attribution=tuple(spec.get("attribution") or ()),
        note=str(spec.get("note", "")),
        user_provided=bool(spec.get("user_provided", False)),
    )
