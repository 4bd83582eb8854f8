"""Where the time of a book run goes: chapters, training per network, codec grid per codec.

Reads what a run leaves behind, so it costs nothing to run after ``dlic book``/``make book``:

* ``<executed>/book_time.json``: wall-clock seconds per chapter and the machine (``dlic book``);
* ``<checkpoint_dir>/runs/*/log.csv``: each training run's logged steps and elapsed seconds;
* ``<results_dir>/*/grid_<profile>.parquet``: the codec grids, whose ``wall_s`` column holds each
  row's share of rate search, coding and measuring.

Usage::

    python benchmarks/book_time.py --profile quick            # tables on stdout
    python benchmarks/book_time.py --profile quick --json     # one JSON object

Training and grid seconds are summed over what the folders hold for the profile: a run whose
networks or grid cells were cached spent no time on them, so compare a cold run with a cold run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd


def chapter_times(executed: Path) -> tuple[pd.DataFrame, dict]:
    """Seconds per chapter and the machine record of the last ``dlic book`` run in ``executed``."""
    path = executed / "book_time.json"
    if not path.is_file():
        return pd.DataFrame(columns=["chapter", "profile", "seconds"]), {}
    record = json.loads(path.read_text(encoding="utf-8"))
    return pd.DataFrame(record.get("chapters", [])), record.get("machine", {})


def training_times(checkpoints: Path, profile: str | None) -> pd.DataFrame:
    """One row per training run: network, objective, rate key, steps and seconds (from its log)."""
    rows = []
    for log in sorted((checkpoints / "runs").glob("*/log.csv")):
        try:
            frame = pd.read_csv(log)
        except (OSError, ValueError, pd.errors.EmptyDataError):
            continue
        if frame.empty or "elapsed_s" not in frame:
            continue
        first = frame.iloc[0]
        if profile and "profile" in frame and str(first["profile"]) != profile:
            continue
        network = str(first.get("model", first.get("architecture", log.parent.name)))
        rows.append({"run": log.parent.name, "network": network, "objective": first.get("metric", ""),
                     "lambda": first.get("lmbda", float("nan")), "steps": int(frame["step"].max()),
                     "seconds": float(frame["elapsed_s"].max())})
    table = pd.DataFrame(rows, columns=["run", "network", "objective", "lambda", "steps", "seconds"])
    if not table.empty:
        table["s_per_100_steps"] = (100 * table["seconds"] / table["steps"]).round(1)
    return table


def grid_times(results: Path, profile: str | None) -> pd.DataFrame:
    """Seconds per chapter, dataset and codec setting of every grid table, with cells and encodes."""
    rows = []
    pattern = f"*/grid_{profile}.parquet" if profile else "*/grid_*.parquet"
    for path in sorted(results.glob(pattern)):
        table = pd.read_parquet(path)
        if table.empty:
            continue
        if "wall_s" not in table:  # tables written before the column existed: coding time only
            table["wall_s"] = table["encode_s"].fillna(0) + table["decode_s"].fillna(0)
        g = table.groupby(["dataset", "setting"], sort=False).agg(
            rows=("image", "size"), images=("image", "nunique"), encodes=("encodes", "sum"), seconds=("wall_s", "sum"))
        g.insert(0, "chapter", path.parent.name)
        rows.append(g.reset_index())
    if not rows:
        return pd.DataFrame(columns=["chapter", "dataset", "setting", "rows", "images", "encodes", "seconds"])
    out = pd.concat(rows, ignore_index=True)
    out["s_per_image"] = (out["seconds"] / out["images"]).round(2)
    return out.sort_values("seconds", ascending=False, ignore_index=True)


def summary(chapters: pd.DataFrame, training: pd.DataFrame, grids: pd.DataFrame) -> dict:
    total = float(chapters["seconds"].sum()) if not chapters.empty else float("nan")
    train_s = float(training["seconds"].sum()) if not training.empty else 0.0
    grid_s = float(grids["seconds"].sum()) if not grids.empty else 0.0
    return {"book_s": round(total, 1), "training_s": round(train_s, 1), "grid_s": round(grid_s, 1),
            "other_s": round(total - train_s - grid_s, 1) if total == total else None}


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from dlic_lib.config import checkpoint_dir, results_dir
    from dlic_lib.notebooks import executed_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="quick", help="profile of the run (default quick; '' for all)")
    parser.add_argument("--executed", type=Path, default=None, help="folder of the executed notebooks")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    profile = args.profile or None

    chapters, machine = chapter_times(args.executed or executed_dir())
    training = training_times(checkpoint_dir(), profile)
    grids = grid_times(results_dir(), profile)
    total = summary(chapters, training, grids)
    if args.json:
        print(json.dumps({"summary": total, "machine": machine, "chapters": chapters.to_dict("records"),
                          "training": training.to_dict("records"), "grid": grids.to_dict("records")}, default=str))
        return 0
    pd.set_option("display.width", 160)
    pd.set_option("display.max_rows", 200)
    print(f"machine: {machine or 'unknown (no book_time.json: run `dlic book` first)'}")
    print(f"summary (s): {total}\n")
    print("chapters:\n" + (chapters.to_string(index=False) if not chapters.empty else "  none recorded") + "\n")
    print("training per network:\n" + (training.to_string(index=False) if not training.empty else "  none") + "\n")
    by_codec = grids.groupby("setting", sort=False)[["rows", "encodes", "seconds"]].sum() if not grids.empty else grids
    print("grid per codec (all sets):\n" + (by_codec.sort_values("seconds", ascending=False).to_string()
                                              if not grids.empty else "  none") + "\n")
    print("grid per codec and set:\n" + (grids.to_string(index=False) if not grids.empty else "  none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
