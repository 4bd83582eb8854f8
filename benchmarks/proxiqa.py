"""The cost of real VMAF labels in ProxIQA training, measured in one run.

1. Labels/s of libvmaf VMAF v0.6.1 on a batch of ``--batch`` patch pairs of ``--patch``² pixels:
   one FFmpeg call for the whole batch (:func:`dlic_lib.metrics.vmaf_batch.vmaf_labels`) against one
   FFmpeg call per pair (:func:`~dlic_lib.metrics.vmaf_batch.vmaf_labels_per_pair`).
2. Proxy-training steps/s: one Adam step of the ProxIQA network on ``(M̂ − M)²`` with the labels of
   that step's pairs computed by libvmaf (batched), against the same step with labels known beforehand.

Pairs are Commons patches (never Kodak) with JPEG/blur/noise distortions. Both sides of each ratio
alternate within the run and the medians are compared; the load average is printed because the
numbers depend on it.

    python benchmarks/proxiqa.py [--batch 8] [--patch 128] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def _pairs(batch: int, patch: int):
    import numpy as np
    import torch

    from dlic_lib.config import mirror_dirs
    from dlic_lib.data import read_image
    from dlic_lib.train.tasks.proxiqa import distort_batch

    root = next(p for p in mirror_dirs() if (p / "wikimedia-photos").is_dir()) / "wikimedia-photos"
    rng = np.random.default_rng(0)
    crops = []
    for i in range(batch):
        im = read_image(sorted(root.glob("*.png"))[i % 8])
        y, x = int(rng.integers(im.shape[0] - patch)), int(rng.integers(im.shape[1] - patch))
        crops.append(im[y:y + patch, x:x + patch])
    ref = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div(255)
    return ref, distort_batch(ref, rng)


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import torch

    from dlic_lib.metrics.vmaf_batch import vmaf_labels, vmaf_labels_per_pair
    from dlic_lib.models.proxiqa import ProxIQA

    torch.manual_seed(0)
    ref, dist = _pairs(args.batch, args.patch)
    load0 = os.getloadavg()
    batched, single = [], []
    for _ in range(args.repeats):  # alternate the two sides
        batched.append(_median_time(lambda: vmaf_labels(ref, dist), 1))
        single.append(_median_time(lambda: vmaf_labels_per_pair(ref, dist), 1))
    tb, ts = statistics.median(batched), statistics.median(single)
    print(f"libvmaf labels, {args.batch} pairs of {args.patch}²: batched {args.batch / tb:.1f} labels/s, "
          f"one call per pair {args.batch / ts:.1f} labels/s, ratio {ts / tb:.2f}×")  # fmt: skip

    net = ProxIQA(args.patch)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    known = vmaf_labels(ref, dist)

    def step(labels_fn):
        labels = labels_fn()
        opt.zero_grad()
        loss = torch.mean((net(ref, dist) - labels) ** 2)
        loss.backward()
        opt.step()

    with_labels, without = [], []
    for _ in range(3):  # warm-up
        step(lambda: known)
    for _ in range(args.repeats):
        with_labels.append(_median_time(lambda: step(lambda: vmaf_labels(ref, dist)), 1))
        without.append(_median_time(lambda: step(lambda: known), 1))
    tw, to = statistics.median(with_labels), statistics.median(without)
    print(f"proxy training steps/s (batch {args.batch}): with libvmaf labels {1 / tw:.2f}, "
          f"labels known beforehand {1 / to:.2f}, real labels cost {tw / to:.2f}× the time")  # fmt: skip
    print(f"load average {load0[0]:.2f} → {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
