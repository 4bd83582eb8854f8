"""benchmarks/recipe_rd.py: chapter 2's learned RD points of two runs, joined per setting and rung, with differences."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "recipe_rd.py"


@pytest.fixture(scope="module")
def recipe_rd():
    spec = importlib.util.spec_from_file_location("recipe_rd", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(folder: Path, psnr: float, bpp: float) -> Path:
    chapter = folder / "02_objective_study"
    chapter.mkdir(parents=True)
    rows = [{"dataset": "Kodak", "setting": "BF-E", "point": 1.0, "bpp": bpp, "psnr_y": psnr, "ms_ssim": 0.9, "kind": "learned"},
            {"dataset": "Kodak", "setting": "JPEG 4:2:0", "point": 0.125, "bpp": 0.13, "psnr_y": 25.5, "ms_ssim": 0.84,
             "kind": "conventional"},
            {"dataset": "High-res", "setting": "BF-E", "point": 1.0, "bpp": 0.1, "psnr_y": 30.0, "ms_ssim": 0.95,
             "kind": "learned"}]  # fmt: skip
    pd.DataFrame(rows).to_csv(chapter / "rd_points_quick.csv", index=False)
    return folder


def test_learned_kodak_points_before_and_after(recipe_rd, tmp_path, capsys):
    before, after = _run(tmp_path / "a", 26.16, 0.146), _run(tmp_path / "b", 25.66, 0.150)
    table = recipe_rd.compare(recipe_rd.learned_points(before, "quick", "Kodak"),
                              recipe_rd.learned_points(after, "quick", "Kodak"))
    assert list(table.index) == [("BF-E", 1.0)]  # conventional codecs and other sets left out
    assert table.loc[("BF-E", 1.0), "Δpsnr_y"] == pytest.approx(-0.5)
    assert table.loc[("BF-E", 1.0), "Δbpp"] == pytest.approx(0.004)
    assert recipe_rd.main([str(before), str(after / "02_objective_study")]) == 0
    assert "BF-E" in capsys.readouterr().out


def test_missing_table_is_one_line(recipe_rd, tmp_path):
    with pytest.raises(SystemExit, match="rd_points_quick.csv not found"):
        recipe_rd.learned_points(tmp_path, "quick", "Kodak")
