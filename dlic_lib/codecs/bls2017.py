"""``bls2017``: Ballé et al. (2017)'s codec as trained by the ProxIQA chapter, with a real rANS bitstream.

Weights come from a release of the ProxIQA training task (:mod:`dlic_lib.train.tasks.proxiqa`:
the codec under ``state_dict`` with its entropy tables, the proxy, if any, under ``proxy``):

* ``checkpoint=PATH`` — that release file; its λ is the codec's only rate (``quality`` may be left out);
* otherwise the checkpoint zoo's ``bls2017`` release for ``objective`` (``mse``, ``vmaf_p``,
  ``ssim_p``, ``ms_ssim_p``, ...), the rate parameter λ, and optionally ``alpha`` and ``profile``
  (``dlic train --task proxiqa --profile quick`` makes them);
* ``model=`` a :class:`~dlic_lib.models.bls2017.BLS2017` with its entropy tables (``update()``).

The image is padded to a multiple of 16 by edge replication, analysed, entropy-coded by
CompressAI's factorised prior (one rANS string) and cropped back after decoding. Decoding runs the
synthesis as exact integer sums (:mod:`dlic_lib.codecs.bls2017_exact`), so the file alone
reproduces the encoder's image bit for bit on any machine and thread count. Stored bytes (all
counted in the bpp)::

    "BL" | version (uint8) | objective (uint8) | width, height (uint16 BE) | λ, α (float64 BE)
    | weights sha256[:8] | string length (uint32 BE) | rANS string (after the 36-byte header)

The header names the weights by the first 8 bytes of the sha256 of their float32 values (entropy
tables included); decoding with other weights is an error. The file is self-describing: from the
zoo, decoding finds the release by the header's objective, λ and α.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DlicError
from .base import Codec, CodedImage, CodecUnavailableError, QualitySpec

__all__ = ["Bls2017Codec", "BLS_CODECS", "OBJECTIVES", "HEADER_BYTES", "parse_header", "load_bls_release"]

ARCHITECTURE, TASK = "bls2017", "proxiqa"
MAGIC, VERSION = b"BL", 1
#: training objectives a header can name (append only: files keep their meaning)
OBJECTIVES: tuple[str, ...] = ("mse", "vmaf_p", "ssim_p", "ms_ssim_p", "vmaf_p_frozen", "ssim_p_frozen",
                               "ms_ssim_p_frozen", "ssim_direct", "ms_ssim_direct")  # fmt: skip
_HEAD = struct.Struct(">2sBBHHdd8sI")
HEADER_BYTES = _HEAD.size
STRIDE = 16


def parse_header(data: bytes) -> dict[str, Any]:
    """The header fields of a ``bls2017`` file: ``objective``, ``width``, ``height``, ``lmbda``, ``alpha``, ``sha256_prefix``."""
    bad = DlicError("bls2017: stored data is truncated or not a bls2017 bitstream")
    if len(data) <= HEADER_BYTES:
        raise bad
    magic, version, objective, width, height, lmbda, alpha, sha, length = _HEAD.unpack_from(data)
    if (magic != MAGIC or version != VERSION or objective >= len(OBJECTIVES) or not width or not height
            or HEADER_BYTES + length != len(data)):
        raise bad
    return {"objective": OBJECTIVES[objective], "width": width, "height": height, "lmbda": float(lmbda),
            "alpha": float(alpha), "sha256_prefix": sha.hex()}  # fmt: skip


def load_bls_release(path: str | Path) -> tuple[Any, dict]:
    """The BLS network (entropy tables ready, ``eval()``) of a ProxIQA release and the run's settings."""
    from ..models.bls2017 import BLS2017
    from ..zoo import load_release

    blob = load_release(path)  # one-line errors for a missing or unreadable file, or another format
    settings = dict(blob.get("settings") or {})
    if settings.get("proxy") == "pretrain" or "state_dict" not in blob:
        raise DlicError(f"bls2017: {path} holds a ProxIQA proxy alone, not a codec")
    try:
        net = BLS2017.from_state_dict(blob["state_dict"])
    except Exception as exc:  # noqa: BLE001 - another network's weights fail in many ways
        raise DlicError(f"bls2017: {path} is not a release of a bls2017 codec ({type(exc).__name__})") from None
    if not any(k.endswith("_quantized_cdf") and v.numel() for k, v in blob["state_dict"].items()):
        net.update(force=True)
    return net.eval(), settings


