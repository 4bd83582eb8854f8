"""Speed and entropy-coding gain of the ``rnn`` codec, next to CompressAI's bmshj2018-factorized.

For each of the first ``--images`` Kodak images, in the same run and process:

* ``rnn`` at ``--iterations`` k (all 384 patches in one batch per iteration; fixed-point decoder),
  raw-bit mode and entropy mode: encode and decode seconds, bytes of both modes;
* CompressAI ``FactorizedPrior`` with about as many weights as the ``rnn`` network
  (``N=128, M=192``, CompressAI's quality 1–5 size): ``compress`` and ``decompress`` seconds
  (random weights after ``update()``: speed does not depend on training).

Prints per-image rows, the medians, the time ratios rnn / CompressAI and the entropy-coding gain
``1 − entropy bytes / raw bytes`` in %. Weights: the zoo's ``quick`` release, ``--checkpoint``, or
random initial weights (then the gain says little: say so).

    python benchmarks/rnn.py [--images 4] [--iterations 4] [--checkpoint PATH] [--threads 2]

Nothing here is a test: it measures and prints.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=4)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from dlic_lib.codecs.rnn import RnnCodec
    from dlic_lib.data import read_image
    from dlic_lib.errors import DlicError
    from dlic_lib.models import build_model, param_count

    opts = {"checkpoint": args.checkpoint} if args.checkpoint else {"profile": args.profile}
    raw, ent = RnnCodec(mode="raw", **opts), RnnCodec(mode="entropy", **opts)
    try:
        raw._weights()
        weights = raw.weights_label()
    except DlicError:
        torch.manual_seed(0)
        net = build_model("toderici2017-rnn", width=0.25)
        raw, ent = RnnCodec(mode="raw", model=net), RnnCodec(mode="entropy", model=net)
        weights = "random initial weights (entropy gain not meaningful)"
    rnn_params = param_count(raw._weights()[0])
    torch.manual_seed(0)
    ref = build_model("bmshj2018-factorized", N=128, M=192).eval()
    ref.update(force=True)

    from dlic_lib.data import resolve_dataset

    paths = resolve_dataset("kodak", progress=False).images()[: args.images]
    print(f"rnn: {rnn_params:,} weights ({weights}), k = {args.iterations}; "
          f"bmshj2018-factorized N=128 M=192: {param_count(ref):,} weights; torch threads {torch.get_num_threads()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    rows = []
    for path in paths:
        image = read_image(path)
        t0 = time.perf_counter()
        data_raw = raw._encode(image, args.iterations)
        t1 = time.perf_counter()
        raw.decode(data_raw)
        t2 = time.perf_counter()
        data_ent = ent._encode(image, args.iterations)
        t3 = time.perf_counter()
        ent.decode(data_ent)
        t4 = time.perf_counter()
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            t5 = time.perf_counter()
            out = ref.compress(x)
            t6 = time.perf_counter()
            ref.decompress(out["strings"], out["shape"])
            t7 = time.perf_counter()
        row = {"image": os.path.basename(path), "rnn_enc_s": t1 - t0, "rnn_dec_s": t2 - t1,
               "rnn_ent_enc_s": t3 - t2, "rnn_ent_dec_s": t4 - t3, "ref_enc_s": t6 - t5, "ref_dec_s": t7 - t6,
               "raw_bytes": len(data_raw), "entropy_bytes": len(data_ent),
               "gain_pct": 100 * (1 - len(data_ent) / len(data_raw))}
        rows.append(row)
        print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k != "image"}
    print(f"median encode: rnn raw {med['rnn_enc_s']:.2f} s, rnn entropy {med['rnn_ent_enc_s']:.2f} s, "
          f"CompressAI {med['ref_enc_s']:.2f} s → ratio rnn/CompressAI {med['rnn_enc_s'] / med['ref_enc_s']:.1f} "
          f"(entropy mode {med['rnn_ent_enc_s'] / med['ref_enc_s']:.1f})")
    print(f"median decode: rnn raw {med['rnn_dec_s']:.2f} s, rnn entropy {med['rnn_ent_dec_s']:.2f} s, "
          f"CompressAI {med['ref_dec_s']:.2f} s → ratio {med['rnn_dec_s'] / med['ref_dec_s']:.1f} "
          f"(entropy mode {med['rnn_ent_dec_s'] / med['ref_dec_s']:.1f})")
    total_raw, total_ent = sum(r["raw_bytes"] for r in rows), sum(r["entropy_bytes"] for r in rows)
    print(f"entropy-coding gain: {100 * (1 - total_ent / total_raw):.1f} % of the raw bits "
          f"({total_raw} → {total_ent} bytes over {len(rows)} images)")


if __name__ == "__main__":
    main()
