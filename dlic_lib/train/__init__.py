"""Training of learned image codecs (CompressAI models): crops, RD loss, resumable loop, λ ladders.

>>> from dlic_lib.train import TrainConfig, train
>>> result = train(TrainConfig.from_profile("smoke", model="bmshj2018-factorized", lmbda=0.0067))
"""

from .engine import TrainConfig, TrainResult, rd_point, run_dir_for, train
from .ladder import ZOO_LAMBDAS, lambda_for_quality, parse_lambdas, parse_qualities, quality_for_lambda, train_ladder
from .loss import RateDistortionLoss, bits_per_pixel
from .models import MODEL_NAMES, build_model, zoo_channels
from .presets import TRAIN_PRESETS

__all__ = [
    "MODEL_NAMES",
    "TRAIN_PRESETS",
    "ZOO_LAMBDAS",
    "RateDistortionLoss",
    "TrainConfig",
    "TrainResult",
    "bits_per_pixel",
    "build_model",
    "lambda_for_quality",
    "parse_lambdas",
    "parse_qualities",
    "quality_for_lambda",
    "rd_point",
    "run_dir_for",
    "train",
    "train_ladder",
    "zoo_channels",
]
