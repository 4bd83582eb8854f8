"""Codec zoo benchmark: rate targeting on Kodak, and coding speed against ``compressai.utils.bench``.

Part 1 — Kodak × conventional codecs × the seed-000 targets (0.06, 0.125, 0.25, 0.5 bpp):
wall time, encodes per target, relative bpp error, share within 2 %, unreachable cases.
Part 2 — which (codec, target) pairs lie below the codec's lowest rate on these images, and why.
Part 3 — the same quality grid through dlic's JPEG / WebP / JPEG 2000 and through
``python -m compressai.utils.bench`` (same images, same run), printing the time ratio; its
JPEG 2000 runner calls ``ffmpeg``, which is the FFmpeg of imageio-ffmpeg put first on PATH.

    python benchmarks/codecs.py [--images 24] [--codecs jpeg,webp,...] [--out results.csv] [--no-cache]

Nothing here is a test: it measures and prints. Results are cached like any dlic run, so use
``--no-cache`` (or a fresh ``DLIC_CACHE_DIR``) for timings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from dlic_lib.codecs import RATE_FLOORS, SEED000_TARGETS, TARGETING_OPTIONS, encode_to_bpp, get_codec
from dlic_lib.config import mirror_dirs
from dlic_lib.data import read_image

DEFAULT_CODECS = "jpeg,webp,jpeg2000,hevc,av1,jpegxl,vvc"


def kodak_files(n: int) -> list[Path]:
    for base in [*mirror_dirs(), Path(__file__).resolve().parents[2] / "shared" / "datasets"]:
        files = sorted((base / "kodak").glob("kodim*.png"))
        if files:
            return files[:n]
    sys.exit("Kodak not found: set DLIC_DATA_MIRROR to the folder holding kodak/")


def rate_grid(files: list[Path], codecs: list[str], use_cache: bool) -> pd.DataFrame:
    rows = []
    jobs = [(c, f) for c in codecs for f in files]
    for name, path in tqdm(jobs, desc="rate targeting", unit="image"):
        codec = get_codec(name, **TARGETING_OPTIONS.get(name, {}))
        img = read_image(path)
        for target in SEED000_TARGETS:
            t0 = time.perf_counter()
            res = encode_to_bpp(img, codec, target, use_cache=use_cache)
            rec = res.record()
            rec.update(image=path.stem, wall_s=time.perf_counter() - t0)
            rows.append(rec)
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["codec", "target_bpp"])
    return pd.DataFrame({
        "images": g.size(),
        "within_2pct": g["within_tolerance"].mean(),
        "unreachable": (~g["reachable"].apply(lambda s: s.astype(bool))).groupby(level=[0, 1]).sum(),
        "mean_abs_err_pct": g["rel_error"].apply(lambda s: 100 * s.abs().mean()),
        "max_abs_err_pct": g["rel_error"].apply(lambda s: 100 * s.abs().max()),
        "encodes_mean": g["encodes"].mean(),
        "encodes_max": g["encodes"].max(),
        "fresh_encodes_mean": (g["encodes"].sum() - g["cache_hits"].sum()) / g.size(),
        "wall_s_mean": g["wall_s"].mean(),
    }).round(3)


# --- part 2: against compressai.utils.bench -----------------------------------------------------
#: quality grids of compressai.utils.bench (JPEG/WebP: quality; JPEG 2000: OpenJPEG compression
#: ratio) and the dlic parameter for each (JPEG 2000: requested bpp = 24 / ratio)
BENCH_QUALITIES = {
    "jpeg": ([10, 30, 50, 75, 90], lambda q: q),
    "webp": ([10, 30, 50, 75, 90], lambda q: q),
    "jpeg2000": ([20, 40, 80], lambda q: 24.0 / q),
}


def compressai_bench(codec: str, folder: Path, qualities: list[int], env: dict[str, str]) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "compressai.utils.bench", codec, str(folder), "-q", ",".join(map(str, qualities)),
           "--metrics", "psnr-rgb"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        return float("nan"), (lines[-1] if lines else "failed")
    m = re.search(r"\{.*\}", proc.stdout, re.S)
    return wall, json.loads(m.group(0))["name"] if m else "ok"


def dlic_grid(codec: str, files: list[Path], params: list[float]) -> float:
    """Read, encode, decode and compute PSNR-RGB, as compressai.utils.bench does (one process)."""
    import numpy as np

    c = get_codec(codec)
    t0 = time.perf_counter()
    for f in files:
        img = read_image(f)
        for q in params:
            dec = c.encode(img, q, use_cache=False).decoded
            mse = np.mean((img.astype(np.float64) - dec) ** 2)
            _ = 10 * np.log10(255.0**2 / mse)
    return time.perf_counter() - t0


def bench_env(tmp: Path) -> dict[str, str]:
    """The environment for compressai.utils.bench: its JPEG 2000 runner calls ``ffmpeg`` from PATH,
    so the FFmpeg of imageio-ffmpeg (the one dlic uses) is put first on PATH under that name."""
    from dlic_lib.codecs.ffmpeg import ffmpeg_exe

    bindir = tmp / "bin"
    bindir.mkdir()
    (bindir / "ffmpeg").symlink_to(ffmpeg_exe())
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(bindir), env.get("PATH", "")])
    return env


def speed_vs_compressai(files: list[Path]) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        for f in files:
            (folder / f.name).symlink_to(f.resolve())
        env = bench_env(Path(tmp))
        for codec, (qs, to_dlic) in BENCH_QUALITIES.items():
            load0 = os.getloadavg()[0]
            ours = dlic_grid(codec, files, [to_dlic(q) for q in qs])
            theirs, note = compressai_bench(codec, folder, qs, env)
            rows.append({"codec": codec, "images": len(files), "qualities": len(qs), "dlic_s": round(ours, 2),
                         "compressai_bench_s": round(theirs, 2), "ratio_dlic_over_compressai": round(ours / theirs, 3),
                         "load_1min": f"{load0:.2f}-{os.getloadavg()[0]:.2f}", "note": note})
    return pd.DataFrame(rows)


def unreachable_table(files: list[Path]) -> pd.DataFrame:
    """(codec, target) pairs that the codec's lowest rate cannot reach on these images, and why."""
    rows = []
    for name, reason in RATE_FLOORS.items():
        codec = get_codec(name, **TARGETING_OPTIONS.get(name, {}))
        spec = codec.quality_spec
        lowest = spec.low if spec.increasing else spec.high
        floors = {f.stem: codec.encode(read_image(f), lowest).bpp for f in files}
        for target in SEED000_TARGETS:
            above = sorted(k for k, b in floors.items() if b > target * 1.02)
            if above:
                rows.append({"codec": name, "target_bpp": target, "images": len(above),
                             "lowest_bpp_min": round(min(floors.values()), 4),
                             "which": ",".join(above) if len(above) < len(files) else "all"})
    return pd.DataFrame(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--codecs", default=DEFAULT_CODECS)
    ap.add_argument("--out", type=Path, help="write the per-image table (CSV or Parquet)")
    ap.add_argument("--no-cache", action="store_true", help="encode everything again (for timings)")
    ap.add_argument("--skip-compressai", action="store_true")
    args = ap.parse_args()
    files = kodak_files(args.images)
    codecs = [c.strip() for c in args.codecs.split(",") if c.strip()]
    df = rate_grid(files, codecs, use_cache=not args.no_cache)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(args.out) if args.out.suffix == ".parquet" else df.to_csv(args.out, index=False)
    with pd.option_context("display.width", 200, "display.max_rows", 200, "display.max_colwidth", 120):
        print(f"\nRate targeting on Kodak (tolerance 2 %), load average {os.getloadavg()}:")
        print("options:", {c: TARGETING_OPTIONS.get(c, {}) for c in codecs})
        print(summarise(df).to_string())
        misses = df[~df["within_tolerance"]][["codec", "image", "target_bpp", "quality", "bpp", "rel_error", "reachable"]]
        if len(misses):
            print(f"\n{len(misses)} of {len(df)} (image, codec, target) cases not within 2 %:")
            print(misses.round(4).to_string(index=False))
        print("\nTargets below a codec's lowest rate on these images (targeting options):")
        print(unreachable_table(files).to_string(index=False))
        for name, reason in RATE_FLOORS.items():
            print(f"  {name}: {reason}")
        if not args.skip_compressai:
            print("\nSame quality grid: dlic vs python -m compressai.utils.bench (wall seconds, same run):")
            print(speed_vs_compressai(files).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
