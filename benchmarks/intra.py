"""Speed of the batched HEVC intra predictor against a per-block evaluation of the same equations.

Both evaluate all 35 modes of 32×32 blocks with the standard's filtering on, from references of
Kodak blocks; the reference is the scalar, sample-by-sample transcription of H.265 §8.4.4.2 that the
tests use as their oracle (``tests/intra_spec.py``), run block by block. Prints blocks per second
(all 35 modes each) for both and the ratio (> 1: the batched predictor is faster), and checks that
the two agree. Run: ``python benchmarks/intra.py [--blocks N] [--reference-blocks M]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from intra_spec import spec_predict  # noqa: E402

from dlic_lib.intra import block_references  # noqa: E402
from dlic_lib.intra.hevc import MODES, filter_references, predict_from_references  # noqa: E402


def _kodak_references(mirror: Path, count: int):
    from dlic_lib.data import read_image

    tops, lefts, corners, avail = [], [], [], []
    total = 0
    for path in sorted((mirror / "kodak").glob("kodim*.png")):
        refs = block_references(read_image(path)[..., 1], 32)
        tops.append(refs.top), lefts.append(refs.left), corners.append(refs.corner), avail.append(refs.available)
        total += len(refs.top)
        if total >= count:
            break
    cat = lambda parts: np.concatenate(parts)[:count]  # noqa: E731
    return cat(tops), cat(lefts), cat(corners), cat(avail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path(os.environ.get("DLIC_DATA_MIRROR", REPO.parent / "shared" / "datasets")))
    parser.add_argument("--blocks", type=int, default=2304, help="blocks for the batched predictor")
    parser.add_argument("--reference-blocks", type=int, default=6, help="blocks for the per-block evaluation")
    args = parser.parse_args()
    top, left, corner, available = _kodak_references(args.mirror, args.blocks)
    from dlic_lib.intra.hevc import scan_order, substitute

    t = time.perf_counter()
    refs = substitute(scan_order(top, left, corner), available)
    filtered = filter_references(refs, 32)
    batched = [predict_from_references(refs, m, filtered=filtered) for m in MODES]
    ours = time.perf_counter() - t
    k = min(args.reference_blocks, len(top))
    t = time.perf_counter()
    reference = [[spec_predict(top[i], left[i], corner[i], m, 32, available[i]) for m in MODES] for i in range(k)]
    theirs = time.perf_counter() - t
    for i in range(k):
        for m in MODES:
            if not np.array_equal(batched[m][i], reference[i][m]):
                raise SystemExit(f"mismatch at block {i}, mode {m}")
    ours_rate, ref_rate = len(top) / ours, k / theirs
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print(f"batched   : {len(top):6d} blocks of 32×32, 35 modes each, {ours:7.2f} s, {ours_rate:9.1f} blocks/s")
    print(f"per block : {k:6d} blocks of 32×32, 35 modes each, {theirs:7.2f} s, {ref_rate:9.1f} blocks/s")
    print(f"ratio (batched / per block): {ours_rate / ref_rate:.0f}×; predictions identical")


if __name__ == "__main__":
    main()
