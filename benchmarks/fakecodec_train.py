"""Training speed of the FakeCodec framework (Table 3.2 step 5) against CNN-YL's joint step S3, in one run.

    python benchmarks/fakecodec_train.py [--profile quick] [--steps 20] [--device cpu]

Trains tiny chains (S1 → S2 → S3, a FakeCodec, then the framework step) at the profile's network
width, crop and batch, times ``--steps`` steps of each kind after 3 warm-up steps, and prints steps/s
and the ratio framework / S3 (the framework adds a frozen FakeCodec to every forward and backward
pass). Also prints the S4 step (real libjpeg in the loop) and the FakeCodec's own step. Timings on
a shared machine are noisy: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    os.environ.setdefault("DLIC_CHECKPOINT_DIR", tempfile.mkdtemp(prefix="dlic-bench-"))
    from dlic_lib.studies.cnn_jpeg import _files, chapter_settings
    from dlic_lib.train.task import Trainer
    from dlic_lib.train.tasks.jpeg_cnn import FakeCodecTask, PipelineTask

    cfg = chapter_settings(args.profile)
    files = {**_files(cfg), "val_crop": 32}
    n = args.steps + 3
    common = dict(width=cfg["width"], patch=cfg["hr_patch"], batch=cfg["batch"], lr=cfg["lr"], **files)
    timings: dict[str, float] = {}

    def timed(label, task):
        trainer = Trainer(task, progress=False, device=args.device, register=False)
        marks = []
        step = task.train_step

        def wrapped(batch, tr):
            out = step(batch, tr)
            marks.append(time.perf_counter())
            return out

        task.train_step = wrapped
        result = trainer.fit()
        timings[label] = args.steps / (marks[-1] - marks[2])
        return result

    s1 = timed("S1 (SR alone)", PipelineTask(stage="s1", steps=n, **common))
    rel = lambda r: r.run_dir / "release.pt"  # noqa: E731
    s2 = timed("S2 (CR, SR frozen)", PipelineTask(stage="s2", steps=n, init={"sr": rel(s1)}, **common))
    s3 = timed("S3 (joint, guidance)", PipelineTask(stage="s3", steps=n, init={"cr": rel(s2), "sr": rel(s2)}, **common))
    timed("S3 with rate proxy", PipelineTask(stage="s3", pipeline="cnn-rd", quality=25, lmbda=1e-7, steps=n,
                                             init={"cr": rel(s2), "sr": rel(s2)}, **common))
    s4 = timed("S4 (libjpeg in the loop)", PipelineTask(stage="s4", quality=25, steps=n, init={"cr": rel(s3), "sr": rel(s3)}, **common))
    fake = timed("FakeCodec block-DCT", FakeCodecTask(variant="block-dct", quality=25, width=cfg["width"], patch=cfg["fake_patch"],
                                                       batch=cfg["fake_batch"], steps=n, lr=cfg["lr"], **files))
    timed("framework step 5", PipelineTask(stage="fc", pipeline="cnn-fc-block-dct", quality=25, steps=n,
                                           init={"cr": rel(s3), "sr": rel(s4), "fake": rel(fake)}, **common))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; torch threads {torch.get_num_threads()}; "
          f"profile {args.profile} (width ×{cfg['width']}, crop {cfg['hr_patch']}, batch {cfg['batch']})")
    for label, rate in timings.items():
        print(f"  {label:28s} {rate:7.2f} steps/s")
    print(f"  ratio framework / S3: {timings['framework step 5'] / timings['S3 (joint, guidance)']:.2f}")


if __name__ == "__main__":
    main()
