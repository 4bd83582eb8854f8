"""``dlic train`` (one CompressAI model per λ, resumable) and ``dlic checkpoints list`` (the whole zoo)."""

from __future__ import annotations

import argparse
import json
import sys

_DEFAULT_LADDER = {"mse": "0.0018,0.0067,0.025", "ms-ssim": "2.40,8.73,31.73"}


def register(subparsers) -> None:
    from ..train.presets import TRAIN_PRESETS

    p = subparsers.add_parser(
        "train",
        help="train learned codecs (one model per λ) and register their checkpoints",
        description="Train a CompressAI model for each λ of a ladder on random crops of the training pool, "
        "with atomic checkpoints; finished models are released and registered for the codec zoo.",
    )
    p.add_argument("--task", default="rd", choices=("rd", *_task_names()),
                   help="rd (default): CompressAI models, one per λ; the other tasks train one chapter's networks at "
                        "--profile as the chapter does: " + "; ".join(f"{k}: {v[0]}" for k, v in _tasks().items()))
    p.add_argument("--model", default="bmshj2018-factorized", help="bmshj2018-factorized | bmshj2018-hyperprior | mbt2018-mean | mbt2018 | cheng2020-anchor")
    p.add_argument("--metric", default="mse", choices=("mse", "ms-ssim"), help="distortion of the RD loss (default: mse)")
    ladder = p.add_mutually_exclusive_group()
    ladder.add_argument("--lambdas", help="comma-separated λ values (default: zoo qualities 1,3,5; all 8 for --profile full)")
    ladder.add_argument("--qualities", help="comma-separated zoo qualities 1..8 (their CompressAI λ)")
    p.add_argument("--profile", default="quick", choices=tuple(TRAIN_PRESETS), help="training sizes (default: quick)")
    p.add_argument("--data", default="wikimedia-photos", help="training dataset name or image folder (default: wikimedia-photos)")
    for name, typ, text in (
        ("--steps", int, "optimisation steps per model"), ("--N", int, "transform channels"), ("--M", int, "latent channels"),
        ("--crop", int, "crop side in pixels"), ("--batch", int, "crops per batch"), ("--lr", float, "learning rate"),
        ("--seed", int, "random seed"),
    ):
        p.add_argument(name, type=typ, default=None, help=f"{text} (default: from the profile)")
    p.add_argument("--quantizer", choices=("noise", "mixed"), default=None,
                   help="latent quantisation in training: noise (CompressAI) or mixed (noisy rate, rounded latents "
                        "into the decoder; factorized and hyperprior models) (default: noise)")
    p.add_argument("--release-dtype", choices=("fp32", "fp16"), default=None, help="precision of the released weights")
    p.add_argument("--device", default=None, help="auto | cpu | cuda[:N] (default: DLIC_DEVICE or auto)")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                   help="bf16: bfloat16 autocast of the transforms (entropy models stay float32); auto (default): bf16 "
                        "where the device computes it natively (CUDA GPUs, CPUs with AVX512-BF16 or AMX), else fp32")
    p.add_argument("--resume", action="store_true", help="continue unfinished runs from their last checkpoint")
    p.add_argument("--restart", action="store_true", help="delete unfinished or finished runs of these settings and start over")
    p.add_argument("--jobs", type=int, default=1,
                   help="rungs trained side by side on a CPU, sharing its threads (default: 1, one after another)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="train every run on the Dask scheduler at ADDRESS, e.g. "
                   "tcp://host:8786 (default: DLIC_SCHEDULER, else this machine)")
    p.add_argument("--warm-start", action="store_true",
                   help="train the lowest λ from scratch and start every other rung from the rung below it")
    p.add_argument("--warm-steps", type=int, default=None,
                   help="with --warm-start: steps of the warm-started rungs (default: --steps or the profile's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_train)

    g = subparsers.add_parser("checkpoints", help="trained networks of the checkpoint zoo",
                              description="Trained networks known to dlic's checkpoint zoo (every architecture and task).")
    gs = g.add_subparsers(dest="checkpoints_command", metavar="COMMAND")
    g.set_defaults(_group_parser=g)
    ls = gs.add_parser("list", help="list registered and released checkpoints", description="List registered and released checkpoints.")
    ls.add_argument("--model", default=None, help="only this architecture")
    ls.add_argument("--task", default=None, help="only this training task (rd, proxiqa, ...)")
    ls.add_argument("--metric", default=None, help="only this objective (mse, ms-ssim, ...)")
    ls.add_argument("--format", default="table", choices=("table", "csv", "json"))
    ls.set_defaults(func=_list)


def _tasks() -> dict:
    from .train_tasks import TASKS

    return TASKS


def _task_names() -> tuple[str, ...]:
    return tuple(_tasks())


def _train(args: argparse.Namespace) -> int:
    from ..errors import DlicError
    from ..train import lambda_for_quality, parse_lambdas, parse_qualities, train_ladder
    from ..models.compressai_models import check_architecture

    if args.scheduler:
        from ..executors import use_scheduler

        use_scheduler(args.scheduler)
    if args.task != "rd":
        from .train_tasks import train_task

        train_task(args.task, args.profile, progress=not args.no_progress)
        print(f"{args.task} networks at {args.profile}: trained and registered (dlic checkpoints list --task ...)", flush=True)
        return 0
    check_architecture(args.model)
    if args.resume and args.restart:
        raise DlicError("--resume and --restart exclude each other; choose one")
    if args.qualities is not None:
        lambdas = [lambda_for_quality(q, args.metric) for q in parse_qualities(args.qualities)]
    elif args.lambdas is not None:
        lambdas = parse_lambdas(args.lambdas)
    elif args.profile == "full":
        lambdas = [lambda_for_quality(q, args.metric) for q in range(1, 9)]
    else:
        lambdas = parse_lambdas(_DEFAULT_LADDER[args.metric])
    overrides = {"steps": args.steps, "N": args.N, "M": args.M, "crop": args.crop, "batch": args.batch, "lr": args.lr,
                 "seed": args.seed, "release_dtype": args.release_dtype, "data": args.data,
                 "quantizer": args.quantizer}
    results = train_ladder(args.model, lambdas, metric=args.metric, profile=args.profile, overrides=overrides,
                           jobs=args.jobs, warm_start=args.warm_start, warm_steps=args.warm_steps, device=args.device, amp={"auto": None, "bf16": True, "fp32": False}[args.precision], resume=args.resume,
                           restart=args.restart, progress=not args.no_progress)
    for result in results:
        config, v = result.config, result.val
        print(f"{config.model} {config.metric} λ={config.lmbda:g} q{result.entry.quality if result.entry else '?'} "
              f"steps={result.step} val bpp={v.get('bpp', float('nan')):.4f} psnr={v.get('psnr', float('nan')):.2f} dB  {result.run_dir}",
              flush=True)
    return 0


def _list(args: argparse.Namespace) -> int:
    from .. import zoo

    rows = [e.as_row() for e in zoo.entries(args.model, task=args.task, objective=args.metric)]
    if args.format == "json":
        print(json.dumps(rows, indent=1, default=str))
        return 0
    cols = ["model", "task", "metric", "quality", "lmbda", "N", "M", "profile", "steps", "val_bpp", "val_psnr", "source", "path"]
    if args.format == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return 0
    if not rows:
        print("no trained checkpoints; train some with: dlic train --model bmshj2018-factorized --profile quick")
        return 0

    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    table = [cols] + [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(cols))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
    return 0
