"""The registry of trained weights: entries, this machine's ``registry.json`` and the released list.

Two sources are merged by :func:`entries`:

* ``dlic-train``: ``<checkpoint_dir>/registry.json``, rewritten atomically under a file lock each
  time a training task releases a file;
* ``manifest``: files released with the project, listed under ``checkpoints:`` in the data manifest
  (``path`` relative to the manifest's folder, the repository root).

Records written before the zoo knew other architectures (``model``, ``metric``, ``quality``,
``lmbda``, ``N``, ``M``) are read as rate–distortion entries of CompressAI architectures.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import checkpoint_dir
from ..errors import DlicError

__all__ = ["ZooEntry", "registry_path", "entries", "find", "register", "REGISTRY_FORMAT"]

REGISTRY_FORMAT = "dlic-checkpoint-registry/2"
_READABLE_FORMATS = ("dlic-checkpoint-registry/1", REGISTRY_FORMAT, None)


@dataclass(frozen=True)
class ZooEntry:
    """One trained network: what it is, where its file is, how it was trained, how it scored.

    ``rate_key`` says where the network sits on its rate axis (``{"quality": 3, "lmbda": 0.0067}``,
    ``{"iterations": 16}``, ``{"qf": 50}``, or ``{}``); ``build`` holds the keyword arguments of
    :func:`dlic_lib.models.build_model` that rebuild the architecture (e.g. ``{"N": 64, "M": 96}``).
    """

    architecture: str
    objective: str
    rate_key: dict
    path: Path
    sha256: str
    task: str = "rd"
    build: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict, compare=False)
    val: dict = field(default_factory=dict, compare=False)
    source: str = "dlic-train"

    # the names rate–distortion code has always used
    @property
    def model(self) -> str:
        return self.architecture

    @property
    def metric(self) -> str:
        return self.objective

    @property
    def quality(self) -> int | None:
        q = self.rate_key.get("quality")
        return None if q is None else int(q)

    @property
    def lmbda(self) -> float | None:
        value = self.rate_key.get("lmbda")
        return None if value is None else float(value)

    @property
    def N(self) -> int | None:
        return self.build.get("N")

    @property
    def M(self) -> int | None:
        return self.build.get("M")

    @property
    def profile(self) -> str | None:
        return self.config.get("profile")

    def as_row(self) -> dict[str, Any]:
        """A flat record for tables (``dlic checkpoints list``)."""
        row = {"architecture": self.architecture, "model": self.architecture, "task": self.task, "objective": self.objective,
               "metric": self.objective, **self.rate_key, **self.build, "path": str(self.path), "sha256": self.sha256,
               "source": self.source, "profile": self.config.get("profile"), "steps": self.config.get("steps")}
        row.update({f"val_{k}": v for k, v in self.val.items()})
        return row

    def record(self, base: Path) -> dict:
        """The JSON record (``path`` relative to ``base`` where it lies below it)."""
        path = Path(self.path)
        stored = path.relative_to(base) if path.is_absolute() and path.is_relative_to(base) else path
        out = {k: v for k, v in asdict(self).items() if k != "source"}
        out["path"] = str(stored)
        return out


def registry_path() -> Path:
    """``<checkpoint_dir>/registry.json``."""
    return checkpoint_dir() / "registry.json"


def _entry(record: dict, base: Path, source: str, where: Path) -> ZooEntry:
    try:
        if "architecture" in record:
            arch, task, objective = str(record["architecture"]), str(record.get("task", "rd")), str(record["objective"])
            rate_key, build = dict(record.get("rate_key") or {}), dict(record.get("build") or {})
        else:  # the rate–distortion record of the first registry format
            arch, task, objective = str(record["model"]), "rd", str(record["metric"])
            rate_key = {"quality": int(record["quality"]), "lmbda": float(record["lmbda"])}
            build = {"N": int(record["N"]), "M": int(record["M"])}
        path = Path(record["path"])
        return ZooEntry(arch, objective, rate_key, path if path.is_absolute() else base / path, str(record["sha256"]), task, build,
                        dict(record.get("config") or {}), dict(record.get("val") or {}), source)
    except (KeyError, TypeError, ValueError) as exc:
        raise DlicError(f"checkpoint list {where} has an invalid entry ({exc!s}); fix or delete that entry") from None


def _read_registry() -> list[dict]:
    path = registry_path()
    if not path.exists():
        return []
    if not path.is_file():
        raise DlicError(f"checkpoint registry {path} is not a file; remove it and re-run training to rebuild it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") not in _READABLE_FORMATS:
            raise TypeError(f"unknown format {data.get('format')!r}")
        records = data["entries"]
        if not isinstance(records, list):
            raise TypeError("entries is not a list")
        return records
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise DlicError(f"checkpoint registry {path} is unreadable ({exc!s}); delete it and re-run training to rebuild it") from None


def _manifest_entries() -> list[ZooEntry]:
    from ..data.manifest import manifest_checkpoints, manifest_path

    manifest = manifest_path()
    return [_entry(r, manifest.parent, "manifest", manifest) for r in manifest_checkpoints(manifest)]


def entries(architecture: str | None = None, *, task: str | None = None, objective: str | None = None,
            rate_key: dict | None = None, profile: str | None = None) -> list[ZooEntry]:
    """Every known entry (this machine's registry first, then the released ones) matching the filters.

    ``rate_key`` matches entries whose rate key holds all the given items (``{"quality": 3}``).
    """
    base = checkpoint_dir()
    found = [_entry(r, base, "dlic-train", registry_path()) for r in _read_registry()] + _manifest_entries()
    want = dict(rate_key or {})
    return [e for e in found
            if (architecture is None or e.architecture == architecture) and (task is None or e.task == task)
            and (objective is None or e.objective == objective) and (profile is None or e.config.get("profile") == profile)
            and all(_same(e.rate_key.get(k), v) for k, v in want.items())]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def find(architecture: str, *, task: str | None = None, objective: str | None = None, rate_key: dict | None = None,
         profile: str | None = None) -> ZooEntry | None:
    """The best matching entry: the longest-trained one, this machine's before released ones, newest last."""
    candidates = entries(architecture, task=task, objective=objective, rate_key=rate_key, profile=profile)
    if not candidates:
        return None

    def rank(e: ZooEntry) -> tuple:
        return (int(e.config.get("steps") or 0), e.source == "dlic-train", float(e.config.get("registered_at") or 0))

    return max(candidates, key=rank)


def _slot(rate_key: dict) -> dict:
    """What makes two rate keys one slot of the registry: the quality index where there is one."""
    return {"quality": int(rate_key["quality"])} if "quality" in rate_key else dict(rate_key)


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as fh:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX
            pass
        yield


def register(entry: ZooEntry) -> ZooEntry:
    """Add ``entry`` to this machine's registry (replacing one of the same network, rate key and profile).

    The file must exist; its sha256 is computed when ``entry.sha256`` is empty. The registry is
    rewritten atomically under a lock. Returns the entry as stored.
    """
    from ..data import sha256_file
    from ..outputs import write_text

    path = Path(entry.path).resolve()
    if not path.is_file():
        raise DlicError(f"cannot register checkpoint {path}: the file does not exist")
    config = {**entry.config}
    config.setdefault("registered_at", time.time())
    base = checkpoint_dir().resolve()
    entry = ZooEntry(entry.architecture, entry.objective, dict(entry.rate_key), path, entry.sha256 or sha256_file(path), entry.task,
                     dict(entry.build), config, dict(entry.val), "dlic-train")
    record = entry.record(base)
    json.dumps(record)  # fail here, not half way through writing the registry
    reg = registry_path()
    with _locked(reg):
        kept = []
        for r in _read_registry():
            old = _entry(r, base, "dlic-train", reg)
            same = (old.architecture, old.task, old.objective, _slot(old.rate_key), old.config.get("profile")) == (
                entry.architecture, entry.task, entry.objective, _slot(entry.rate_key), config.get("profile"))
            if not same:
                kept.append(r)
        kept.append(record)
        write_text(reg, json.dumps({"format": REGISTRY_FORMAT, "entries": kept}, indent=1, sort_keys=True), what="checkpoint registry")
    return _entry(record, base, "dlic-train", reg)
