"""Training speed: the Trainer running the rate–distortion task against a plain CompressAI training loop.

The reference loop is written with CompressAI's documented API only: ``RateDistortionLoss``,
``net.aux_loss()``, two Adam optimisers (main parameters / ``quantiles``, as in CompressAI's
``examples/train.py``), gradient clipping at 1.0, and ``torchvision`` ``RandomCrop`` on images decoded
in memory. ``dlic`` runs :func:`dlic_lib.train.train` (crop sampler, logging, checkpoints, schedule)
twice: in the reference's precision and memory layout (float32, contiguous), and with its defaults
(channels-last, bfloat16 autocast where the device computes bfloat16 natively). Its speed is read from its own log (``elapsed_s`` between two logged steps, so setup and the final
release are not counted). Runs alternate (ref, dlic, ref, dlic, ...) and the medians are compared.

    python benchmarks/train.py [--model bmshj2018-factorized] [--N 64 --M 96 --crop 96 --batch 8] [--steps 100] [--repeats 2]

Nothing here is a test: it measures and prints (target: dlic/reference ≥ 1.0).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def reference_its(model: str, N: int, M: int, crop: int, batch: int, steps: int, warmup: int, files) -> float:
    import torch
    from compressai.losses import RateDistortionLoss
    from torchvision.transforms import RandomCrop

    from dlic_lib.data import read_image
    from dlic_lib.models import build_model

    torch.manual_seed(0)
    images = [torch.from_numpy(read_image(p)).permute(2, 0, 1) for p in files]
    cropper = RandomCrop(crop)
    net = build_model(model, N=N, M=M)
    params = {n: p for n, p in net.named_parameters()}
    optimizer = torch.optim.Adam([p for n, p in params.items() if not n.endswith(".quantiles")], lr=1e-4)
    aux_optimizer = torch.optim.Adam([p for n, p in params.items() if n.endswith(".quantiles")], lr=1e-3)
    criterion = RateDistortionLoss(lmbda=0.0067)
    net.train()
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        idx = torch.randint(len(images), (batch,))
        x = torch.stack([cropper(images[int(j)]) for j in idx]).float() / 255
        optimizer.zero_grad()
        aux_optimizer.zero_grad()
        out = net(x)
        loss = criterion(out, x)
        loss["loss"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        aux = net.aux_loss()
        aux.backward()
        aux_optimizer.step()
        loss["loss"].item()  # the example prints the loss; keep the same synchronisation
    return steps / (time.perf_counter() - t0)


def dlic_its(model: str, N: int, M: int, crop: int, batch: int, steps: int, warmup: int, files, **train_kwargs) -> float:
    from dlic_lib.train import TrainConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DLIC_CHECKPOINT_DIR"] = tmp
        config = TrainConfig.from_profile(
            "quick", model=model, N=N, M=M, crop=crop, batch=batch, steps=warmup + steps, log_every=1,
            val_every=10**9, ckpt_every=10**9, ckpt_seconds=1e9, scale_range=(1.0, 1.0), data=[str(p) for p in files],
        )
        log = train(config, progress=False, register=False, **train_kwargs).log
    rows = log[log.split == "train"].set_index("step").elapsed_s
    return steps / (rows[warmup + steps] - rows[warmup])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bmshj2018-factorized")
    parser.add_argument("--N", type=int, default=64)
    parser.add_argument("--M", type=int, default=96)
    parser.add_argument("--crop", type=int, default=96)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import torch

    from dlic_lib.device import device_info
    from dlic_lib.train.sources import training_data

    files = training_data("wikimedia-photos").train[:12]
    sizes = (args.model, args.N, args.M, args.crop, args.batch, args.steps, args.warmup, files)
    from dlic_lib.device import native_bf16, resolve_device

    ref, same, ours = [], [], []
    for _ in range(args.repeats):
        ref.append(reference_its(*sizes))
        same.append(dlic_its(*sizes, amp=False, channels_last=False))
        ours.append(dlic_its(*sizes))
    r, s, o = statistics.median(ref), statistics.median(same), statistics.median(ours)
    defaults = "channels-last" + (", bfloat16 autocast" if native_bf16(resolve_device()) else ", float32")
    print(f"device: {device_info()}  threads: {torch.get_num_threads()}")
    print(f"{args.model} N={args.N} M={args.M} crop={args.crop} batch={args.batch}, {args.steps} timed steps x {args.repeats}")
    print(f"reference (CompressAI API loop): {r:.3f} it/s   runs: {', '.join(f'{v:.3f}' for v in ref)}")
    print(f"dlic train, float32 contiguous:  {s:.3f} it/s   runs: {', '.join(f'{v:.3f}' for v in same)}")
    print(f"dlic train, defaults ({defaults}): {o:.3f} it/s   runs: {', '.join(f'{v:.3f}' for v in ours)}")
    print(f"ratio dlic / reference: {s / r:.2f}x in the same precision and layout, {o / r:.2f}x with dlic's defaults  (target >= 1.0)")


if __name__ == "__main__":
    main()
