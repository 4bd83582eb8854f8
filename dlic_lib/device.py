"""The ``device`` setting used everywhere: ``auto`` (CUDA when present), ``cpu`` or ``cuda[:N]``."""

from __future__ import annotations

import os

from .errors import DlicError

__all__ = ["resolve_device", "device_info", "native_bf16"]


def resolve_device(device: str | None = None) -> str:
    """Return a concrete torch device string for ``device`` (default: ``DLIC_DEVICE`` or ``auto``).

    ``auto`` picks ``cuda`` when a CUDA device is usable, else ``cpu``. Asking for ``cuda`` on a
    machine without one is an error, not a silent fallback.
    """
    import torch

    choice = (device or os.environ.get("DLIC_DEVICE") or "auto").strip().lower()
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cpu":
        return "cpu"
    if choice == "cuda" or choice.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DlicError(f"device {choice!r} was requested but no CUDA device is available; use 'auto' or 'cpu'")
        return choice
    source = f"{device!r}" if device else f"{choice!r} (from DLIC_DEVICE)"
    raise DlicError(f"unknown device {source}; expected 'auto', 'cpu' or 'cuda[:N]'")


def device_info(device: str | None = None) -> dict[str, str]:
    """A small record of the resolved device (for provenance cells and result tables)."""
    import torch

    dev = resolve_device(device)
    info = {"device": dev, "torch": torch.__version__}
    if dev.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(dev))
    return info


def native_bf16(device: str) -> bool:
    """Whether ``device`` computes bfloat16 natively (a CUDA GPU that supports it; a CPU with AVX512-BF16 or AMX)."""
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_bf16_supported())
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(bool(probe()) for probe in probes if probe is not None)
