"""The registry of trained codec checkpoints that the codec zoo loads offline.

Two sources are merged by :func:`list_checkpoints`:

* ``dlic-train``: ``<checkpoint_dir>/registry.json``, written (atomically, under a file lock) by the
  training engine each time it releases a model;
* ``manifest``: checkpoints released with the project, listed under ``checkpoints:`` in the
  repository's ``data_manifest.yaml`` (same fields as a registry entry, ``path`` relative to the
  repository root).

A release checkpoint is a ``torch.save`` dict: ``format``, ``model``, ``metric``, ``quality``,
``lmbda``, ``N``, ``M``, ``state_dict`` (after ``update()``: entropy-coder tables included; transform
weights fp32 or fp16, entropy-model tensors always fp32), ``config`` and ``val``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import checkpoint_dir, project_root
from .errors import ChecksumError, DlicError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "CheckpointEntry",
    "CHECKPOINT_FORMAT",
    "registry_path",
    "list_checkpoints",
    "find_checkpoint",
    "load_codec_model",
    "register_checkpoint",
    "missing_checkpoint_message",
]

CHECKPOINT_FORMAT = "dlic-checkpoint/1"
REGISTRY_FORMAT = "dlic-checkpoint-registry/1"


@dataclass(frozen=True)
class CheckpointEntry:
    """One trained model: what it is, where its release file is, how it was trained, how it scored."""

    model: str
    metric: str
    quality: int
    lmbda: float
    N: int
    M: int
    path: Path
    sha256: str
    config: dict = field(default_factory=dict, compare=False, hash=False)
    val: dict = field(default_factory=dict, compare=False, hash=False)
    source: str = "dlic-train"

    def as_row(self) -> dict[str, Any]:
        """A flat record for tables (``dlic checkpoints list``)."""
        row = {k: v for k, v in asdict(self).items() if k not in ("config", "val")}
        row["path"] = str(self.path)
        row["profile"] = self.config.get("profile")
        row["steps"] = self.config.get("steps")
        row.update({f"val_{k}": v for k, v in self.val.items()})
        return row


def registry_path() -> Path:
    """``<checkpoint_dir>/registry.json``."""
    return checkpoint_dir() / "registry.json"


# -- reading --------------------------------------------------------------------------------------
def _entry_from_record(record: dict, base: Path, source: str, where: Path) -> CheckpointEntry:
    try:
        path = Path(record["path"])
        return CheckpointEntry(
            model=str(record["model"]),
            metric=str(record["metric"]),
            quality=int(record["quality"]),
            lmbda=float(record["lmbda"]),
            N=int(record["N"]),
            M=int(record["M"]),
            path=path if path.is_absolute() else base / path,
            sha256=str(record["sha256"]),
            config=dict(record.get("config") or {}),
            val=dict(record.get("val") or {}),
            source=source,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DlicError(f"checkpoint list {where} has an invalid entry ({exc!s}); fix or delete that entry") from None


def _read_registry() -> list[dict]:
    path = registry_path()
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = data["entries"]
        if not isinstance(records, list):
            raise TypeError("entries is not a list")
        return records
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise DlicError(f"checkpoint registry {path} is unreadable ({exc!s}); delete it and re-run training to rebuild it") from None


def _manifest_entries() -> list[CheckpointEntry]:
    manifest = project_root() / "data_manifest.yaml"
    if not manifest.exists():
        return []
    import yaml

    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return []  # the data layer reports a broken manifest; here it just lists no released checkpoint
    records = data.get("checkpoints") if isinstance(data, dict) else None
    if not isinstance(records, list):
        return []
    return [_entry_from_record(r, project_root(), "manifest", manifest) for r in records if isinstance(r, dict)]


def list_checkpoints(model: str | None = None, metric: str | None = None) -> list[CheckpointEntry]:
    """All known checkpoints (this machine's registry first, then the manifest), optionally filtered."""
    base = checkpoint_dir()
    entries = [_entry_from_record(r, base, "dlic-train", registry_path()) for r in _read_registry()]
    entries += _manifest_entries()
    return [
        e
        for e in entries
        if (model is None or e.model == model) and (metric is None or e.metric == metric)
    ]


def find_checkpoint(model: str, metric: str, quality: int, profile: str | None = None) -> CheckpointEntry | None:
    """The best checkpoint for ``(model, metric, quality)``: the longest-trained one, local before released.

    ``profile`` restricts the choice to checkpoints trained with that profile.
    """
    candidates = [
        e
        for e in list_checkpoints(model, metric)
        if e.quality == int(quality) and (profile is None or e.config.get("profile") == profile)
    ]
    if not candidates:
        return None

    def rank(e: CheckpointEntry) -> tuple:
        return (int(e.config.get("steps") or 0), e.source == "dlic-train", float(e.config.get("registered_at") or 0))

    return max(candidates, key=rank)


def missing_checkpoint_message(model: str, metric: str, quality: int) -> str:
    """One sentence naming the ``dlic train`` command that makes the missing checkpoint."""
    from .train.ladder import lambda_for_quality

    lmbda = lambda_for_quality(int(quality), metric)
    return (
        f"no trained checkpoint for {model} ({metric}, quality {quality}) is registered in {checkpoint_dir()}; "
        f"train it with: dlic train --model {model} --metric {metric} --lambdas {lmbda:g} --profile quick"
    )


# -- loading --------------------------------------------------------------------------------------
def load_release(path: str | Path) -> dict:
    """Read a release checkpoint dict (no checksum check: see :func:`load_codec_model`)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise DlicError(f"checkpoint file not found: {path}; re-run its training command to recreate it")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - unpickling fails in many ways (struct.error, EOFError, ...)
        raise DlicError(f"checkpoint file {path} cannot be read ({type(exc).__name__}); re-run its training command") from None
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise DlicError(f"{path} is not a dlic release checkpoint (expected format {CHECKPOINT_FORMAT})")
    return blob


def load_codec_model(entry: CheckpointEntry, device: str = "cpu") -> "torch.nn.Module":
    """The trained model of ``entry`` in ``eval()`` mode with its entropy-coder tables, on ``device``.

    The file's sha256 is checked first (:class:`ChecksumError` on a mismatch).
    """
    import torch

    from .data import sha256_file
    from .train.models import build_model

    path = Path(entry.path)
    if not path.is_file():
        raise DlicError(f"checkpoint file not found: {path}; re-run its training command to recreate it")
    digest = sha256_file(path)
    if digest != entry.sha256:
        raise ChecksumError(f"checkpoint {path} has sha256 {digest[:12]}…, but its registry entry expects {entry.sha256[:12]}…; retrain or re-download it")
    blob = load_release(path)
    net = build_model(entry.model, int(blob.get("N", entry.N)), int(blob.get("M", entry.M)))
    state = {k: (v.float() if torch.is_floating_point(v) else v) for k, v in blob["state_dict"].items()}
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError) as exc:
        raise DlicError(f"checkpoint {path} does not match model {entry.model} with N={entry.N}, M={entry.M}: {str(exc).splitlines()[0]}") from None
    has_tables = any(k.endswith("_quantized_cdf") and v.numel() > 0 for k, v in state.items())
    net.update(force=not has_tables)
    return net.eval().to(device)


# -- writing --------------------------------------------------------------------------------------
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


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def register_checkpoint(
    *,
    model: str,
    metric: str,
    quality: int,
    lmbda: float,
    N: int,
    M: int,
    path: str | Path,
    sha256: str | None = None,
    config: dict | None = None,
    val: dict | None = None,
) -> CheckpointEntry:
    """Add (or replace) a trained checkpoint in this machine's registry and return its entry.

    An existing entry with the same model, metric, quality and profile is replaced. The sha256 is
    computed from the file when not given. The registry is rewritten atomically under a lock.
    """
    from .data import sha256_file

    path = Path(path).resolve()
    if not path.is_file():
        raise DlicError(f"cannot register checkpoint {path}: the file does not exist")
    config = dict(config or {})
    config.setdefault("registered_at", time.time())
    base = checkpoint_dir().resolve()
    stored = path.relative_to(base) if path.is_relative_to(base) else path
    record = {
        "model": model,
        "metric": metric,
        "quality": int(quality),
        "lmbda": float(lmbda),
        "N": int(N),
        "M": int(M),
        "path": str(stored),
        "sha256": sha256 or sha256_file(path),
        "config": config,
        "val": dict(val or {}),
    }
    json.dumps(record)  # fail here, not half way through writing the registry
    reg = registry_path()
    with _locked(reg):
        records = [
            r
            for r in _read_registry()
            if not (
                r.get("model") == model
                and r.get("metric") == metric
                and int(r.get("quality", -1)) == int(quality)
                and (r.get("config") or {}).get("profile") == config.get("profile")
            )
        ]
        records.append(record)
        _atomic_write_text(reg, json.dumps({"format": REGISTRY_FORMAT, "entries": records}, indent=1, sort_keys=True))
    return _entry_from_record(record, base, "dlic-train", reg)
