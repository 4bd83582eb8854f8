"""Throughput of dlic's metrics vs sewar, piq and libvmaf on Kodak pairs, in one run on this machine.

    python benchmarks/metrics.py [--pairs 24] [--sewar-pairs 2] [--threads N] [--device cpu] [--no-extra]

Each Kodak image is coded with Pillow JPEG (quality 10..80, 4:2:0). For SSIM, MS-SSIM and VIF-P
it prints pairs/s of dlic (batched), piq, sewar (the tool of seed 000; it is slow, so it runs on
``--sewar-pairs`` pairs only) and libvmaf (one FFmpeg call for the whole batch, all its features
together), the speed ratios — by wall-clock time and by CPU time (all threads; steadier when other
processes load the machine) — and the largest absolute difference between the values. Targets:
≥ 30× sewar and ≥ 1.5× piq at |Δ| ≤ 1e-4. GPU throughput is measured only with ``--device cuda``.

Then the other metrics: ``uqi_sewar`` vs sewar's ``uqi``, ``niqe`` vs BasicSR's NIQE (its
float32 resize and MATLAB ``rgb2ycbcr`` luma, so |Δ| there is ~1e-3, not an error), and the
throughput of ``uqi``, ``wsnr``, ``nqm``, ``ifc``, ``vif_wavelet`` and ``vsnr``, which have no
installable counterpart. Each row carries the 1-minute load average when it finished: other
processes on the machine make the ratios noisy.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dlic_lib import color
from dlic_lib.metrics import libvmaf, ms_ssim, ms_ssim_sewar, ssim, ssim_sewar, vif


def _kodak(n: int) -> tuple[np.ndarray, np.ndarray]:
    from dlic_lib.data import read_image

    root = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "kodak"
    import os

    for raw in os.environ.get("DLIC_DATA_MIRROR", "").split(os.pathsep):
        if raw and (Path(raw) / "kodak").is_dir():
            root = Path(raw) / "kodak"
    refs, dists = [], []
    for i in range(n):
        rgb = read_image(root / f"kodim{i % 24 + 1:02d}.png")
        if rgb.shape[0] > rgb.shape[1]:  # portrait images: rotate so the batch has one shape
            rgb = np.ascontiguousarray(np.rot90(rgb))
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=int(10 + 70 * (i % 8) / 7), subsampling=2)
        refs.append(rgb)
        dists.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    return np.stack(refs), np.stack(dists)


def _sewar_gaussian_ssim(sf, ref: np.ndarray, dist: np.ndarray) -> float:
    from sewar.utils import Filter

    return sf.ssim(ref, dist, MAX=255, fltr_specs=dict(fltr=Filter.GAUSSIAN, sigma=1.5, ws=11))[0]


def _timed(fn, repeat: int = 1):
    """``(result, best wall-clock seconds)``; the CPU seconds of that best run are kept in ``_CPU[0]``."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, _CPU[0] = wall, time.process_time() - c0
    return out, best


