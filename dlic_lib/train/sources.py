"""Where training images come from: a manifest dataset, a folder, or a list of files (never Kodak)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..data.resolve import IMAGE_SUFFIXES
from ..errors import DlicError
from .crops import refuse_kodak

__all__ = ["TrainingData", "training_data"]

#: a folder without a split of its own gives every ``VAL_STRIDE``-th file (sorted by name) to validation
VAL_STRIDE = 10


@dataclass
class TrainingData:
    """Training and validation file lists plus where they came from (recorded in every checkpoint)."""

    train: list[Path]
    val: list[Path]
    provenance: dict = field(default_factory=dict)


def _split(files: list[Path]) -> tuple[list[Path], list[Path]]:
    if len(files) < 2:
        return files, files
    val = [f for i, f in enumerate(files) if i % VAL_STRIDE == VAL_STRIDE - 1] or files[-1:]
    train = [f for f in files if f not in val]
    return train, val


def _folder_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DlicError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in training folder {folder}")
    return files


def _from_dataset(name: str) -> TrainingData:
    if "kodak" in name.lower():
        raise DlicError(f"refusing to train on dataset {name!r}: Kodak is the evaluation set, use wikimedia-photos")
    from ..data import resolve_dataset

    ds = resolve_dataset(name)
    provenance = {"dataset": name, "source": str(getattr(ds, "source", "")), "embedded": bool(getattr(ds, "embedded", False))}
    listing = getattr(ds, "images", ds.files)  # image files only, where the data layer offers it
    try:
        train, val = list(listing(split="train")), list(listing(split="val"))
        provenance["split"] = "manifest"
    except (TypeError, KeyError, ValueError, DlicError):
        train, val = [], []
    if not train or not val:
        train, val = _split(sorted(Path(p) for p in listing()))
        provenance["split"] = f"every {VAL_STRIDE}th file is val"
    return TrainingData([Path(p) for p in train], [Path(p) for p in val], provenance)


def training_data(data: str | Path | Sequence[str | Path], val: Sequence[str | Path] | None = None) -> TrainingData:
    """Resolve ``data`` (dataset name, folder, or list of image files) into train/val file lists.

    A folder or file list without an explicit ``val`` list gives every 10th file (sorted) to
    validation. Kodak (a dataset named so, or files named ``kodimNN``) is refused.
    """
    if isinstance(data, (str, Path)) and Path(data).is_dir():
        folder = Path(data)
        train, val_files = _split(_folder_files(folder))
        result = TrainingData(train, val_files, {"dataset": folder.name, "source": str(folder.resolve()), "split": f"every {VAL_STRIDE}th file is val"})
    elif isinstance(data, (str, Path)) and Path(data).suffix.lower() in IMAGE_SUFFIXES:
        raise DlicError(f"training data must be a folder, a dataset name or several files, got the single file {data}")
    elif isinstance(data, str) and ("/" in data or "\\" in data or data.startswith(".")):
        raise DlicError(f"training folder not found: {data}")
    elif isinstance(data, str):
        result = _from_dataset(data)
    elif isinstance(data, Path):
        raise DlicError(f"training folder not found: {data}")
    else:
        files = [Path(p) for p in data]
        missing = [p for p in files if not p.is_file()]
        if missing:
            raise DlicError(f"training image not found: {missing[0]}")
        train, val_files = _split(files)
        result = TrainingData(train, val_files, {"dataset": "files", "source": f"{len(files)} listed files", "split": f"every {VAL_STRIDE}th file is val"})
    if val is not None:
        result.val = [Path(p) for p in val]
        result.train = [p for p in result.train if p not in set(result.val)] or result.train
        result.provenance["split"] = "explicit val list"
    refuse_kodak(result.train + result.val)
    if not result.train:
        raise DlicError("no training images were found")
    return result
