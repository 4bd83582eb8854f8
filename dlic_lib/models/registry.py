"""Architecture registry: a name for every network of the book (as ``compressai.registry`` does).

A family module registers its builders with :func:`register_model`; :func:`build_model` makes an
instance by name. Models never import training code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DlicError

__all__ = ["MODELS", "register_model", "model_names", "get_model_builder", "build_model", "param_count"]

#: architecture name → class or builder function returning a ``torch.nn.Module``
MODELS: dict[str, Callable[..., Any]] = {}


def register_model(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Class or function decorator that registers an architecture under ``name`` (once)."""

    def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
        if name in MODELS and MODELS[name] is not builder:
            raise DlicError(f"architecture {name!r} is registered twice")
        MODELS[name] = builder
        return builder

    return decorator


def _load_families() -> None:
    """Import the package, whose ``__init__`` imports every family module (each registers itself)."""
    import importlib

    importlib.import_module(__package__)


def model_names() -> list[str]:
    """Every registered architecture name, sorted."""
    _load_families()
    return sorted(MODELS)


def get_model_builder(name: str) -> Callable[..., Any]:
    """The class or builder registered as ``name``; a clear error lists the known names."""
    _load_families()
    try:
        return MODELS[name]
    except KeyError:
        raise DlicError(f"unknown architecture {name!r}; known: {', '.join(sorted(MODELS))}") from None


def build_model(name: str, **kwargs: Any) -> Any:
    """An instance of architecture ``name`` built with ``kwargs``."""
    builder = get_model_builder(name)
    try:
        return builder(**kwargs)
    except TypeError as exc:
        raise DlicError(f"bad setting for architecture {name!r}: {exc}") from None


def param_count(model: Any, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters of ``model`` (all, or only those with ``requires_grad``)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))
