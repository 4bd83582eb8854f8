"""Chapter 2's own checkpoints: which codecs use them, and their training in the book run.

The outer progress line of the training counts the steps every ladder will run one after another
(its rungs side by side count once), so its ETA follows the work rather than the number of ladders,
which differ severalfold in cost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..evaluate import CodecSetting
from ..profiles import Profile

__all__ = ["book_weights", "planned_steps", "train_learned"]


def book_weights(P: Profile) -> bool:
    """True when the learned codecs use the book's own checkpoints, trained here when missing: always below
    ``full``; at ``full`` only offline (otherwise CompressAI's pretrained zoo, as the thesis)."""
    from ..config import offline

    return P.train_preset != "full" or offline()


def _jobs(P: Profile) -> int:
    import os

    from ..device import resolve_device

    cpu = not resolve_device(None).startswith("cuda")
    return max(1, min(len(P.extra["qualities"]), (os.cpu_count() or 1) // 2)) if cpu else 1


def _warm(s: CodecSetting, P: Profile) -> bool:
    return bool(P.extra.get("warm_start")) and len(s.qualities) > 1


def planned_steps(s: CodecSetting, P: Profile, jobs: int) -> int:
    """Training steps the ladder of ``s`` runs one after another (rungs trained side by side count once)."""
    from ..train.presets import FINETUNE_PRESETS, preset
    from ..train.tasks.recurrent import PRESETS

    S = P.extra
    if s.codec == "rnn":
        return PRESETS[P.train_preset].steps
    n = len(s.qualities)
    if s.options["metric"] == "mse" or P.train_preset == "full":
        steps = S.get("steps") or preset(P.train_preset)["steps"]
        if _warm(s, P):
            return steps + (S.get("warm_steps") or steps) * (n - 1)
        return steps * math.ceil(n / jobs)
    return (S.get("finetune_steps") or FINETUNE_PRESETS[P.train_preset]["steps"]) * math.ceil(n / jobs)


def train_learned(learned: Sequence[CodecSetting], P: Profile, *, jobs: int | None = None) -> None:
    """Train the book's checkpoints the learned codecs need and do not have (resumable, skipped when done).

    MSE models (-E) train from scratch (the chapter's ``steps``, else the preset's), rung above rung from
    the rung below with ``warm_start`` (``warm_steps``); at ``smoke``/``quick`` the MS-SSIM models (-M) are
    fine-tuned from the -E model of the same rung (``finetune_steps``), at ``full`` trained from scratch.
    Cold rungs train side by side on a CPU with cores to spare. Every run reports its steps through
    :mod:`dlic_lib.progress` (live in the terminal of ``dlic book``, never in the notebook).
    """
    from ..progress import task
    from ..train import finetune_ladder, train_ladder

    S = P.extra
    jobs = _jobs(P) if jobs is None else jobs
    # RNN-C always uses the book's weights; the CompressAI models only when book_weights(P)
    learned = [s for s in learned if s.codec == "rnn" or book_weights(P)]
    order = sorted(learned, key=lambda s: s.label.endswith("-M"))  # -E first: -M starts from it
    weights = [planned_steps(s, P, jobs) for s in order]
    with task("training", total=sum(weights), unit="step") as bar:
        for s, weight in zip(order, weights):
            if s.codec == "rnn":  # the recursive codec of the zoo, shared with chapters 5 and 7
                from ..train.tasks.recurrent import train_recurrent

                bar.set_detail(f"{s.label} (rnn, L1)")
                train_recurrent(P.train_preset, progress=True)
                bar.update(weight)
                continue
            metric = s.options["metric"]
            bar.set_detail(f"{s.label} ({s.codec}, {metric}) q{','.join(map(str, s.qualities))}")
            if metric == "mse" or P.train_preset == "full":
                train_ladder(s.codec, metric=metric, qualities=s.qualities, profile=P.train_preset, progress=True,
                             overrides={"steps": S["steps"]} if S.get("steps") else None,
                             **({"warm_start": True, "warm_steps": S.get("warm_steps")} if _warm(s, P) else {"jobs": jobs}))
            else:
                finetune_ladder(s.codec, s.qualities, metric=metric, profile=P.train_preset, progress=True, jobs=jobs,
                                overrides={"steps": S["finetune_steps"]} if S.get("finetune_steps") else None)
            bar.update(weight)
