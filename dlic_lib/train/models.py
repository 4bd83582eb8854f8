"""The CompressAI architectures the engine trains, built with chosen channel sizes ``N``/``M``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DlicError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["MODEL_NAMES", "build_model", "model_class_name", "zoo_channels", "entropy_parameter_names"]

#: model name → CompressAI class name (``compressai.models``)
_CLASSES = {
    "bmshj2018-factorized": "FactorizedPrior",
    "bmshj2018-hyperprior": "ScaleHyperprior",
    "mbt2018-mean": "MeanScaleHyperprior",
    "mbt2018": "JointAutoregressiveHierarchicalPriors",
    "cheng2020-anchor": "Cheng2020Anchor",
}
MODEL_NAMES: tuple[str, ...] = tuple(_CLASSES)


def model_stride(model: str) -> int:
    """Down-sampling factor of the deepest latent: crops must be multiples of it (16 or 64)."""
    return 16 if check_model_name(model) == "bmshj2018-factorized" else 64


def check_model_name(model: str) -> str:
    if model not in _CLASSES:
        raise DlicError(f"unknown model {model!r}; expected one of {', '.join(MODEL_NAMES)}")
    return model


def zoo_channels(model: str, quality: int) -> tuple[int, int]:
    """``(N, M)`` of the CompressAI zoo model at ``quality`` (``M == N`` for cheng2020-anchor)."""
    from compressai.zoo.image import cfgs

    check_model_name(model)
    table = cfgs[model]
    q = min(max(int(quality), min(table)), max(table))
    sizes = table[q]
    return (sizes[0], sizes[0]) if len(sizes) == 1 else (sizes[0], sizes[1])


def model_class_name(model: str) -> str:
    """The CompressAI class name of ``model`` (e.g. ``"FactorizedPrior"``)."""
    return _CLASSES[check_model_name(model)]


def build_model(model: str, N: int, M: int) -> "torch.nn.Module":
    """A freshly initialised CompressAI ``model`` with ``N`` (transform) and ``M`` (latent) channels."""
    import compressai.models as cm

    check_model_name(model)
    for name, value in (("N", N), ("M", M)):
        if not isinstance(value, int) or value < 1:
            raise DlicError(f"{name} must be a positive integer, got {value!r}")
    cls = getattr(cm, _CLASSES[model])
    if model == "cheng2020-anchor":
        if M != N:
            raise DlicError(f"cheng2020-anchor has a single channel size; give M equal to N (got N={N}, M={M})")
        return cls(N)
    return cls(N, M)


def entropy_parameter_names(net: "torch.nn.Module") -> set[str]:
    """Names of the parameters and buffers belonging to entropy models (kept in fp32 in releases)."""
    from compressai.entropy_models import EntropyModel

    names: set[str] = set()
    for prefix, module in net.named_modules():
        if isinstance(module, EntropyModel):
            for key in module.state_dict():
                names.add(f"{prefix}.{key}" if prefix else key)
    return names
