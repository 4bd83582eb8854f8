"""Speed of the statistical core against the reference tools, measured in the same run.

Prints, for each task, our time, the reference time and the ratio (reference / ours; > 1 means
faster than the reference): BT.500 screening and MOS (sureal ``MosModel`` with subject
rejection), the P.913 subject model (sureal's content-oblivious MLE, Newton and alternating
projection), BD-rate (``bjontegaard`` package, cubic and pchip). Run:
``python benchmarks/stats.py [--mirror DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            func()
        times.append(time.perf_counter() - t)
    return min(times)


def _sureal_reader(scores: pd.DataFrame):
    from dlic_lib.subjective.sureal_bridge import to_sureal_reader

    return to_sureal_reader(scores)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_mirror = os.environ.get("DLIC_DATA_MIRROR", str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    parser.add_argument("--mirror", default=default_mirror.split(os.pathsep)[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import bjontegaard
    from sureal.subjective_model import (
        MaximumLikelihoodEstimationModelContentOblivious,
        MaximumLikelihoodEstimationModelContentObliviousAlternativeProjection,
        MosModel,
    )

    from dlic_lib import rd
    from dlic_lib.subjective import bt500_screening, mos_table, subject_model_mle

    raw = pd.read_csv(Path(args.mirror) / "nflx-public" / "nflx_public_raw_last4outliers.csv")
    reader = _sureal_reader(raw)
    rows = []

    def ours_screen():
        s = bt500_screening(raw, ddof=0)
        mos_table(raw, method="normal", exclude_subjects=s.rejected)

    rows.append(("BT.500 screening + MOS (NFLX, 79×30)", _best(ours_screen, args.repeat),
                 "sureal MosModel(subject_rejection)",
                 _best(lambda: MosModel(reader).run_modeling(subject_rejection=True), args.repeat)))
    ours_mle = _best(lambda: subject_model_mle(raw), args.repeat)
    rows.append(("P.913 subject model MLE", ours_mle, "sureal MLE_CO (Newton)",
                 _best(lambda: MaximumLikelihoodEstimationModelContentOblivious(reader).run_modeling(), args.repeat)))
    rows.append(("P.913 subject model MLE", ours_mle, "sureal MLE_CO_AP",
                 _best(lambda: MaximumLikelihoodEstimationModelContentObliviousAlternativeProjection(reader).run_modeling(),
                       args.repeat)))

    rng = np.random.default_rng(0)
    curves = []
    for _ in range(200):
        r = np.sort(rng.uniform(0.05, 2.0, 6))
        q = 24 + 4.5 * np.log2(r / 0.05)
        curves.append(((r, q), (r * rng.uniform(0.7, 1.1), q + rng.uniform(-0.3, 0.3))))
    for method in ("cubic", "pchip"):
        ours = _best(lambda: [rd.bd_rate(a, t, method=method) for a, t in curves], args.repeat)
        ref = _best(lambda: [bjontegaard.bd_rate(*a, *t, method=method, min_overlap=0) for a, t in curves], args.repeat)
        rows.append((f"BD-rate {method}, 200 curve pairs", ours, "bjontegaard.bd_rate", ref))

    print(f"{'task':40s} {'ours [ms]':>10s}  {'reference':36s} {'ref [ms]':>10s} {'ref/ours':>9s}")
    for task, ours, name, ref in rows:
        print(f"{task:40s} {ours * 1e3:10.2f}  {name:36s} {ref * 1e3:10.2f} {ref / ours:9.2f}")


if __name__ == "__main__":
    main()
