"""The file of a predictive recursive codec: header, side information (modes, counts), code bits.

Layout (all counted in the bpp)::

    "PR" | version (uint8) | flags (uint8) | width, height (uint16 BE) | k (uint8) | candidate set (uint8)
         | weights sha256[:8]                                                               18 bytes
    then one bit sequence, MSB first, zero-padded to a whole byte:
    modes   P × 6 bits            (flag 1: only when the candidate set has more than one mode)
    counts  P × ⌈log₂ k⌉ bits     (flag 2: per-patch iteration counts, stored as count − 1; else every patch has k)
    codes   Σ_p count_p × 128 bits, patch after patch in raster order, iteration after iteration

flag 4 marks raster decoding order (else wavefront; flag 8: independent patches). The side
information is the modes and the counts; :func:`accounting` splits a file's bits into header, side
information, codes and padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DlicError
from .allocation import count_bits
from .predictors import MODE_BITS, N_MODES

__all__ = ["Header", "pack", "unpack", "accounting", "HEADER_BYTES", "MAGIC"]

MAGIC = b"PR"
VERSION = 1
HEADER_BYTES = 18
_MODES, _COUNTS, _RASTER, _INDEPENDENT = 1, 2, 4, 8
_ORDERS = {0: "wavefront", _RASTER: "raster", _INDEPENDENT: "independent"}


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    k: int  #: iterations of every patch, or the largest count with per-patch counts
    candidate_set: int
    sha_prefix: str  #: 16 hex digits
    has_modes: bool
    has_counts: bool
    order: str

    @property
    def patches(self) -> tuple[int, int]:
        return -(-self.height // 32), -(-self.width // 32)


def _bits(values: np.ndarray, width: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)[:, None]
    return ((v >> np.arange(width - 1, -1, -1)) & 1).astype(np.uint8).ravel()


def _values(bits: np.ndarray, width: int) -> np.ndarray:
    return (bits.reshape(-1, width).astype(np.int64) << np.arange(width - 1, -1, -1)).sum(axis=1)


def pack(header: Header, modes: np.ndarray, counts: np.ndarray, codes: np.ndarray) -> bytes:
    """Bytes of a file: ``modes`` (P,), ``counts`` (P,), ``codes`` (P, K, bits, 2, 2) 0/1."""
    if not (0 < header.width < 65536 and 0 < header.height < 65536) or not 0 < header.k < 256:
        raise DlicError(f"predictive codec: size {header.width}×{header.height} or k = {header.k} out of range")
    flags = (_MODES * header.has_modes) | (_COUNTS * header.has_counts)
    flags |= {v: k for k, v in _ORDERS.items()}[header.order]
    head = (MAGIC + bytes([VERSION, flags]) + header.width.to_bytes(2, "big") + header.height.to_bytes(2, "big")
            + bytes([header.k, header.candidate_set]) + bytes.fromhex(header.sha_prefix))
    parts = []
    if header.has_modes:
        parts.append(_bits(modes, MODE_BITS))
    if header.has_counts:
        parts.append(_bits(np.asarray(counts) - 1, count_bits(header.k)))
    flat = codes.reshape(codes.shape[0], codes.shape[1], -1)
    parts.extend(flat[p, : int(counts[p])].ravel() for p in range(flat.shape[0]))
    return head + np.packbits(np.concatenate(parts) if parts else np.zeros(0, np.uint8)).tobytes()


def _bad() -> DlicError:
    return DlicError("predictive codec: stored data is truncated or not a predictive-codec bitstream")


def read_header(data: bytes) -> Header:
    if len(data) < HEADER_BYTES or data[:2] != MAGIC or data[2] != VERSION or data[3] & ~15 or data[3] & 12 == 12:
        raise _bad()
    flags = data[3]
    head = Header(width=int.from_bytes(data[4:6], "big"), height=int.from_bytes(data[6:8], "big"), k=data[8],
                  candidate_set=data[9], sha_prefix=data[10:18].hex(), has_modes=bool(flags & _MODES),
                  has_counts=bool(flags & _COUNTS), order=_ORDERS[flags & 12])
    if not head.width or not head.height or not head.k:
        raise _bad()
    return head


def unpack(data: bytes, bits_per_iteration: int = 128) -> tuple[Header, np.ndarray, np.ndarray, np.ndarray]:
    """Header, modes (P,), counts (P,) and codes (P, k, bits/4, 2, 2) of a file (codes past a count are 0)."""
    head = read_header(data)
    rows, cols = head.patches
    n = rows * cols
    bits = np.unpackbits(np.frombuffer(data, np.uint8, offset=HEADER_BYTES))
    pos = 0
    modes = np.full(n, -1, dtype=np.int64)
    if head.has_modes:
        if bits.size < n * MODE_BITS:
            raise _bad()
        modes = _values(bits[: n * MODE_BITS], MODE_BITS)
        pos = n * MODE_BITS
        if (modes >= N_MODES).any():
            raise _bad()
    counts = np.full(n, head.k, dtype=np.int64)
    if head.has_counts:
        w = count_bits(head.k)
        if bits.size < pos + n * w:
            raise _bad()
        counts = _values(bits[pos: pos + n * w], w) + 1
        pos += n * w
        if (counts > head.k).any():
            raise _bad()
    total = int(counts.sum()) * bits_per_iteration
    if -(-(pos + total) // 8) != bits.size // 8:
        raise _bad()
    codes = np.zeros((n, head.k, bits_per_iteration), dtype=np.uint8)
    for p in range(n):
        c = int(counts[p])
        codes[p, :c] = bits[pos: pos + c * bits_per_iteration].reshape(c, bits_per_iteration)
        pos += c * bits_per_iteration
    return head, modes, counts, codes.reshape(n, head.k, bits_per_iteration // 4, 2, 2)


def accounting(data: bytes, bits_per_iteration: int = 128) -> dict[str, int]:
    """Bits of a file by purpose: ``header``, ``modes``, ``counts`` (side information), ``codes``, ``padding``."""
    head, modes, counts, _ = unpack(data, bits_per_iteration)
    n = counts.size
    out = {"header": 8 * HEADER_BYTES, "modes": n * MODE_BITS if head.has_modes else 0,
           "counts": n * count_bits(head.k) if head.has_counts else 0,
           "codes": int(counts.sum()) * bits_per_iteration}
    out["padding"] = 8 * len(data) - sum(out.values())
    out["side"] = out["modes"] + out["counts"]
    return out
