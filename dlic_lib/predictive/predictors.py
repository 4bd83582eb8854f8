"""Intra predictions of 32×32 patches from a partly decoded canvas: HEVC modes, the two autoencoders, none.

Mode numbers (what the bitstream stores, 6 bits per patch): 0–34 the HEVC modes (H.265 §8.4.4.2,
planar, DC, 33 angular; :mod:`dlic_lib.intra`), 35 ``intra-ae1``, 36 ``intra-ae2``, 37 "none" (the
recursive codec codes the patch itself, as the baseline does). A candidate list may hold
:data:`HEVC_BEST`: the encoder replaces it per patch by the HEVC mode whose prediction has the
lowest RGB MSE against the original patch (the decoder reads the chosen mode from the file).

A prediction is returned as integers ``base = 2·p`` for an 8-bit prediction ``p`` (``base = 255``, the
value 127.5, for "none"), so that reconstructions are computed in exact integer arithmetic.
Autoencoder predictions are evaluated on the whole batch of patches of a decoding step, the same
batch in the encoder and in the decoder, and rounded to 8 bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..intra.blocks import block_references
from ..intra.context import block_neighbours, masked_contexts
from ..intra.hevc import filter_flag, filter_references, predict_from_references, scan_order, substitute

__all__ = ["AE1", "AE2", "NONE", "HEVC_BEST", "N_MODES", "MODE_BITS", "PATCH", "IntraPredictors", "mode_family"]

PATCH = 32
AE1, AE2, NONE = 35, 36, 37
#: a candidate the encoder resolves to the best HEVC mode of each patch
HEVC_BEST = -1
N_MODES = 38
#: bits of one stored mode number (⌈log₂ 38⌉)
MODE_BITS = 6


def mode_family(mode: int) -> str:
    """``"hevc"``, ``"ae1"``, ``"ae2"`` or ``"none"``."""
    return {AE1: "ae1", AE2: "ae2", NONE: "none"}.get(int(mode), "hevc")


@dataclass
class IntraPredictors:
    """The networks a candidate list needs (``None`` where it needs none)."""

    ae1: Any = None
    ae2: Any = None
    device: str = "cpu"

    # --- HEVC --------------------------------------------------------------------------------
    @staticmethod
    def _references(canvas: np.ndarray, index: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per plane: substituted scan-order references of the patches ``index`` and their [1 2 1]/strong filtered form."""
        out = []
        for ch in range(3):
            refs = block_references(canvas[..., ch], PATCH)
            scan = substitute(scan_order(refs.top[index], refs.left[index], refs.corner[index]), refs.available[index])
            out.append((scan, filter_references(scan, PATCH, strong=True)))
        return out

    @staticmethod
    def _hevc(refs: list[tuple[np.ndarray, np.ndarray]], mode: int) -> np.ndarray:
        """(B, 3, 32, 32) int prediction of one mode."""
        planes = []
        for scan, filtered in refs:
            use = filtered if filter_flag(mode, PATCH) else None
            planes.append(predict_from_references(scan, mode, filtering=True, strong=True, boundary=True, filtered=use))
        return np.stack(planes, axis=1).astype(np.int64)

    # --- networks ----------------------------------------------------------------------------
    def _net(self, net: Any, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            t = torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0).to(self.device)
            y = net(t).float().clamp_(0, 1).mul_(255.0).round_().to(torch.int64).cpu().numpy()
        return y

    def _ae(self, which: int, canvas: np.ndarray, index: np.ndarray) -> np.ndarray:
        neighbours = block_neighbours(canvas, PATCH)[index]  # (B, 4, 32, 32, 3)
        if which == AE1:
            if self.ae1 is None:
                raise ValueError("the candidate list uses intra-ae1 but no network was given")
            return self._net(self.ae1, masked_contexts(neighbours).transpose(0, 3, 1, 2))
        if self.ae2 is None:
            raise ValueError("the candidate list uses intra-ae2 but no network was given")
        return self._net(self.ae2, neighbours.transpose(0, 1, 4, 2, 3))

    # --- candidates --------------------------------------------------------------------------
    def candidates(self, canvas: np.ndarray, index: np.ndarray, modes: tuple[int, ...],
                   original: np.ndarray | None = None, chosen: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Predictions of the patches ``index`` (raster indices) of ``canvas`` (H, W, 3) uint8.

        Encoder (``original`` given): every candidate of ``modes``, returned as ``base`` (B, M, 3, 32, 32)
        and the mode numbers (B, M), :data:`HEVC_BEST` resolved against ``original``. Decoder
        (``chosen`` given, (B,) mode numbers): ``base`` (B, 1, 3, 32, 32) of the chosen modes.
        Autoencoders in ``modes`` are evaluated on all patches in both cases (same batch, same result).
        """
        b = len(index)
        nets = {m: self._ae(m, canvas, index) for m in (AE1, AE2) if m in modes}
        hevc_needed = any(m == HEVC_BEST or 0 <= m < 35 for m in modes)
        refs = self._references(canvas, index) if hevc_needed else None
        if original is not None:
            cols = canvas.shape[1] // PATCH
            r, c = index // cols, index % cols
            target = np.stack([original[y * PATCH:(y + 1) * PATCH, x * PATCH:(x + 1) * PATCH] for y, x in zip(r, c)])
            target = target.transpose(0, 3, 1, 2).astype(np.int64)
            preds, numbers = [], []
            for m in modes:
                if m == HEVC_BEST:
                    all_modes = np.stack([self._hevc(refs, j) for j in range(35)], 1)  # (B, 35, 3, 32, 32)
                    sse = ((all_modes - target[:, None]) ** 2).sum(axis=(2, 3, 4))
                    best = sse.argmin(axis=1)
                    preds.append(2 * all_modes[np.arange(b), best])
                    numbers.append(best)
                else:
                    preds.append(self._base(m, nets, refs, b))
                    numbers.append(np.full(b, m))
            return np.stack(preds, 1), np.stack(numbers, 1)
        if chosen is None:
            raise ValueError("give the original patches (encoder) or the chosen modes (decoder)")
        base = np.empty((b, 3, PATCH, PATCH), dtype=np.int64)
        for m in np.unique(chosen):
            sel = chosen == m
            base[sel] = self._base(int(m), nets, refs, b)[sel]
        return base[:, None], chosen[:, None]

    def _base(self, mode: int, nets: dict, refs, b: int) -> np.ndarray:
        if mode == NONE:
            return np.full((b, 3, PATCH, PATCH), 255, dtype=np.int64)
        if mode in (AE1, AE2):
            return 2 * nets[mode]
        if 0 <= mode < 35 and refs is not None:
            return 2 * self._hevc(refs, mode)
        raise ValueError(f"mode {mode} is not one of this codec's candidates")
