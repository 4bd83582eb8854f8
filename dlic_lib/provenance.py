"""What produced a result: profile, versions, device, datasets (shown by every notebook)."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from typing import Any

from . import __version__
from .config import project_root

__all__ = ["environment_record", "provenance_table"]


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(project_root()), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment_record(profile: Any, device: str | None = None) -> dict[str, Any]:
    """Versions, device and profile as a flat record (also stored next to result tables)."""
    import numpy
    import torch

    from .device import device_info

    record = {
        "profile": getattr(profile, "name", str(profile)),
        "dlic": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(terse=True),
        "run_at_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }
    record.update(device_info(device))
    return record


def provenance_table(profile: Any, datasets: list[Any] = (), device: str | None = None):
    """A two-column table (``item``, ``value``) of the environment and each dataset's source."""
    import pandas as pd

    rows = list(environment_record(profile, device).items())
    for ds in datasets:
        p = ds.provenance()
        flag = "⚠ EMBEDDED DEFAULT: " if p["embedded"] else ""
        source = "mirror ($DLIC_DATA_MIRROR)" if str(p["source"]).startswith("mirror:") else p["source"]  # no local path
        rows.append((f"dataset {p['dataset']}", f"{flag}{p['n_files']} files from {source}"))
    return pd.DataFrame(rows, columns=["item", "value"])
