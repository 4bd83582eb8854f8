"""Resolve a manifest dataset to verified local files.

Order, per dataset: user cache (``DLIC_DATA_DIR/<name>/``) → each mirror folder
(``DLIC_DATA_MIRROR``, ``<mirror>/<name>/``) → download from the canonical URLs into the cache
(unless ``DLIC_OFFLINE=1``) → embedded default (images shipped inside scikit-image), flagged with
``embedded=True``. A file whose sha256 differs from the manifest is never used: it raises
:class:`~dlic_lib.errors.ChecksumError` naming the file and both digests.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..errors import ChecksumError, DatasetUnavailableError, DlicError
from ..outputs import write_bytes
from .download import download_file
from .images import sha256_file
from .manifest import DatasetSpec, FileSpec, Manifest, load_manifest

__all__ = ["ResolvedDataset", "resolve_dataset", "resolve_optional", "verify_dataset", "embedded_dir"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm", ".bmp", ".tif", ".tiff", ".webp")
_VERIFIED: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class ResolvedDataset:
    """A dataset whose files are on disk and verified."""

    name: str
    title: str
    paths: dict[str, Path]  # relative path in the manifest -> local file
    source: str  # "cache" | "mirror:<dir>" | "download" | "embedded:<package>" | "user"
    embedded: bool = False
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    license: str = ""

    def files(self, split: str | None = None) -> list[Path]:
        """Local paths of all files, or of one split (``train``, ``val``, ``test``)."""
        if split is None:
            return [self.paths[k] for k in sorted(self.paths)]
        if split not in self.splits:
            raise DlicError(f"dataset {self.name!r} has no split {split!r}; splits: {sorted(self.splits) or 'none'}")
        return [self.paths[k] for k in self.splits[split]]

    def images(self, split: str | None = None) -> list[Path]:
        """Like :meth:`files`, keeping image files only."""
        return [p for p in self.files(split) if p.suffix.lower() in IMAGE_SUFFIXES]

    def provenance(self) -> dict[str, object]:
        """A flat record for result tables and notebook provenance cells."""
        return {
            "dataset": self.name,
            "source": self.source,
            "embedded": self.embedded,
            "n_files": len(self.paths),
            "label": f"{self.title} [EMBEDDED DEFAULT: scikit-image sample images, not {self.name}]"
            if self.embedded
            else self.title,
        }


def _verify(path: Path, expected: str) -> None:
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        digest = _VERIFIED.get(key) or sha256_file(path)
    except OSError as exc:
        raise DlicError(f"cannot read dataset file {path}: {exc.strerror or exc}") from None
    if digest != expected:
        raise ChecksumError(
            f"checksum mismatch for {path}: sha256 {digest[:16]}… but the manifest expects {expected[:16]}…; "
            "the file is corrupt or altered — delete it and run `dlic data fetch` again"
        )
    _VERIFIED[key] = digest


def _from_folders(spec: DatasetSpec, folders: list[tuple[str, Path]]) -> tuple[dict[str, Path], list[str], str]:
    """Each file of ``spec`` from the first folder holding it (verified).

    Returns ``(found, missing, source)``: the files found, the manifest paths found nowhere, and
    the source label (the folder, or ``"mixed"`` when several contributed).
    """
    found: dict[str, Path] = {}
    used: list[str] = []
    missing = []
    for f in spec.files:
        for label, folder in folders:
            path = folder / f.path
            if path.is_file():
                _verify(path, f.sha256)
                found[f.path] = path
                if label not in used:
                    used.append(label)
                break
        else:
            missing.append(f.path)
    return found, missing, used[0] if len(used) == 1 else "mixed:" + ",".join(used)


def embedded_dir(manifest: Manifest) -> Path | None:
    """The folder of the package that ships the embedded default images, if installed."""
    found = importlib.util.find_spec(manifest.embedded_module) if manifest.embedded_module else None
    if found is None or not found.submodule_search_locations:
        return None
    return Path(list(found.submodule_search_locations)[0])


def _embedded(spec: DatasetSpec, manifest: Manifest) -> ResolvedDataset | None:
    folder = embedded_dir(manifest)
    if folder is None or not spec.embedded_files:
        return None
    paths = {}
    for name in spec.embedded_files:
        expected = manifest.embedded_files.get(name)
        if expected is None:
            raise DlicError(f"data manifest: embedded file {name!r} of {spec.name!r} has no sha256")
        path = folder / name
        if not path.is_file():
            return None
        _verify(path, expected)
        paths[name] = path
    return ResolvedDataset(
        name=spec.name, title=spec.title, paths=paths, source=f"embedded:{manifest.embedded_package}",
        embedded=True, splits=dict(spec.embedded_splits), license=f"{manifest.embedded_package} sample data",
    )


def _download(spec: DatasetSpec, target: Path, progress: bool) -> dict[str, Path]:
    missing = [f for f in spec.files if not f.url]
    if missing:
        raise DatasetUnavailableError(f"dataset {spec.name!r}: file {missing[0].path} has no download URL")
    for f in spec.files:
        dest = target / f.path
        if dest.is_file():
            _verify(dest, f.sha256)
            continue
        _download_one(f, dest, progress)
    return {f.path: target / f.path for f in spec.files}


def _download_one(f: FileSpec, dest: Path, progress: bool) -> None:
    from .convert import CONVERTERS

    if f.convert:
        raw = download_file(f.url, expected_sha256=f.url_sha256, progress=progress)
        try:
            data = CONVERTERS[f.convert](raw)
        except KeyError:
            raise DlicError(f"data manifest names an unknown converter {f.convert!r}") from None
    else:
        data = download_file(f.url, expected_sha256=f.sha256, progress=progress)
    write_bytes(dest, data, what="dataset file")
    _verify(dest, f.sha256)


def resolve_dataset(
    name: str,
    *,
    allow_download: bool | None = None,
    allow_embedded: bool = True,
    progress: bool = True,
    manifest: Manifest | None = None,
) -> ResolvedDataset:
    """Make dataset ``name`` available locally and return its verified files.

    ``allow_download`` defaults to ``not DLIC_OFFLINE``. Raises
    :class:`~dlic_lib.errors.ChecksumError` on any sha256 mismatch and
    :class:`~dlic_lib.errors.DatasetUnavailableError` when no source can provide the dataset.
    """
    manifest = manifest or load_manifest()
    spec = manifest.dataset(name)
    cache = config.data_dir() / name
    if spec.user_provided:
        files = sorted(p for p in cache.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if cache.is_dir() else []
        if not files:
            raise DatasetUnavailableError(f"dataset {name!r} is not redistributable: {spec.note}")
        return ResolvedDataset(name, spec.title, {p.name: p for p in files}, "user", license=spec.license)

    folders = [("cache", cache), *((f"mirror:{m}", m / name) for m in config.mirror_dirs())]
    for label, folder in folders[1:]:
        if folder.parent.exists() and not folder.parent.is_dir():
            raise DlicError(f"data mirror {folder.parent} (DLIC_DATA_MIRROR) is a file, not a folder")
    paths, missing, source = _from_folders(spec, folders) if spec.files else ({}, [], "")
    if spec.files and not missing:
        return ResolvedDataset(name, spec.title, paths, source, splits=dict(spec.splits), license=spec.license)

    tried = [f"cache {cache}", *(f"mirror {m / name}" for m in config.mirror_dirs())]
    if allow_download is None:
        allow_download = not config.offline()
    if paths and not allow_download:
        # part of the dataset is here: standing in the embedded default would hide the loss
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DatasetUnavailableError(
            f"dataset {name!r} is incomplete: {len(missing)} of {len(spec.files)} files are missing from "
            f"{'; '.join(tried)} ({shown}); restore them, or allow downloads (unset DLIC_OFFLINE)"
        )
    if allow_download:
        try:
            paths = _download(spec, cache, progress)
            return ResolvedDataset(name, spec.title, paths, "download", splits=dict(spec.splits), license=spec.license)
        except ChecksumError:
            raise
        except DlicError as exc:
            tried.append(f"download ({exc})")
    else:
        tried.append("download (offline)")
    if allow_embedded:
        resolved = _embedded(spec, manifest)
        if resolved is not None:
            import warnings

            warnings.warn(
                f"dataset {name!r} is not reachable ({'; '.join(tried)}); using the embedded default "
                f"({manifest.embedded_package} sample images) instead — results are NOT {spec.title}",
                stacklevel=2,
            )
            return resolved
    raise DatasetUnavailableError(f"dataset {name!r} is not available; tried: {'; '.join(tried)}")


def resolve_optional(name: str, **kwargs) -> ResolvedDataset | None:
    """Like :func:`resolve_dataset`, but ``None`` (with a warning) when no source can provide it.

    For chapters that can still say something useful without one of their datasets; a checksum
    mismatch is still an error.
    """
    import warnings

    try:
        return resolve_dataset(name, **kwargs)
    except DatasetUnavailableError as exc:
        warnings.warn(str(exc), stacklevel=2)
        return None


def verify_dataset(name: str, *, manifest: Manifest | None = None) -> list[tuple[str, str]]:
    """Check every file of ``name`` that exists in the cache or a mirror; return (path, status) rows.

    Status is ``ok``, ``missing`` or ``MISMATCH``; nothing is downloaded.
    """
    manifest = manifest or load_manifest()
    spec = manifest.dataset(name)
    folders = [config.data_dir() / name, *(m / name for m in config.mirror_dirs())]
    rows = []
    for f in spec.files:
        location = next((d / f.path for d in folders if (d / f.path).is_file()), None)
        if location is None:
            rows.append((f.path, "missing"))
            continue
        try:
            _verify(location, f.sha256)
            rows.append((str(location), "ok"))
        except ChecksumError:
            rows.append((str(location), "MISMATCH"))
    return rows
