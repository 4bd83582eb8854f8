"""λ ladders: CompressAI's zoo λ values per quality, and the mapping from a λ to its quality index."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..errors import DlicError

__all__ = ["ZOO_LAMBDAS", "METRICS", "train_ladder", "finetune_ladder", "lambda_for_quality", "quality_for_lambda", "parse_lambdas", "parse_qualities"]

METRICS = ("mse", "ms-ssim")

#: λ of the CompressAI zoo models for qualities 1..8 (loss ``λ·255²·MSE + bpp`` or ``λ·(1−MS-SSIM) + bpp``).
ZOO_LAMBDAS: dict[str, tuple[float, ...]] = {
    "mse": (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800),
    "ms-ssim": (2.40, 4.58, 8.73, 16.64, 31.73, 60.50, 115.37, 220.00),
}


def _check_metric(metric: str) -> str:
    if metric not in ZOO_LAMBDAS:
        raise DlicError(f"unknown training metric {metric!r}; expected one of {', '.join(METRICS)}")
    return metric


def lambda_for_quality(quality: int, metric: str = "mse") -> float:
    """The zoo λ of ``quality`` (1..8) for ``metric``."""
    ladder = ZOO_LAMBDAS[_check_metric(metric)]
    if not isinstance(quality, int) or not 1 <= quality <= len(ladder):
        raise DlicError(f"quality must be an integer from 1 to {len(ladder)}, got {quality!r}")
    return ladder[quality - 1]


def quality_for_lambda(lmbda: float, metric: str = "mse") -> int:
    """The quality index (1..8) whose zoo λ is nearest to ``lmbda`` on a log scale.

    Zoo values map exactly; any other positive λ maps to the closest rung, so that a checkpoint
    trained with it is found by ``(model, metric, quality)``.
    """
    ladder = ZOO_LAMBDAS[_check_metric(metric)]
    if not isinstance(lmbda, (int, float)) or not math.isfinite(lmbda) or lmbda <= 0:
        raise DlicError(f"λ must be a positive number, got {lmbda!r}")
    distances = [abs(math.log(lmbda) - math.log(v)) for v in ladder]
    return distances.index(min(distances)) + 1


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
    (:func:`~dlic_lib.train.parallel.train_all`); ``train_kwargs`` go to :func:`dlic_lib.train.train`.
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
    **train_kwargs,
) -> list:
    """Train ``metric`` models per quality, starting from the ``from_metric`` release of that rung.

    Uses :data:`~dlic_lib.train.presets.FINETUNE_PRESETS` for ``profile`` (``full`` has none: there
    every objective is trained from scratch with :func:`train_ladder`). The ``from_metric`` rungs
    must exist (e.g. from :func:`train_ladder` with the same profile). Each run records the sha256
    of its starting weights in its configuration. ``jobs`` as in :func:`train_ladder`.
    """
    from ..checkpoints import find_checkpoint, missing_checkpoint_message
    from .engine import TrainConfig
    from .parallel import train_all
    from .presets import FINETUNE_PRESETS, preset

    preset(profile)  # validates the name
    overrides = FINETUNE_PRESETS.get(profile)
    if overrides is None:
        raise DlicError(f"profile {profile!r} trains every objective from scratch; use train_ladder(metric={metric!r})")
    _check_metric(metric)
    _check_metric(from_metric)
    configs = []
    for q in parse_qualities(list(qualities)):
        start = find_checkpoint(model, from_metric, q, profile=profile)
        if start is None:
            raise DlicError("fine-tuning needs its starting model: " + missing_checkpoint_message(model, from_metric, q))
        configs.append(TrainConfig.from_profile(profile, model=model, metric=metric, lmbda=lambda_for_quality(q, metric),
                                                init_from=str(start.path), N=start.N, M=start.M, **overrides))
    return train_all(configs, jobs=jobs, **train_kwargs)
