"""The ``dlic dsis``, ``dlic corr``, ``dlic bd`` and ``dlic stats`` commands, end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from dlic_lib.cli import main


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_dsis_plan(tmp_path, capsys):
    stimuli = pd.DataFrame({"stimulus": [f"s{i}_r{r}" for i in range(6) for r in range(5)],
                            "source": [f"s{i}" for i in range(6) for _ in range(5)]})
    stimuli.to_csv(tmp_path / "stimuli.csv", index=False)
    pd.DataFrame({"stimulus": ["train1", "train2"]}).to_csv(tmp_path / "training.csv", index=False)
    rc, out, _ = _run(capsys, "dsis", "plan", str(tmp_path / "stimuli.csv"), "--seconds-per-trial", "10",
                      "--training", str(tmp_path / "training.csv"), "--subjects", "2",
                      "--out", str(tmp_path / "plan.csv"))
    assert rc == 0 and "30 stimuli × 2 subject(s) in 1 session(s)" in out
    plan = pd.read_csv(tmp_path / "plan.csv")
    assert set(plan["phase"]) == {"training", "test"} and len(plan) == 2 * 32
    rc, out, _ = _run(capsys, "dsis", "plan", str(tmp_path / "stimuli.csv"), "--seconds-per-trial", "120")
    assert rc == 0 and pd.read_csv(__import__("io").StringIO(out))["session"].max() == 2


def test_dsis_analyze_json(mirror_dir, capsys):
    raw = mirror_dir / "nflx-public" / "nflx_public_raw_last4outliers.csv"
    rc, out, _ = _run(capsys, "dsis", "analyze", str(raw), "--scale", "5", "--json", "--subject-model")
    assert rc == 0
    res = json.loads(out)
    assert res["rejected_subjects"] == ["s27", "s30"]
    assert len(res["mos"]) == 79 and set(res["mos"][0]) >= {"stimulus", "mos", "ci95", "n"}
    assert all(r["n"] == 28 for r in res["mos"])
    assert res["subject_model"]["converged"]
    rc, out, _ = _run(capsys, "dsis", "analyze", str(raw), "--ddof", "0", "--ci", "normal", "--json")
    assert json.loads(out)["rejected_subjects"] == ["s27", "s29", "s30"]


def test_dsis_analyze_bad_input(tmp_path, capsys):
    bad = tmp_path / "raw.csv"
    pd.DataFrame({"subject": [1, 1, 2, 2], "stimulus": ["a", "b", "a", "b"], "score": [5, 7, 4, 3]}).to_csv(bad, index=False)
    rc, _, err = _run(capsys, "dsis", "analyze", str(bad), "--scale", "5")
    assert rc == 2 and err.startswith("dlic: error:") and "outside the 5-grade" in err
    pd.DataFrame({"subject": [1, 2], "stimulus": ["a", "a"], "grade": [5, 4]}).to_csv(bad, index=False)
    rc, _, err = _run(capsys, "dsis", "analyze", str(bad))
    assert rc == 2 and "lack column(s) score" in err
    rc, _, err = _run(capsys, "dsis", "analyze", str(tmp_path / "missing.csv"))
    assert rc == 2 and "not found" in err


def test_corr_json_by_codec(mirror_dir, tmp_path, capsys):
    base = mirror_dir / "tlabs-image-quality"
    mos = pd.read_csv(base / "mos_ci.csv").rename(columns={"image_name": "stimulus"})
    mos["ci95"] = mos["ci"] / 2  # the file's ci is the full width
    mos[["stimulus", "mos", "ci95"]].to_csv(tmp_path / "mos.csv", index=False)
    met = pd.read_csv(base / "objective_metrics.csv").rename(columns={"image": "stimulus"})
    met["codec"] = np.where(met["stimulus"].str.contains("crf_0[0-9]_"), "high", "low")
    met[["stimulus", "codec", "psnr", "vmaf"]].to_csv(tmp_path / "metrics.csv", index=False)
    rc, out, err = _run(capsys, "corr", "--mos", str(tmp_path / "mos.csv"), "--metrics", str(tmp_path / "metrics.csv"),
                      "--logistic", "none", "--by", "codec", "--json")
    assert rc == 0, err
    rows = {(r["metric"], r["subset"]): r for r in json.loads(out)}
    published = pd.read_csv(base / "correlations.csv").set_index("metric")
    assert rows[("vmaf", "all")]["plcc"] == pytest.approx(published.loc["vmaf", "pearson"], abs=1e-12)
    assert rows[("psnr", "all")]["srocc"] == pytest.approx(published.loc["psnr", "spearman"], abs=1e-12)
    assert {s for _, s in rows} == {"all", "high", "low"}
    rc, out, _ = _run(capsys, "corr", "--mos", str(tmp_path / "mos.csv"), "--metrics", str(tmp_path / "metrics.csv"),
                      "--metric", "psnr", "--logistic", "5p", "--json")
    (row,) = json.loads(out)
    assert row["plcc"] > published.loc["psnr", "pearson"] and 0 <= row["outlier_ratio"] <= 1
    rc, out, _ = _run(capsys, "corr", "--mos", str(tmp_path / "mos.csv"), "--metrics", str(tmp_path / "metrics.csv"),
                      "--metric", "vmaf", "--logistic", "none", "--by", "codec", "--group", "both=high,low", "--json")
    grouped = {r["subset"]: r for r in json.loads(out)}
    assert grouped["both"]["n"] == grouped["all"]["n"] == 371
    assert grouped["both"]["plcc"] == pytest.approx(grouped["all"]["plcc"])
    rc, _, err = _run(capsys, "corr", "--mos", str(tmp_path / "mos.csv"), "--metrics", str(tmp_path / "metrics.csv"),
                      "--group", "oops")
    assert rc == 2 and "NAME=V1,V2" in err
    rc, _, err = _run(capsys, "corr", "--mos", str(tmp_path / "mos.csv"), "--metrics", str(tmp_path / "metrics.csv"),
                      "--metric", "lpips")
    assert rc == 2 and "lpips" in err


def test_bd_command(tmp_path, capsys):
    rates = np.array([0.1, 0.2, 0.4, 0.8])
    pd.DataFrame({"bpp": rates, "psnr_y": 30 + 4 * np.log(rates)}).to_csv(tmp_path / "anchor.csv", index=False)
    pd.DataFrame({"bpp": 0.9 * rates, "psnr_y": 30 + 4 * np.log(rates)}).to_csv(tmp_path / "test.csv", index=False)
    for method in ("cubic", "pchip"):
        rc, out, _ = _run(capsys, "bd", str(tmp_path / "anchor.csv"), str(tmp_path / "test.csv"),
                          "--metric", "psnr_y", "--method", method, "--json")
        res = json.loads(out)
        assert rc == 0 and res["bd_rate"] == pytest.approx(-10.0, abs=1e-9)
        assert res["bd_quality"] == pytest.approx(4 * math.log(10 / 9), abs=1e-9)
    pd.DataFrame({"bpp": rates[:3], "psnr_y": [30, 31, 32]}).to_csv(tmp_path / "short.csv", index=False)
    rc, _, err = _run(capsys, "bd", str(tmp_path / "anchor.csv"), str(tmp_path / "short.csv"), "--metric", "psnr_y")
    assert rc == 2 and "at least 4" in err
    rc, _, err = _run(capsys, "bd", str(tmp_path / "anchor.csv"), str(tmp_path / "test.csv"), "--metric", "ssim")
    assert rc == 2 and "no column 'ssim'" in err


def test_fisher_z_command(capsys):
    rc, out, _ = _run(capsys, "stats", "fisher-z", "--r1", "0.858", "--n1", "60", "--r2", "0.652", "--n2", "53", "--json")
    res = json.loads(out)
    assert rc == 0 and res["p"] < 0.05 and res["z"] == pytest.approx(2.6163, abs=1e-4)
    rc, out, _ = _run(capsys, "stats", "fisher-z", "--r1", "0.902", "--n1", "60", "--r2", "0.829", "--n2", "53", "--json")
    assert json.loads(out)["p"] > 0.05
    rc, out, _ = _run(capsys, "stats", "fisher-z", "--r1", "0.902", "--n1", "60", "--r2", "0.829", "--n2", "53",
                      "--two-sided", "--json")
    assert json.loads(out)["alternative"] == "two-sided"
    rc, _, err = _run(capsys, "stats", "fisher-z", "--r1", "1.2", "--n1", "60", "--r2", "0.8", "--n2", "53")
    assert rc == 2 and "between -1 and 1" in err
    assert _run(capsys, "stats")[0] == 2  # group alone prints its help