_CPU = [float("nan")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=24)
    ap.add_argument("--sewar-pairs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-extra", action="store_true", help="only SSIM, MS-SSIM, VIF-P and libvmaf")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import piq
    import sewar.full_ref as sf

    refs, dists = _kodak(args.pairs)
    n = len(refs)
    yr = np.stack([color.rgb_to_y(r) for r in refs])  # BT.601 full-range luma, float64
    yd = np.stack([color.rgb_to_y(d) for d in dists])
    print(f"{n} Kodak pairs {refs.shape[1]}×{refs.shape[2]}, torch threads {torch.get_num_threads()}, device {args.device}, "
          f"load average {_load()}")  # fmt: skip

    def batched(fn, **kw):
        out = []
        for i in range(0, n, args.batch):
            out.append(fn(refs[i : i + args.batch], dists[i : i + args.batch], device=args.device, **kw).cpu())
        return torch.cat(out).numpy()

    def piq_run(fn, dtype=torch.float32, **kw):
        out = []
        with torch.no_grad():
            for i in range(0, n, args.batch):
                x = torch.from_numpy(yd[i : i + args.batch, None]).to(dtype)
                y = torch.from_numpy(yr[i : i + args.batch, None]).to(dtype)
                out.append(fn(x, y, data_range=255.0, reduction="none", **kw))
        return torch.cat(out).double().numpy()

    k = args.sewar_pairs
    cases = [
        ("ssim", lambda: batched(ssim), lambda dt=torch.float32: piq_run(piq.ssim, dt, downsample=False),
         lambda: [_sewar_gaussian_ssim(sf, yr[i], yd[i]) for i in range(k)]),
        ("ms_ssim", lambda: batched(ms_ssim), lambda dt=torch.float32: piq_run(piq.multi_scale_ssim, dt), None),
        ("vif", lambda: batched(vif), lambda dt=torch.float32: piq_run(piq.vif_p, dt),
         lambda: [sf.vifp(yr[i], yd[i]) for i in range(k)]),
        ("ssim_sewar", lambda: batched(ssim_sewar), None, lambda: [sf.ssim(yr[i], yd[i], MAX=255)[0] for i in range(k)]),
        ("ms_ssim_sewar", lambda: batched(ms_ssim_sewar), None, lambda: [sf.msssim(yr[i], yd[i], MAX=255) for i in range(k)]),
    ]
    rows = []
    with torch.no_grad():
        batched(ssim)  # warm-up
        for name, ours_fn, piq_fn, sewar_fn in cases:
            ours, t_ours = _timed(ours_fn, repeat=2)
            c_ours = _CPU[0]
            row = {"metric": name, "dlic pairs/s": n / t_ours}
            if piq_fn is not None:
                _, t = _timed(piq_fn, repeat=2)  # piq's own float32 speed
                c = _CPU[0]
                ref_vals = piq_fn(torch.float64)  # values: piq in float64 (its float32 run differs by up to ~1e-4)
                row.update({"piq pairs/s": n / t, "× piq": t / t_ours, "× piq cpu": c / c_ours,
                            "max|Δ| piq": np.abs(ours - ref_vals).max()})  # fmt: skip
            if sewar_fn is not None:
                ref_vals, t = _timed(sewar_fn)
                c = _CPU[0]
                row.update({"sewar pairs/s": k / t, "× sewar": (t / k) / (t_ours / n), "× sewar cpu": (c / k) / (c_ours / n),
                            "max|Δ| sewar": np.abs(ours[:k] - np.asarray(ref_vals)).max()})  # fmt: skip
            row["load1"] = os.getloadavg()[0]
            rows.append(row)
    _, t_vmaf = _timed(lambda: libvmaf(refs, dists))
    rows.append({"metric": "libvmaf (vmaf+psnr+float_ssim+float_ms_ssim+vif, one call)", "dlic pairs/s": n / t_vmaf,
                 "load1": os.getloadavg()[0]})  # fmt: skip
    sum_ours = sum(n / r["dlic pairs/s"] for r in rows[:3])
    print(f"libvmaf: {n / t_vmaf:.2f} pairs/s for all its features; dlic ssim+ms_ssim+vif: {n / sum_ours:.2f} pairs/s")
    # ssim vs sewar: sewar's ssim with a Gaussian window (fltr_specs); ssim_sewar: sewar's default uniform window
    import pandas as pd

    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print("targets: × sewar ≥ 30 and × piq ≥ 1.5 for ssim/ms_ssim/vif with max|Δ| ≤ 1e-4; GPU not measured unless --device cuda")
    if not args.no_extra:
        extra = _extra_rows(refs, dists, yr, yd, batched, k)
        print(pd.DataFrame(extra).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"load average at the end: {_load()}")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _extra_rows(refs, dists, yr, yd, batched, k: int) -> list[dict]:
    """NIQE, the MeTriX MuX set and sewar's uqi: dlic's throughput and, where one exists, a reference's."""
    import sewar.full_ref as sf

    from dlic_lib.metrics import available_metrics

    reg = available_metrics()
    n = len(refs)
    rows = []
    with torch.no_grad():
        ours, t = _timed(lambda: batched(reg["uqi_sewar"].func))
        ref_vals, t_ref = _timed(lambda: [sf.uqi(yr[i], yd[i]) for i in range(k)])
        rows.append({"metric": "uqi_sewar", "dlic pairs/s": n / t, "ref": "sewar", "ref pairs/s": k / t_ref,
                     "× ref": (t_ref / k) / (t / n), "max|Δ| ref": np.abs(ours[:k] - np.asarray(ref_vals)).max(),
                     "load1": os.getloadavg()[0]})  # fmt: skip
        ours, t = _timed(lambda: batched(reg["niqe"].func, range="limited"))
        row = {"metric": "niqe (limited-range Y)", "dlic pairs/s": n / t, "load1": os.getloadavg()[0]}
        try:
            from basicsr.metrics.niqe import calculate_niqe
        except ImportError:  # pragma: no cover - dev dependency
            calculate_niqe = None
        if calculate_niqe is not None:
            ref_vals, t_ref = _timed(lambda: [calculate_niqe(dists[i][..., ::-1].astype(np.float32), 0) for i in range(k)])
            row.update({"ref": "basicsr", "ref pairs/s": k / t_ref, "× ref": (t_ref / k) / (t / n),
                        "max|Δ| ref": np.abs(ours[:k] - np.asarray(ref_vals)).max()})  # fmt: skip
        rows.append(row)
        for name in ("uqi", "wsnr", "nqm", "ifc", "vif_wavelet", "vsnr"):
            _, t = _timed(lambda: batched(reg[name].func))
            rows.append({"metric": name, "dlic pairs/s": n / t, "ref": "none installable", "load1": os.getloadavg()[0]})
    return rows


if __name__ == "__main__":
    main()
