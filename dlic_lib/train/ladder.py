"""λ ladders: one model per λ (CompressAI's zoo λ per quality by default), trained or fine-tuned in turn."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..errors import DlicError
from ..models.compressai_models import METRICS, ZOO_LAMBDAS, check_metric, lambda_for_quality, quality_for_lambda

__all__ = ["ZOO_LAMBDAS", "METRICS", "train_ladder", "finetune_ladder", "lambda_for_quality", "quality_for_lambda", "parse_lambdas", "parse_qualities"]


def parse_lambdas(text: str | Iterable[float]) -> list[float]:
    """``"0.0018,0.0067"`` (or a sequence of numbers) → a list of positive floats, order kept."""
    items = text.split(",") if isinstance(text, str) else list(text)
    values: list[float] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise DlicError(f"cannot read λ value {item!r}; give numbers separated by commas, e.g. 0.0018,0.0067") from None
        if not math.isfinite(value) or value <= 0:
            raise DlicError(f"λ must be a positive number, got {item!r}")
        values.append(value)
    if not values:
        raise DlicError("no λ value given; give numbers separated by commas, e.g. 0.0018,0.0067")
    return values


def parse_qualities(text: str | Iterable[int]) -> list[int]:
    """``"1,3,5"`` (or a sequence) → a list of quality indices 1..8."""
    items = text.split(",") if isinstance(text, str) else list(text)
    values: list[int] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        try:
            value = int(item)
        except (TypeError, ValueError):
            raise DlicError(f"cannot read quality {item!r}; give integers 1..8 separated by commas") from None
        if not 1 <= value <= 8:
            raise DlicError(f"quality must be an integer from 1 to 8, got {item!r}")
        values.append(value)
    if not values:
        raise DlicError("no quality given; give integers 1..8 separated by commas, e.g. 1,3,5")
    return values


def train_ladder(
    model: str,
    lambdas: Iterable[float] | None = None,
    *,
    metric: str = "mse",
    qualities: Iterable[int] | None = None,
    profile: str = "quick",
    overrides: dict | None = None,
    jobs: int = 1,
    warm_start: bool = False,
    warm_steps: int | None = None,
    **train_kwargs,
) -> list:
    """Train one model per λ (default: the zoo λ of ``qualities``, or all 8 rungs), each resumable.

    Finished runs are not retrained (their registry entry is refreshed). ``overrides`` replace profile
    sizes (steps, N, M, crop, batch, lr, ...); ``jobs`` rungs train side by side on a CPU
    (:func:`~dlic_lib.train.parallel.train_all`), or every rung at once on a Dask cluster with
    ``executor=`` (:mod:`dlic_lib.executors`); ``train_kwargs`` go to :func:`dlic_lib.train.train`.
    With ``warm_start`` the lowest λ trains from scratch and every other rung starts from the
    released weights of the rung below it (one after another), for ``warm_steps`` steps (default:
    the profile's or ``overrides``' steps). Returns the
    :class:`~dlic_lib.train.engine.TrainResult` of every rung in the order given (with
    ``warm_start``, only of the rungs reached when a run stopped early).
    """
    from .engine import TrainConfig
    from .parallel import train_all

    if lambdas is None:
        qs = list(qualities) if qualities is not None else list(range(1, 9))
        lambdas = [lambda_for_quality(q, metric) for q in qs]
    lambdas = parse_lambdas(list(lambdas))
    overrides = dict(overrides or {})
    configs = [TrainConfig.from_profile(profile, model=model, metric=metric, lmbda=lmbda, **overrides) for lmbda in lambdas]
    if not warm_start:
        if warm_steps is not None:
            raise DlicError("warm_steps applies to warm-started rungs; pass warm_start=True as well")
        return train_all(configs, jobs=jobs, **train_kwargs)
    if jobs != 1:
        raise DlicError("warm_start trains each rung from the one below it, one after another; use jobs=1")
    if overrides.get("init_from") is not None:
        raise DlicError("warm_start chooses each rung's starting weights itself; leave init_from unset")
    if warm_steps is not None and (isinstance(warm_steps, bool) or not isinstance(warm_steps, int) or warm_steps < 1):
        raise DlicError(f"warm_steps must be a positive integer, got {warm_steps!r}")
    for config in configs:
        config.resolved()  # report bad settings before any training starts
    done: dict[float, object] = {}
    start = None
    for lmbda in sorted(set(lambdas)):
        rung = {**overrides, "init_from": start}
        if start is not None and warm_steps is not None:
            rung["steps"] = warm_steps
        config = TrainConfig.from_profile(profile, model=model, metric=metric, lmbda=lmbda, **rung)
        result = train_all([config], **train_kwargs)[0]
        done[lmbda] = result
        if not result.finished:
            break  # stopped early (signal or step limit): the rungs above need this one's release
        start = str(result.run_dir / "release.pt")
    return [done[lmbda] for lmbda in lambdas if lmbda in done]


def finetune_ladder(
    model: str,
    qualities: Iterable[int],
    *,
    metric: str = "ms-ssim",
    from_metric: str = "mse",
    profile: str = "quick",
    jobs: int = 1,
    overrides: dict | None = None,
    **train_kwargs,
) -> list:
    """Train ``metric`` models per quality, starting from the ``from_metric`` release of that rung.

    Uses :data:`~dlic_lib.train.presets.FINETUNE_PRESETS` for ``profile`` (``full`` has none: there
    every objective is trained from scratch with :func:`train_ladder`), updated by ``overrides``
    (e.g. ``{"steps": 250}``). The ``from_metric`` rungs
    must exist (e.g. from :func:`train_ladder` with the same profile). Each run records the sha256
    of its starting weights in its configuration. ``jobs`` as in :func:`train_ladder`.
    """
    from .. import zoo
    from .engine import TrainConfig
    from .parallel import train_all
    from .presets import FINETUNE_PRESETS, preset

    preset(profile)  # validates the name
    tuned = FINETUNE_PRESETS.get(profile)
    if tuned is None:
        raise DlicError(f"profile {profile!r} trains every objective from scratch; use train_ladder(metric={metric!r})")
    tuned = {**tuned, **(overrides or {})}
    check_metric(metric)
    check_metric(from_metric)
    configs = []
    for q in parse_qualities(list(qualities)):
        start = zoo.find(model, task="rd", objective=from_metric, rate_key={"quality": q}, profile=profile)
        if start is None:
            raise DlicError("fine-tuning needs its starting model: "
                            + zoo.missing_message(model, objective=from_metric, rate_key={"quality": q}))
        configs.append(TrainConfig.from_profile(profile, model=model, metric=metric, lmbda=lambda_for_quality(q, metric),
                                                init_from=str(start.path), N=start.N, M=start.M, **tuned))
    return train_all(configs, jobs=jobs, **train_kwargs)
