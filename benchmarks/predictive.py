"""Closed-loop decoding time of a Kodak image, wavefront (anti-diagonals) against raster order, same run.

Encodes one Kodak image (cropped with ``--rows/--cols`` patches, whole image by default) with the
multi-mode recursive codec (``rnn-multi``: AE1, AE2, best HEVC mode, none; networks at the ``quick``
widths with seeded random weights, since speed does not depend on training), then decodes the file
in both orders, checks that both give the encoder's image, and prints the seconds of each and the
ratio raster / wavefront (> 1: the wavefront is faster). Run:
``python benchmarks/predictive.py [--image kodim01] [--rows 16 --cols 24] [--iterations 2] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from dlic_lib.codecs.predictive import PredictiveRnnCodec
from dlic_lib.data import read_image
from dlic_lib.models import build_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="kodim01")
    parser.add_argument("--rows", type=int, default=16, help="patch rows to keep (16: whole landscape image)")
    parser.add_argument("--cols", type=int, default=24, help="patch columns to keep (24: whole landscape image)")
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--width", type=float, default=0.25, help="recursive network width (quick: 0.25)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    mirror = Path(os.environ.get("DLIC_DATA_MIRROR", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    image = read_image(mirror / "kodak" / f"{args.image}.png")[: 32 * args.rows, : 32 * args.cols]
    torch.manual_seed(0)
    codec = PredictiveRnnCodec("rnn-multi", residual=build_model("toderici2017-rnn", width=args.width),
                               ae1=build_model("intra-ae1", width=0.5), ae2=build_model("intra-ae2", width=0.5))
    t0 = time.perf_counter()
    coded, data = codec.encode_patches(image, args.iterations)
    encode_s = time.perf_counter() - t0
    times = {}
    for order in ("wavefront", "raster"):
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            decoded = codec.decode(data, order=order)
            best = min(best, time.perf_counter() - t0)
        if not np.array_equal(decoded, coded.reconstruction[: image.shape[0], : image.shape[1]]):
            raise SystemExit(f"dlic: error: {order} decoding differs from the encoder's image")
        times[order] = best
    print(f"{args.image} {image.shape[1]}×{image.shape[0]} ({args.rows * args.cols} patches), k = {args.iterations}, "
          f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
    print(f"encode (wavefront, 4 candidates): {encode_s:.2f} s")
    print(f"decode wavefront: {times['wavefront']:.2f} s   raster: {times['raster']:.2f} s   "
          f"ratio raster/wavefront: {times['raster'] / times['wavefront']:.2f}")


if __name__ == "__main__":
    main()