class Bls2017Codec(Codec):
    """The ProxIQA chapter's BLS codecs (MSE, VMAF_p, SSIM_p, MS-SSIM_p, ...); rate parameter λ."""

    name = ARCHITECTURE
    kind = "learned"
    library = "dlic"
    quality_spec = QualitySpec("lmbda", 1e-5, 10.0, 0.0067, increasing=True,
                               meaning="λ the release was trained with (λ·distortion + bpp)")
    bitstream = "36-byte dlic header (objective, size, λ, α, weights sha256, length) + one rANS string of the latent"

    def __init__(self, checkpoint: str | None = None, objective: str = "mse", alpha: float | None = None,
                 profile: str | None = None, model: Any = None) -> None:
        if objective not in OBJECTIVES:
            raise DlicError(f"bls2017: objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
        if model is not None and checkpoint is not None:
            raise DlicError("bls2017: give either model= or checkpoint=, not both")
        opts: dict[str, Any] = {"objective": objective}
        if checkpoint is not None:
            opts["checkpoint"] = str(checkpoint)
        if alpha is not None:
            opts["alpha"] = float(alpha)
        if profile is not None:
            opts["profile"] = str(profile)
        super().__init__(**opts)
        self._user = model
        self._loaded: dict[tuple, tuple[Any, Any, str, str, float, float]] = {}

    # --- description -------------------------------------------------------------------------
    @property
    def colour(self) -> str:
        return "RGB in [0, 1] (no colour transform)"

    def version(self) -> str:
        return f"dlic-bls2017 {VERSION}"

    def available(self) -> tuple[bool, str]:
        try:
            if self._fixed_rate():
                self._weights(None)
            elif not self.search_values():
                profile = self.options.get("profile") or "quick"
                return False, (f"no {self.options['objective']} release of bls2017 is in the checkpoint zoo; train the "
                               f"chapter's networks with 'dlic train --task proxiqa --profile {profile}' or pass checkpoint=PATH")
        except DlicError as exc:
            return False, str(exc)
        return True, ""

    def params(self, quality) -> dict[str, Any]:
        return {"quality": quality, "objective": self.options["objective"], "weights": self.weights_label(quality)}

    def cache_token(self) -> str | None:
        # the weights' sha256 is in params() (their label), so one token serves every λ
        return None if self._user is not None else ""

    def weights_label(self, quality=None) -> str | None:
        return self._weights(self._key(quality))[2]

    def search_values(self) -> list[float]:
        """The λ of the weights this codec can use (the release's, or every matching zoo entry's)."""
        if self._fixed_rate():
            return [self._weights(None)[4]]
        from .. import zoo

        return sorted({float(e.lmbda) for e in zoo.entries(ARCHITECTURE, task=TASK, **self._filters()) if e.lmbda is not None})

    # --- weights -----------------------------------------------------------------------------
    def _fixed_rate(self) -> bool:
        return self._user is not None or "checkpoint" in self.options

    def _key(self, quality) -> float | None:
        return None if self._fixed_rate() or quality is None else float(quality)

    def _filters(self) -> dict[str, Any]:
        return {"objective": self.options["objective"], "profile": self.options.get("profile")}

    def _weights(self, lmbda: float | None, alpha: float | None = None) -> tuple[Any, Any, str, str, float, float]:
        """``(network, exact synthesis, label, sha256, λ, α)`` for the rate ``lmbda`` (``None``: the fixed weights)."""
        alpha = self.options.get("alpha") if alpha is None else alpha
        if (lmbda, alpha) not in self._loaded:
            from .bls2017_exact import ExactSynthesis
            from .rnn import weights_fingerprint

            if self._user is not None:
                net, label, settings = self._user.eval(), "user-model", {}
            elif "checkpoint" in self.options:
                path = self.options["checkpoint"]
                net, settings = load_bls_release(path)
                label = f"checkpoint:{Path(path).name}"
            else:
                net, settings, label = self._from_zoo(lmbda, alpha)
            lam = float(settings.get("lmbda", lmbda if lmbda is not None else float("nan")))
            alpha_used = float(settings.get("alpha", alpha if alpha is not None else 0.5))
            try:
                exact = ExactSynthesis(net.g_s)
            except (AttributeError, ValueError) as exc:
                raise DlicError(f"bls2017: the network is not a BLS codec ({exc})") from None
            sha = weights_fingerprint(net)
            if not label.startswith("dlic-checkpoint"):  # name the exact weights
                label = f"{label}:{sha[:12]}"
            self._loaded[lmbda, alpha] = (net, exact, label, sha, lam, alpha_used)
        return self._loaded[lmbda, alpha]

    def _from_zoo(self, lmbda: float | None, alpha: float | None) -> tuple[Any, dict, str]:
        from .. import zoo

        key = {"lmbda": lmbda, **({"alpha": alpha} if alpha is not None else {})}
        entry = zoo.find(ARCHITECTURE, task=TASK, rate_key=key, **self._filters())
        if entry is None:
            profile = self.options.get("profile") or "quick"
            raise CodecUnavailableError(
                f"bls2017: no {self.options['objective']} release with λ = {lmbda:g} is in the checkpoint zoo; train "
                f"the chapter's networks with 'dlic train --task proxiqa --profile {profile}' or pass checkpoint=PATH")
        net, settings = load_bls_release(zoo.verify(entry))
        return net, {**entry.config, **entry.rate_key}, f"dlic-checkpoint:{entry.sha256[:12]}"

    # --- coding ------------------------------------------------------------------------------
    def encode(self, image: np.ndarray, quality=None, *, use_cache: bool = True) -> CodedImage:
        """Encode at λ ``quality``; with ``checkpoint=`` or ``model=`` it may be left out (it must match)."""
        if self._fixed_rate():
            lam = self._weights(None)[4]
            if quality is None or not np.isfinite(lam):
                quality = lam if np.isfinite(lam) else self.quality_spec.default
            elif not np.isclose(float(quality), lam, rtol=1e-6, atol=0):
                raise DlicError(f"bls2017: the checkpoint was trained with λ = {lam:g}, not {float(quality):g}")
        return super().encode(image, quality, use_cache=use_cache)

    def _encode(self, image: np.ndarray, quality) -> bytes:
        import torch
        import torch.nn.functional as F

        net, _, _, sha, lam, alpha = self._weights(self._key(quality))
        h, w = image.shape[:2]
        if w > 65535 or h > 65535:
            raise DlicError(f"bls2017: image size {w}×{h} is outside 1..65535")
        x = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1)[None].float().div_(255.0)
        x = F.pad(x, (0, -(-w // STRIDE) * STRIDE - w, 0, -(-h // STRIDE) * STRIDE - h), mode="replicate")
        with torch.inference_mode():
            string = net.compress(x)["strings"][0][0]
        objective = OBJECTIVES.index(self.options["objective"])
        lam = float(quality) if not np.isfinite(lam) else lam
        return _HEAD.pack(MAGIC, VERSION, objective, w, h, lam, alpha, bytes.fromhex(sha[:16]), len(string)) + string

    def decode(self, data: bytes, quality=None) -> np.ndarray:
        """The image of a ``bls2017`` file (self-describing; ``quality``, if given, must be its λ)."""
        import torch

        head = parse_header(bytes(data))
        if quality is not None and not np.isclose(float(quality), head["lmbda"], rtol=1e-6, atol=0):
            raise DlicError(f"bls2017: the file was coded at λ = {head['lmbda']:g}, not {float(quality):g}")
        if head["objective"] != self.options["objective"] and not self._fixed_rate():
            raise DlicError(f"bls2017: the file was made by the {head['objective']} network; decode it with "
                            f"objective={head['objective']}")
        net, exact, _, sha, _, _ = self._weights(self._key(head["lmbda"]), None if self._fixed_rate() else head["alpha"])
        if head["sha256_prefix"] != sha[:16]:
            raise DlicError(f"bls2017: the file was coded with weights {head['sha256_prefix']}…, this codec has {sha[:16]}…")
        h, w = head["height"], head["width"]
        shape = (-(-h // STRIDE), -(-w // STRIDE))
        try:
            with torch.inference_mode():
                y_hat = net.entropy_bottleneck.decompress([bytes(data[HEADER_BYTES:])], shape)
        except Exception as exc:  # noqa: BLE001 - a corrupt string fails inside the rANS decoder
            raise DlicError(f"bls2017: cannot decode the stored data ({type(exc).__name__})") from None
        pixels = exact(y_hat)[0, :, :h, :w].permute(1, 2, 0).numpy()
        return np.ascontiguousarray(pixels)


#: the registry's view of this module: name → class
BLS_CODECS: dict[str, type[Codec]] = {Bls2017Codec.name: Bls2017Codec}
