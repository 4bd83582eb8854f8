"""Lossless context-adaptive coding of binary code maps (the ±1 codes of the recursive codec).

The codes form an array ``(K, C, H, W)`` of bits: ``K`` iterations, ``C`` code channels, and an
``H × W`` map (for the recursive codec, each 32×32 patch owns a 2×2 cell, so the map is the image's
patch grid at twice its resolution). Planes are coded iteration by iteration, channel by channel,
each in two checkerboard phases, with contexts built only from bits the decoder already has:

* phase 0 (``(y + x)`` even): the bit at the same place in the previous iteration (none / 0 / 1)
  and in the previous channel of this iteration (none / 0 / 1), and the number of ones among the
  four neighbours in the previous iteration's plane (with how many exist);
* phase 1 (``(y + x)`` odd): the same two bits and the number of ones among the four neighbours of
  this plane, all from phase 0 (with how many exist).

Contexts are computed for a whole phase at once with numpy; the adaptive arithmetic coder of
:mod:`.binary_coder` runs over each phase in raster order. Context statistics are shared by all
channels (the count tables stay small, so the model learns fast on small images).
"""

from __future__ import annotations

import numpy as np

from ..errors import DlicError
from .binary_coder import AdaptiveBinaryModel, BinaryArithmeticDecoder, BinaryArithmeticEncoder

__all__ = ["encode_bitplanes", "decode_bitplanes", "ideal_bitplane_bits", "N_CONTEXTS"]

# index of (available neighbours, ones among them); rows 0..4 available
_NEIGHBOUR_INDEX = np.full((5, 5), -1, dtype=np.int64)
_n = 0
for _avail in range(5):
    for _ones in range(_avail + 1):
        _NEIGHBOUR_INDEX[_avail, _ones] = _n
        _n += 1
_N_NEIGHBOUR = _n  # 15
_N_LOCAL = 9  # previous iteration (3) × previous channel (3)
#: contexts per phase: local × neighbourhood; phase 1 contexts follow phase 0's
N_PHASE = _N_LOCAL * _N_NEIGHBOUR
N_CONTEXTS = 2 * N_PHASE


def _tri(plane: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """0 where there is no plane, else 1 + bit."""
    return np.zeros(shape, np.int64) if plane is None else 1 + plane.astype(np.int64)


def _neighbours(plane: np.ndarray | None, known: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Index of (how many of the 4 neighbours are known, how many of those are 1) for every position."""
    if plane is None:
        return np.zeros(shape, np.int64)
    p = np.pad(plane.astype(np.int64) * known, 1)
    k = np.pad(known.astype(np.int64), 1)
    ones = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]
    avail = k[:-2, 1:-1] + k[2:, 1:-1] + k[1:-1, :-2] + k[1:-1, 2:]
    return _NEIGHBOUR_INDEX[avail, ones]


def _phase_masks(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.indices(shape)
    even = (yy + xx) % 2 == 0
    return even, ~even


def _contexts(planes: np.ndarray, k: int, c: int, phase: int, even: np.ndarray) -> np.ndarray:
    """Contexts of the positions of ``phase`` in plane ``(k, c)`` (raster order), from decoded bits only."""
    shape = planes.shape[2:]
    prev_iter = planes[k - 1, c] if k > 0 else None
    prev_chan = planes[k, c - 1] if c > 0 else None
    local = 3 * _tri(prev_iter, shape) + _tri(prev_chan, shape)
    if phase == 0:
        nb = _neighbours(prev_iter, np.ones(shape, bool), shape)
        mask = even
    else:
        nb = _neighbours(planes[k, c], even, shape)
        mask = ~even
    ctx = phase * N_PHASE + local * _N_NEIGHBOUR + nb
    return ctx[mask]


def _check(codes: np.ndarray) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 4 or 0 in codes.shape[1:]:
        raise DlicError(f"bit planes must be a (K, C, H, W) array with C, H, W > 0, got shape {codes.shape}")
    if codes.size and not np.isin(codes, (0, 1)).all():
        raise DlicError("bit planes must hold only 0 and 1")
    return codes.astype(np.uint8)


def _order(codes: np.ndarray):
    """Yield ``(k, c, phase, mask)`` in coding order."""
    even, odd = _phase_masks(codes.shape[2:])
    for k in range(codes.shape[0]):
        for c in range(codes.shape[1]):
            yield k, c, 0, even
            yield k, c, 1, odd


def encode_bitplanes(codes: np.ndarray) -> bytes:
    """Code a ``(K, C, H, W)`` array of 0/1 losslessly; the shape is not stored (the caller knows it)."""
    codes = _check(codes)
    even = _phase_masks(codes.shape[2:])[0]
    enc, model = BinaryArithmeticEncoder(), AdaptiveBinaryModel(N_CONTEXTS)
    for k, c, phase, mask in _order(codes):
        enc.encode_run(codes[k, c][mask], _contexts(codes, k, c, phase, even), model)
    return enc.finish()


def decode_bitplanes(data: bytes, shape: tuple[int, int, int, int]) -> np.ndarray:
    """Inverse of :func:`encode_bitplanes` for an array of ``shape``.

    The stream carries no length and no checksum (trailing zero bytes are implicit): the container
    must store the payload length to detect truncation.
    """
    planes = np.zeros(shape, np.uint8)
    _check(planes)
    even = _phase_masks(planes.shape[2:])[0]
    dec, model = BinaryArithmeticDecoder(data), AdaptiveBinaryModel(N_CONTEXTS)
    for k, c, phase, mask in _order(planes):
        planes[k, c][mask] = dec.decode_run(_contexts(planes, k, c, phase, even), model)
    return planes


def ideal_bitplane_bits(codes: np.ndarray) -> float:
    """Information content (bits) of ``codes`` under the adaptive context model: the size an ideal coder reaches."""
    codes = _check(codes)
    even = _phase_masks(codes.shape[2:])[0]
    model, total = AdaptiveBinaryModel(N_CONTEXTS), 0.0
    for k, c, phase, mask in _order(codes):
        total += model.ideal_bits(codes[k, c][mask].tolist(), _contexts(codes, k, c, phase, even).tolist())
    return total
