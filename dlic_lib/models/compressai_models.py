"""The CompressAI architectures of the book: names, channel and stride tables, zoo λ ladders.

Each architecture is registered with :func:`~dlic_lib.models.registry.register_model` and built
with ``N`` (transform) and ``M`` (latent) channels, or with the sizes of a CompressAI zoo
``quality``::

    build_model("bmshj2018-hyperprior", N=64, M=96)
    build_model("mbt2018-mean", quality=5)          # N=192, M=320 as CompressAI's zoo

λ values are CompressAI's (loss ``λ·255²·MSE + bpp`` or ``λ·(1 − MS-SSIM) + bpp``). ``compressai``
is imported when a network is built, not when this module is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..errors import DlicError
from .registry import register_model

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "COMPRESSAI_ARCHITECTURES", "ZOO_LAMBDAS", "METRICS", "ZOO_CHANNELS", "check_architecture", "model_stride",
    "zoo_channels", "class_name", "check_metric", "lambda_for_quality", "quality_for_lambda", "entropy_parameter_names",
]

#: architecture → (CompressAI class name, down-sampling factor of the deepest latent)
COMPRESSAI_ARCHITECTURES: dict[str, tuple[str, int]] = {
    "bmshj2018-factorized": ("FactorizedPrior", 16),
    "bmshj2018-hyperprior": ("ScaleHyperprior", 64),
    "mbt2018-mean": ("MeanScaleHyperprior", 64),
    "mbt2018": ("JointAutoregressiveHierarchicalPriors", 64),
    "cheng2020-anchor": ("Cheng2020Anchor", 64),
}

METRICS = ("mse", "ms-ssim")

#: λ of the CompressAI zoo models for qualities 1..8
ZOO_LAMBDAS: dict[str, tuple[float, ...]] = {
    "mse": (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800),
    "ms-ssim": (2.40, 4.58, 8.73, 16.64, 31.73, 60.50, 115.37, 220.00),
}

_SMALL, _LARGE, _WIDE = (128, 192), (192, 320), (192, 192)
#: ``(N, M)`` of the CompressAI zoo model per quality (cheng2020-anchor has one size, ``M == N``)
ZOO_CHANNELS: dict[str, dict[int, tuple[int, int]]] = {
    "bmshj2018-factorized": {q: _SMALL if q <= 5 else _LARGE for q in range(1, 9)},
    "bmshj2018-hyperprior": {q: _SMALL if q <= 5 else _LARGE for q in range(1, 9)},
    "mbt2018-mean": {q: _SMALL if q <= 4 else _LARGE for q in range(1, 9)},
    "mbt2018": {q: _WIDE if q <= 4 else _LARGE for q in range(1, 9)},
    "cheng2020-anchor": {q: (128, 128) if q <= 3 else (192, 192) for q in range(1, 7)},
}


def check_architecture(name: str) -> str:
    """``name`` if it is a CompressAI architecture of the book, else a clear error."""
    if name not in COMPRESSAI_ARCHITECTURES:
        raise DlicError(f"unknown model {name!r}; expected one of {', '.join(COMPRESSAI_ARCHITECTURES)}")
    return name


def class_name(name: str) -> str:
    """The CompressAI class of ``name`` (e.g. ``"FactorizedPrior"``)."""
    return COMPRESSAI_ARCHITECTURES[check_architecture(name)][0]


def model_stride(name: str) -> int:
    """Down-sampling factor of the deepest latent: image sides are padded (crops chosen) to multiples of it."""
    return COMPRESSAI_ARCHITECTURES[check_architecture(name)][1]


def zoo_channels(name: str, quality: int) -> tuple[int, int]:
    """``(N, M)`` of the CompressAI zoo model at ``quality`` (clamped to the qualities it has)."""
    table = ZOO_CHANNELS[check_architecture(name)]
    return table[min(max(int(quality), min(table)), max(table))]


def check_metric(metric: str) -> str:
    """``metric`` if CompressAI's zoo has a λ ladder for it, else a clear error."""
    if metric not in ZOO_LAMBDAS:
        raise DlicError(f"unknown training metric {metric!r}; expected one of {', '.join(METRICS)}")
    return metric


def lambda_for_quality(quality: int, metric: str = "mse") -> float:
    """The zoo λ of ``quality`` (1..8) for ``metric``."""
    ladder = ZOO_LAMBDAS[check_metric(metric)]
    if not isinstance(quality, int) or isinstance(quality, bool) or not 1 <= quality <= len(ladder):
        raise DlicError(f"quality must be an integer from 1 to {len(ladder)}, got {quality!r}")
    return ladder[quality - 1]


def quality_for_lambda(lmbda: float, metric: str = "mse") -> int:
    """The quality (1..8) whose zoo λ is nearest to ``lmbda`` on a log scale (zoo values map exactly)."""
    ladder = ZOO_LAMBDAS[check_metric(metric)]
    if isinstance(lmbda, bool) or not isinstance(lmbda, (int, float)) or not math.isfinite(lmbda) or lmbda <= 0:
        raise DlicError(f"λ must be a positive number, got {lmbda!r}")
    distances = [abs(math.log(lmbda) - math.log(v)) for v in ladder]
    return distances.index(min(distances)) + 1


def _build(name: str, N: int | None, M: int | None, quality: int | None) -> "torch.nn.Module":
    import compressai.models as cm

    check_architecture(name)
    if N is None or M is None:
        zn, zm = zoo_channels(name, 4 if quality is None else quality)
        N = zn if N is None else N
        M = (N if name == "cheng2020-anchor" else zm) if M is None else M
    for label, value in (("N", N), ("M", M)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DlicError(f"{label} must be a positive integer, got {value!r}")
    cls = getattr(cm, class_name(name))
    if name == "cheng2020-anchor":
        if M != N:
            raise DlicError(f"cheng2020-anchor has a single channel size; give M equal to N (got N={N}, M={M})")
        return cls(N)
    return cls(N, M)


def _register(name: str) -> None:
    def builder(N: int | None = None, M: int | None = None, quality: int | None = None) -> "torch.nn.Module":
        return _build(name, N, M, quality)

    builder.__name__ = builder.__qualname__ = name.replace("-", "_")
    builder.__doc__ = f"CompressAI {class_name(name)} with N/M channels (default: the zoo's sizes at ``quality``)."
    register_model(name)(builder)


for _name in COMPRESSAI_ARCHITECTURES:
    _register(_name)


def entropy_parameter_names(net: "torch.nn.Module") -> set[str]:
    """Names of the parameters and buffers of entropy models (kept in float32 in releases)."""
    from compressai.entropy_models import EntropyModel

    names: set[str] = set()
    for prefix, module in net.named_modules():
        if isinstance(module, EntropyModel):
            for key in module.state_dict():
                names.add(f"{prefix}.{key}" if prefix else key)
    return names
