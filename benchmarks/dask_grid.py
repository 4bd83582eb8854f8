"""Codec grid on Dask: wall time with the local executor against a two-worker ``LocalCluster``.

In the same run, the same grid (the first ``--images`` Kodak images fitted to ``--max-side`` pixels,
JPEG 4:2:0 and WebP at ``--targets`` bpp, PSNR-Y and SSIM) is coded ``--repeats`` times with

* the local executor: ``run_grid(jobs=2)``, two spawned worker processes of one thread each
  (today's default on two cores; the processes start anew in every call), and
* a ``LocalCluster`` of two worker processes of one thread each (started once, as a cluster is,
  and warmed up with one import of the library),

each time from an empty codec cache. Prints the median wall times and their ratio (Dask / local),
once as a call of ``run_grid`` takes them and once without the local executor's start (spawning
two processes that import the library, measured alone in each repeat): on two cores expect about
1 there. Then the overhead per task: the worker time a Dask task costs beyond its work, measured
with empty tasks, in % of the mean time of a grid cell (target: below 5 %). The two tables must be
identical except for timing columns.

    python benchmarks/dask_grid.py [--images 6] [--max-side 256] [--targets 0.25,0.5,1] [--repeats 2]

Nothing here is a test: it measures and prints.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

TIMING = ["encode_s", "decode_s", "wall_s"]


def _noop() -> None:
    return None


def _import_library() -> None:
    import dlic_lib.codecs
    import dlic_lib.evaluate
    import dlic_lib.metrics  # noqa: F401


def local_start_s() -> float:
    """Seconds to start the local executor's two worker processes and import what a grid cell needs."""
    from dlic_lib.executors import LocalExecutor

    t0 = time.perf_counter()
    with LocalExecutor(2, threads=1) as pool:
        for future in [pool.submit(_import_library) for _ in range(2)]:
            future.result()
    return time.perf_counter() - t0


def grid_once(images, settings, executor, cache: Path) -> tuple[float, object]:
    from dlic_lib.evaluate import run_grid

    os.environ["DLIC_CACHE_DIR"] = str(cache)
    t0 = time.perf_counter()
    result = run_grid(images, settings, ["psnr_y", "ssim"], progress=False, jobs=2, executor=executor)
    return time.perf_counter() - t0, result.table


def task_overhead_s(client, n: int = 200) -> float:
    """Worker seconds per empty task: submit ``n`` at once, wait for all, times the number of workers."""
    workers = len(client.scheduler_info()["workers"])
    client.gather([client.submit(_noop, pure=False) for _ in range(20)])  # warm the path
    t0 = time.perf_counter()
    client.gather([client.submit(_noop, pure=False) for _ in range(n)])
    return (time.perf_counter() - t0) * workers / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--max-side", type=int, default=256)
    parser.add_argument("--targets", default="0.25,0.5,1")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import pandas as pd
    from distributed import Client, LocalCluster

    from dlic_lib.data import prepare_images, resolve_dataset
    from dlic_lib.evaluate import conventional_setting

    work = Path(tempfile.mkdtemp(prefix="dlic-dask-grid-"))
    os.environ["DLIC_DATA_DIR"] = str(work / "data")
    targets = [float(t) for t in args.targets.split(",")]
    paths = resolve_dataset("kodak", progress=False).images()[: args.images]
    images = {"Kodak": {p.stem: p for p in prepare_images(paths, max_side=args.max_side, out_dir=work / "images")}}
    settings = [conventional_setting("jpeg", targets, "420"), conventional_setting("webp", targets)]
    cells = len(settings) * len(paths)
    print(f"grid: {len(paths)} Kodak images ≤ {args.max_side} px × JPEG 4:2:0, WebP × {len(targets)} targets "
          f"= {cells} tasks; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(lambda: __import__("dlic_lib.evaluate") and __import__("dlic_lib.metrics"))
        times: dict[str, list[float]] = {"local": [], "dask": [], "start": []}
        tables = {}
        for repeat in range(args.repeats):
            for name, executor in (("local", "local"), ("dask", client)):
                wall, tables[name] = grid_once(images, settings, executor, work / f"cache-{name}-{repeat}")
                times[name].append(wall)
                print(f"  {name:5s} run {repeat + 1}: {wall:6.1f} s")
            times["start"].append(local_start_s())
            print(f"  local executor start alone: {times['start'][-1]:.1f} s")
        overhead = task_overhead_s(client)
    pd.testing.assert_frame_equal(tables["local"].drop(columns=TIMING), tables["dask"].drop(columns=TIMING))
    local, dask, start = (statistics.median(times[k]) for k in ("local", "dask", "start"))
    cell_s = float(tables["dask"]["wall_s"].sum()) / cells  # wall_s: a cell's time shared out over its rows
    print(f"identical rows (timing columns aside): yes; load average {os.getloadavg()[0]:.1f}")
    print(f"wall time  local {local:.1f} s, dask {dask:.1f} s, ratio dask/local {dask / local:.2f}")
    print(f"           local without its {start:.1f} s start {local - start:.1f} s, ratio dask/local "
          f"{dask / (local - start):.2f}")
    print(f"per task   mean cell {cell_s * 1e3:.0f} ms, Dask overhead {overhead * 1e3:.1f} ms "
          f"= {100 * overhead / cell_s:.2f} % (target < 5 %)")


if __name__ == "__main__":
    main()
