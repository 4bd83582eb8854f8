"""Rate-proxy speed: the soft count of non-zero DCT coefficients on a batch of 48×48 luma patches
against coding the same patches with libjpeg (Pillow, standard Huffman tables), in one run.

    python benchmarks/rate_proxy.py [--patches 256] [--quality 25] [--repeat 5] [--threads 1]

Prints the time per patch of each path and their ratio (libjpeg / proxy, forward only and
forward + backward), with the machine's load average, since timings under load are noisy.
Nothing here is a test: it measures and prints.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from dlic_lib.config import mirror_dirs
from dlic_lib.data import read_image
from dlic_lib.jpeg import encode_luma, hard_nonzero_count, rgb_to_luma, soft_nonzero_count


def patches(n: int, size: int = 48, seed: int = 0) -> np.ndarray:
    files = []
    for base in [*mirror_dirs(), Path(__file__).resolve().parents[2] / "shared" / "datasets"]:
        files = sorted((base / "kodak").glob("kodim*.png"))
        if files:
            break
    if not files:
        raise SystemExit("Kodak not found: set DLIC_DATA_MIRROR to the folder holding kodak/")
    rng = np.random.default_rng(seed)
    planes = [rgb_to_luma(read_image(f)) for f in files]
    out = []
    for i in range(n):
        y = planes[i % len(planes)]
        r, c = rng.integers(0, y.shape[0] - size), rng.integers(0, y.shape[1] - size)
        out.append(y[r:r + size, c:c + size])
    return np.stack(out)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patches", type=int, default=256)
    ap.add_argument("--quality", type=float, default=25)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (libjpeg codes on one)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    batch = patches(args.patches)
    x = torch.tensor(batch[:, None] / 255.0, dtype=torch.float32)

    def proxy_forward():
        with torch.no_grad():
            soft_nonzero_count(x, args.quality)

    def proxy_backward():
        xi = x.clone().requires_grad_(True)
        soft_nonzero_count(xi, args.quality).backward()

    def libjpeg():
        for p in batch:
            encode_luma(p, args.quality)

    proxy_forward(), proxy_backward(), libjpeg()  # warm-up
    t_fwd = best_of(proxy_forward, args.repeat)
    t_bwd = best_of(proxy_backward, args.repeat)
    t_jpeg = best_of(libjpeg, args.repeat)
    soft = soft_nonzero_count(x, args.quality, per_image=True).numpy()
    hard = hard_nonzero_count(x.double(), args.quality, per_image=True).numpy()
    bits = np.array([8 * len(encode_luma(p, args.quality)) for p in batch])
    n = len(batch)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; torch threads {torch.get_num_threads()}")
    print(f"{n} patches 48x48 at QF {args.quality:g}, best of {args.repeat}")
    print(f"  proxy forward          {1e6 * t_fwd / n:8.1f} us/patch")
    print(f"  proxy forward+backward {1e6 * t_bwd / n:8.1f} us/patch")
    print(f"  libjpeg encode         {1e6 * t_jpeg / n:8.1f} us/patch")
    print(f"  ratio libjpeg / proxy forward          {t_jpeg / t_fwd:6.2f}")
    print(f"  ratio libjpeg / proxy forward+backward {t_jpeg / t_bwd:6.2f}")
    print(f"  Pearson r(soft, file bits) {np.corrcoef(soft, bits)[0, 1]:.4f}; soft/hard {soft.sum() / hard.sum():.4f}")


if __name__ == "__main__":
    main()
