"""What a training-recipe change cost: chapter 2's learned codecs on Kodak, before and after, side by side.

Reads ``rd_points_<profile>.csv`` (the chapter's mean RD points per setting and rung) from two results
folders — a run before the change and a run after it — and prints, per learned setting and rung, bpp,
PSNR-Y and MS-SSIM of both runs and their differences.

Usage::

    python benchmarks/recipe_rd.py BEFORE_RESULTS AFTER_RESULTS [--profile quick] [--dataset Kodak]

where each folder is a ``DLIC_RESULTS_DIR`` (holding ``02_objective_study/``) or the chapter folder itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

COLUMNS = ["bpp", "psnr_y", "ms_ssim"]


def learned_points(folder: Path, profile: str, dataset: str) -> pd.DataFrame:
    """The learned settings' mean RD points of one chapter-2 run (one row per setting and rung)."""
    chapter = folder / "02_objective_study" if (folder / "02_objective_study").is_dir() else folder
    path = chapter / f"rd_points_{profile}.csv"
    if not path.is_file():
        raise SystemExit(f"error: {path} not found (run chapter 2 at profile {profile} with this results folder)")
    table = pd.read_csv(path)
    table = table[(table["dataset"] == dataset) & (table["kind"] != "conventional")]
    return table.set_index(["setting", "point"])[COLUMNS]


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Both runs' points joined per setting and rung, with after − before for each column."""
    joined = before.join(after, how="outer", lsuffix="_before", rsuffix="_after")
    for column in COLUMNS:
        joined[f"Δ{column}"] = joined[f"{column}_after"] - joined[f"{column}_before"]
    return joined


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="results folder of the run before the change")
    parser.add_argument("after", type=Path, help="results folder of the run after the change")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--dataset", default="Kodak")
    args = parser.parse_args(argv)
    table = compare(learned_points(args.before, args.profile, args.dataset),
                    learned_points(args.after, args.profile, args.dataset))
    pd.set_option("display.width", 200)
    print(f"{args.dataset}, profile {args.profile}: learned codecs before and after\n")
    print(table.round({**{c: 4 for c in table.columns}, "psnr_y_before": 2, "psnr_y_after": 2, "Δpsnr_y": 2}).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
