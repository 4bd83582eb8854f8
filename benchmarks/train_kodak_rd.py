"""Kodak RD points of the learned codecs trained by ``dlic train`` against JPEG 4:2:0 (PSNR-Y).

For every registered checkpoint of ``--model`` (``--metric``, optionally one ``--profile``), all 24
Kodak images go through the codec zoo (real bitstreams: ``compress`` → bytes → ``decompress``), and
through Pillow JPEG 4:2:0 on a fine quality grid. For each image, JPEG's PSNR-Y (BT.601, full range)
is interpolated at the learned codec's bpp on that image ("matched bpp"); images whose learned bpp is
below JPEG's lowest reachable rate are counted apart. Prints one line per quality and writes a tidy
CSV (one row per image × codec point) with ``--out``.

    python benchmarks/train_kodak_rd.py [--model bmshj2018-factorized] [--metric mse] [--profile quick] [--out rd.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

JPEG_QUALITIES = [q / 2 for q in range(2, 61)] + list(range(31, 96, 2))  # 1, 1.5, ..., 30, 31, 33, ..., 95


def kodak_files() -> list[Path]:
    from dlic_lib.config import mirror_dirs

    for base in [*mirror_dirs(), Path(__file__).resolve().parents[2] / "shared" / "datasets"]:
        files = sorted((base / "kodak").glob("kodim*.png"))
        if files:
            return files
    sys.exit("Kodak not found: set DLIC_DATA_MIRROR to the folder holding kodak/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bmshj2018-factorized")
    parser.add_argument("--metric", default="mse")
    parser.add_argument("--profile", default=None, help="only checkpoints trained with this profile")
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--max-bpp", type=float, default=0.25, help="the rate bound of the quality bar")
    parser.add_argument("--out", default=None, help="CSV file for the per-image table")
    args = parser.parse_args()

    from dlic_lib.checkpoints import list_checkpoints
    from dlic_lib.codecs import get_codec
    from dlic_lib.data import read_image
    from dlic_lib.metrics.psnr import psnr_y

    entries = [e for e in list_checkpoints(args.model, args.metric) if args.profile in (None, e.config.get("profile"))]
    qualities = sorted({e.quality for e in entries})
    if not qualities:
        sys.exit(f"no registered {args.model} ({args.metric}) checkpoint; train some with `dlic train --model {args.model} --profile quick`")
    images = {p.stem: read_image(p) for p in kodak_files()[: args.images]}
    learned, jpeg = get_codec(args.model, metric=args.metric), get_codec("jpeg", chroma="420")

    rows = []
    for name, img in tqdm(images.items(), desc="Kodak", unit="img"):
        jp = [(c.bpp, float(psnr_y(img, c.decoded))) for c in (jpeg.encode(img, q) for q in JPEG_QUALITIES)]
        jb, jq = np.array([b for b, _ in jp]), np.array([p for _, p in jp])
        order = np.argsort(jb)
        jb, jq = jb[order], jq[order]
        for q in qualities:
            coded = learned.encode(img, q)
            bpp, psnr = coded.bpp, float(psnr_y(img, coded.decoded))
            reachable = jb[0] <= bpp <= jb[-1]
            rows.append({"image": name, "model": args.model, "metric": args.metric, "quality": q, "weights": coded.weights,
                         "bpp": bpp, "psnr_y": psnr, "jpeg420_psnr_y_at_bpp": float(np.interp(bpp, jb, jq)) if reachable else np.nan,
                         "jpeg420_min_bpp": float(jb[0])})
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)
    print(f"{args.model} ({args.metric}) on {len(images)} Kodak images; JPEG 4:2:0 PSNR-Y interpolated per image at the same bpp")
    print(f"{'q':>2} {'bpp':>7} {'PSNR-Y':>8} {'JPEG@bpp':>9} {'gain dB':>8} {'JPEG unreachable':>17}")
    for q, g in table.groupby("quality"):
        matched = g.dropna(subset=["jpeg420_psnr_y_at_bpp"])
        gain = (matched.psnr_y - matched.jpeg420_psnr_y_at_bpp).mean() if len(matched) else float("nan")
        jpeg_mean = matched.jpeg420_psnr_y_at_bpp.mean() if len(matched) else float("nan")
        print(f"{q:>2} {g.bpp.mean():7.4f} {g.psnr_y.mean():8.2f} {jpeg_mean:9.2f} {gain:8.2f} {len(g) - len(matched):>10d} of {len(g)}")
    low = table[table.bpp <= args.max_bpp].dropna(subset=["jpeg420_psnr_y_at_bpp"])
    if len(low):
        gain = (low.psnr_y - low.jpeg420_psnr_y_at_bpp).mean()
        print(f"at <= {args.max_bpp} bpp ({len(low)} image points where JPEG reaches the rate): mean PSNR-Y gain over JPEG 4:2:0 = {gain:+.2f} dB")
    below = table[(table.bpp <= args.max_bpp) & table.jpeg420_psnr_y_at_bpp.isna()]
    if len(below):
        print(f"{len(below)} image points at <= {args.max_bpp} bpp lie below the lowest rate JPEG 4:2:0 reaches (quality 1)")


if __name__ == "__main__":
    main()
