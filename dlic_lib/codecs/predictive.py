"""Recursive codecs with intra prediction and bit allocation (seed 003 §4.2, §5.3): real, closed-loop bitstreams.

=================  ======================================  ====================================
codec              prediction per 32×32 patch              rate parameter
=================  ======================================  ====================================
``rnn-single``     ``intra-ae1`` (implicit, no side info)  iterations ``k`` (every patch)
``rnn-multi``      best of AE1, AE2, HEVC, none (6 bits)    iterations ``k`` (every patch)
``rnn-ba``         none (the baseline network)             threshold PSNR (bit allocation)
``rnn-multi-ba``   best of AE1, AE2, HEVC, none (6 bits)    threshold PSNR (bit allocation)
=================  ======================================  ====================================

Predictions come from the decoded canvas (closed loop), decoded along anti-diagonals
(:mod:`dlic_lib.predictive.schedule`); the residual is coded by a recursive ConvLSTM network whose
decoder runs in exact fixed point, and autoencoder predictions are evaluated on the same batches by
encoder and decoder, so ``decode(file)`` reproduces the encoder's canvas bit for bit (on one machine
and thread count: the autoencoders are float networks). Mode numbers (6 bits) and per-patch
iteration counts (4 bits) are side information, counted in the bytes and reported by
:meth:`PredictiveRnnCodec.accounting`. ``candidates="full"`` tries all 35 HEVC modes as separate
candidates instead of the best one.

Weights: ``residual=`` (a :class:`~dlic_lib.models.recurrent.RecurrentCodec`), ``ae1=``, ``ae2=``, or the
checkpoint zoo's releases for ``profile=`` (residual networks: task ``predictive``, objective
``residual-single`` / ``residual-multi``; the baseline: the zoo's other ``toderici2017-rnn`` release).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DlicError
from ..predictive.allocation import DELTA, THRESHOLD_PSNRS
from ..predictive.bitstream import Header, accounting, pack, read_header, unpack
from ..predictive.closed_loop import FixedIterations, ThresholdAllocation, decode_image, encode_image, patch_grid
from ..predictive.predictors import AE1, AE2, HEVC_BEST, NONE, IntraPredictors
from ..predictive.residual import ResidualCoder
from .base import Codec, CodecUnavailableError, QualitySpec

__all__ = ["PredictiveRnnCodec", "PREDICTIVE_CODECS", "CANDIDATE_SETS"]

#: candidate-set number (stored in the header) → candidate modes
CANDIDATE_SETS: dict[int, tuple[int, ...]] = {
    0: (NONE,), 1: (AE1,), 2: (AE1, AE2, HEVC_BEST, NONE), 3: (AE1, AE2, *range(35), NONE),
}
_VARIANTS = {  # name → (prediction, bit allocation)
    "rnn-single": ("single", False), "rnn-multi": ("multi", False),
    "rnn-ba": ("none", True), "rnn-multi-ba": ("multi", True),
}
_ITERATIONS = QualitySpec("iterations", 1, 15, 4, integer=True, increasing=True,
                          meaning="iterations k of every patch (0.125·k bpp of code bits)")
_THRESHOLD = QualitySpec("threshold_psnr", 19, 43, 30, increasing=True, values=tuple(float(p) for p in THRESHOLD_PSNRS),
                         meaning="quality threshold p of the bit allocation: patch MSE ≤ ⌊255²·10^(−p/10)⌋")


def _fingerprint(*nets: Any) -> str:
    from .rnn import combined_fingerprint

    return combined_fingerprint(*nets)


class PredictiveRnnCodec(Codec):
    """Closed-loop recursive codec with intra prediction; see the module docstring for the variants."""

    kind = "learned"
    library = "dlic"
    bitstream = "18-byte header (size, k, candidate set, order, weights sha256) + 6-bit modes + 4-bit counts + code bits"

    def __init__(self, variant: str, *, residual: Any = None, ae1: Any = None, ae2: Any = None, profile: str = "quick",
                 candidates: str = "quick", order: str = "wavefront", k_max: int = 10, rule: str = "A",
                 device: str | None = None) -> None:
        if variant not in _VARIANTS:
            raise DlicError(f"unknown predictive codec {variant!r}; known: {', '.join(_VARIANTS)}")
        if candidates not in ("quick", "full"):
            raise DlicError(f"{variant}: candidates must be 'quick' or 'full', got {candidates!r}")
        if order not in ("wavefront", "raster"):
            raise DlicError(f"{variant}: order must be 'wavefront' or 'raster', got {order!r}")
        if rule not in ("A", "B") or not (isinstance(k_max, int) and 1 <= k_max <= 15):
            raise DlicError(f"{variant}: rule must be 'A' or 'B' and k_max in 1..15")
        self.prediction, self.allocation = _VARIANTS[variant]
        self.name = variant
        self.quality_spec = _THRESHOLD if self.allocation else _ITERATIONS
        opts: dict[str, Any] = {"profile": profile, "order": order}
        if self.prediction == "multi":
            opts["candidates"] = candidates
        if self.allocation:
            opts.update(k_max=k_max, rule=rule, delta=DELTA)
        super().__init__(**opts)
        self.candidate_set = {"none": 0, "single": 1}.get(self.prediction, 2 if candidates == "quick" else 3)
        self._user = {"residual": residual, "ae1": ae1, "ae2": ae2}
        self._device_choice = device
        self._loaded: tuple[ResidualCoder, IntraPredictors, str] | None = None

    # --- description -------------------------------------------------------------------------
    @property
    def colour(self) -> str:
        return "RGB (no colour transform)"

    @property
    def modes(self) -> tuple[int, ...]:
        return CANDIDATE_SETS[self.candidate_set]

    def version(self) -> str:
        return "dlic-predictive 1"

    def device(self) -> str:
        from ..device import resolve_device

        return resolve_device(self._device_choice)

    def available(self) -> tuple[bool, str]:
        try:
            self._weights()
        except DlicError as exc:
            return False, str(exc)
        return True, ""

    def cache_token(self) -> str | None:
        return None if any(v is not None for v in self._user.values()) else self._weights()[2]

    def weights_label(self, quality=None) -> str | None:
        return f"sha256:{self._weights()[2][:12]}"

    # --- weights -----------------------------------------------------------------------------
    def _needs(self) -> tuple[bool, bool]:
        return AE1 in self.modes, AE2 in self.modes

    def _weights(self) -> tuple[ResidualCoder, IntraPredictors, str]:
        if self._loaded is None:
            need1, need2 = self._needs()
            user = self._user
            residual = user["residual"] if user["residual"] is not None else self._zoo_residual()
            ae1 = (user["ae1"] if user["ae1"] is not None else self._zoo("intra-ae1")) if need1 else None
            ae2 = (user["ae2"] if user["ae2"] is not None else self._zoo("intra-ae2")) if need2 else None
            device = self.device()
            for net in (ae1, ae2):
                if net is not None:
                    net.eval().to(device)
            self._loaded = (ResidualCoder(residual, device), IntraPredictors(ae1, ae2, device),
                            _fingerprint(residual, ae1, ae2))
        return self._loaded

    def _zoo(self, architecture: str, **query: Any) -> Any:
        from .. import zoo

        profile = self.options["profile"]
        entry = zoo.find(architecture, profile=profile, **query)
        if entry is None:
            raise CodecUnavailableError(
                f"{self.name}: no {profile} release of {architecture} ({query.get('objective', 'any objective')}) in "
                f"the checkpoint zoo; train it with 'dlic train --task predictive --profile {profile}' (what chapter "
                "05_predictive_codecs trains)")
        return zoo.load_model(entry)

    def _zoo_residual(self) -> Any:
        from .. import zoo

        if self.prediction == "none":
            found = [e for e in zoo.entries("toderici2017-rnn", profile=self.options["profile"]) if e.task != "predictive"]
            if found:
                return zoo.load_model(max(found, key=lambda e: int(e.config.get("steps") or 0)))
            return self._zoo("toderici2017-rnn")
        return self._zoo("toderici2017-rnn", task="predictive", objective=f"residual-{self.prediction}")

    # --- coding ------------------------------------------------------------------------------
    def _policy(self, quality) -> FixedIterations | ThresholdAllocation:
        if self.allocation:
            return ThresholdAllocation(float(quality), self.options["k_max"], self.options["rule"])
        return FixedIterations(int(quality))

    def _order(self) -> str:
        return "independent" if self.prediction == "none" else self.options["order"]

    def encode_patches(self, image: np.ndarray, quality):
        """The encoder's decisions (:class:`~dlic_lib.predictive.closed_loop.CodedPatches`) and the file's bytes."""
        coder, predictors, sha = self._weights()
        height, width = image.shape[:2]
        if width > 65535 or height > 65535:
            raise DlicError(f"{self.name}: image size {width}×{height} is outside 1..65535")
        padded, _, _ = patch_grid(image)
        policy = self._policy(quality)
        coded = encode_image(padded, coder, predictors, self.modes, policy, self._order())
        header = Header(width, height, policy.k_max, self.candidate_set, sha[:16], has_modes=len(self.modes) > 1,
                        has_counts=self.allocation, order=self._order())
        return coded, pack(header, coded.modes, coded.counts, coded.codes)

    def _encode(self, image: np.ndarray, quality) -> bytes:
        return self.encode_patches(image, quality)[1]

    def decode(self, data: bytes, order: str | None = None) -> np.ndarray:
        """The image of a file; ``order`` may force another decoding order (for timing; same dependencies)."""
        data = bytes(data)
        head = read_header(data)
        if head.candidate_set != self.candidate_set or head.has_counts != self.allocation:
            raise DlicError(f"{self.name}: the file was written by another predictive codec (candidate set "
                            f"{head.candidate_set}, bit allocation {head.has_counts})")
        coder, predictors, sha = self._weights()
        if head.sha_prefix != sha[:16]:
            raise DlicError(f"{self.name}: the file was coded with weights {head.sha_prefix}…, this codec has {sha[:16]}…")
        head, modes, counts, codes = unpack(data, 4 * coder.bits)
        if not head.has_modes:
            modes = np.full(counts.size, self.modes[0], dtype=np.int64)
        rows, cols = head.patches
        canvas = decode_image((rows * 32, cols * 32), coder, predictors, self.modes, modes, counts, codes,
                              order or head.order)
        return np.ascontiguousarray(canvas[: head.height, : head.width])

    @staticmethod
    def accounting(data: bytes) -> dict[str, int]:
        """Bits of a file by purpose (header, modes, counts, codes, padding; ``side`` = modes + counts)."""
        return accounting(bytes(data))


def _factory(variant: str):
    def build(**options: Any) -> PredictiveRnnCodec:
        return PredictiveRnnCodec(variant, **options)

    return build


#: registry name → factory
PREDICTIVE_CODECS = {name: _factory(name) for name in _VARIANTS}
