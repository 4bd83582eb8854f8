"""Training of every network of the book: one :class:`Trainer`, one :class:`Task` per family.

:mod:`dlic_lib.train.task` holds the engine (resumption, signals, precision, log, release);
:mod:`dlic_lib.train.tasks` one task per family of networks (``rd``: CompressAI models).

>>> from dlic_lib.train import TrainConfig, train
>>> result = train(TrainConfig.from_profile("smoke", model="bmshj2018-factorized", lmbda=0.0067))

Names are imported lazily (torch loads on first use), so ``dlic --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "engine", "TrainResult": "engine", "rd_point": "engine", "run_dir_for": "engine", "train": "engine",
    "ZOO_LAMBDAS": "ladder", "lambda_for_quality": "ladder", "parse_lambdas": "ladder", "parse_qualities": "ladder",
    "quality_for_lambda": "ladder", "train_ladder": "ladder", "finetune_ladder": "ladder",
    "RateDistortionLoss": "loss", "bits_per_pixel": "loss",
    "Task": "task", "Trainer": "task", "Release": "task", "RateDistortionTask": "tasks.rd",
    "TRAIN_PRESETS": "presets", "FINETUNE_PRESETS": "presets", "train_all": "parallel",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
