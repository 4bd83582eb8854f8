"""From a zoo entry to usable weights: checksum, release file, network; pretrained downloads; the
one-line error that names the command creating a missing entry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import checkpoint_dir, offline
from ..errors import ChecksumError, DlicError
from .registry import ZooEntry, find

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["RELEASE_FORMAT", "TRAIN_COMMANDS", "MissingWeightsError", "missing_message", "resolve", "verify",
           "load_release", "load_model", "model_from_release", "pretrained_model", "resolve_model"]

RELEASE_FORMAT = "dlic-checkpoint/1"

#: task → the command that trains a missing entry (``str.format`` fields: ``architecture``,
#: ``objective`` and the rate key's items)
TRAIN_COMMANDS: dict[str, str] = {
    "rd": "dlic train --model {architecture} --metric {objective} --lambdas {lmbda:g} --profile quick",
    "recurrent": "dlic train --task recurrent --profile quick",
    "intra": "dlic train --task intra --profile quick",
    "jpeg-cnn": "dlic train --task jpeg-cnn --profile quick",
    "predictive": "dlic train --task predictive --profile quick",
    "proxiqa": "dlic train --task proxiqa --profile quick",
}


class MissingWeightsError(DlicError):
    """No trained weights are registered (or downloadable) for what was asked."""


def _rate_text(rate_key: dict) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in rate_key.items())


def missing_message(architecture: str, *, task: str = "rd", objective: str, rate_key: dict | None = None) -> str:
    """One sentence saying that the weights are missing and which command makes them."""
    rate_key = dict(rate_key or {})
    if task == "rd" and "lmbda" not in rate_key and "quality" in rate_key:
        from ..models.compressai_models import lambda_for_quality

        rate_key["lmbda"] = lambda_for_quality(int(rate_key["quality"]), objective)
    what = f"{architecture} ({objective}" + (f", {_rate_text(rate_key)}" if rate_key else "") + ")"
    text = f"no trained checkpoint for {what} is registered in {checkpoint_dir()}"
    template = TRAIN_COMMANDS.get(task)
    try:
        command = template.format(architecture=architecture, objective=objective, **rate_key) if template else None
    except (KeyError, ValueError, IndexError):
        command = None
    return f"{text}; train it with: {command}" if command else f"{text}; train it with its task {task!r} (dlic_lib.train.tasks)"


def resolve(architecture: str, *, task: str = "rd", objective: str, rate_key: dict | None = None, profile: str | None = None) -> ZooEntry:
    """The registered entry that best matches; :class:`MissingWeightsError` naming the training command if none."""
    entry = find(architecture, task=task, objective=objective, rate_key=rate_key, profile=profile)
    if entry is None:
        raise MissingWeightsError(missing_message(architecture, task=task, objective=objective, rate_key=rate_key))
    return entry


def verify(entry: ZooEntry) -> Path:
    """The entry's file, after checking that it exists and that its sha256 is the registered one."""
    from ..data import sha256_file

    path = Path(entry.path)
    if not path.is_file():
        raise DlicError(f"checkpoint file not found: {path}; re-run its training command to recreate it")
    digest = sha256_file(path)
    if digest != entry.sha256:
        raise ChecksumError(f"checkpoint {path} has sha256 {digest[:12]}…, but its registry entry expects "
                            f"{entry.sha256[:12]}…; retrain or re-download it")
    return path


def load_release(path: str | Path, format: str | None = RELEASE_FORMAT) -> dict:
    """Read a release file (a ``torch.save`` dict; its ``format`` field checked unless ``format=None``)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise DlicError(f"checkpoint file not found: {path}; re-run its training command to recreate it")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - unpickling fails in many ways (struct.error, EOFError, ...)
        raise DlicError(f"checkpoint file {path} cannot be read ({type(exc).__name__}); re-run its training command") from None
    if not isinstance(blob, dict) or (format is not None and blob.get("format") != format):
        raise DlicError(f"{path} is not a dlic release checkpoint (expected format {format})")
    return blob


def load_model(entry: ZooEntry, device: str = "cpu") -> "torch.nn.Module":
    """The network of ``entry`` in ``eval()`` mode on ``device``, from its verified ``state_dict`` release."""
    return model_from_release(verify(entry), entry.architecture, entry.build, device)


def model_from_release(path: str | Path, architecture: str, build: dict, device: str = "cpu") -> "torch.nn.Module":
    """The network ``architecture`` built with ``build`` (``N``, ``M``, ...) and the weights of release ``path``.

    Weights stored in float16 are widened to float32. Networks with entropy coders (CompressAI's
    ``update()``) get their tables (recomputed only where the file has none).
    """
    import torch

    from ..models import build_model

    blob = load_release(path)
    net = build_model(architecture, **build)
    state = {k: (v.float() if torch.is_floating_point(v) else v) for k, v in blob["state_dict"].items()}
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError) as exc:
        sizes = ", ".join(f"{k}={v}" for k, v in build.items())
        raise DlicError(f"checkpoint {path} does not match model {architecture} with {sizes}: {str(exc).splitlines()[0]}") from None
    if hasattr(net, "update"):
        has_tables = any(k.endswith("_quantized_cdf") and v.numel() > 0 for k, v in state.items())
        net.update(force=not has_tables)
    return net.eval().to(device)


def pretrained_model(architecture: str, objective: str, quality: int) -> Any | None:
    """CompressAI's pretrained network (downloaded once into torch's cache), or ``None`` when offline or unavailable."""
    from ..models.compressai_models import COMPRESSAI_ARCHITECTURES

    if offline() or architecture not in COMPRESSAI_ARCHITECTURES:
        return None
    try:
        from compressai.zoo import image_models

        model = image_models[architecture](quality=int(quality), metric=objective, pretrained=True, progress=False)
    except Exception:  # noqa: BLE001 - no network, no such pretrained quality, ...
        return None
    model.update(force=True)
    return model.eval()


def resolve_model(architecture: str, *, objective: str, rate_key: dict, task: str = "rd", device: str = "cpu",
                  profile: str | None = None, pretrained: bool = True) -> tuple[Any, str, ZooEntry | None]:
    """``(network, label, entry)``: CompressAI's pretrained weights when online (and ``pretrained``), else
    the best registered entry.

    ``label`` is ``"compressai-pretrained"`` or ``"dlic-checkpoint:<sha256[:12]>"``; a missing entry is a
    :class:`MissingWeightsError` naming the ``dlic train`` command that creates it.
    """
    if pretrained and task == "rd" and "quality" in rate_key:
        model = pretrained_model(architecture, objective, int(rate_key["quality"]))
        if model is not None:
            return model.to(device), "compressai-pretrained", None
    entry = resolve(architecture, task=task, objective=objective, rate_key=rate_key, profile=profile)
    return load_model(entry, device=device), f"dlic-checkpoint:{entry.sha256[:12]}", entry
