"""A binary arithmetic (range) coder with adaptive per-context probabilities.

The coder is the carry-propagating range coder of LZMA (32-bit range, a 33-bit ``low`` with a
cached byte for carries), driven by 16-bit probabilities. Each context keeps Krichevsky–Trofimov
counts: the probability of a 0 is ``(n0 + ½)/(n0 + n1 + 1)``, quantised to ``[1, 65535]/65536``;
counts are halved when their sum reaches :data:`COUNT_LIMIT`, so the model follows slow drifts.

Stored bytes are minimal: the first byte of an LZMA range-coder stream is always zero and is not
stored; the final value is rounded to a multiple of 2^24 inside the last interval and trailing
zero bytes are dropped (the decoder reads zeros past the end). An empty sequence codes to no bytes.

Encoder and decoder process runs of bits whose contexts are known in advance (computed vectorised
by the caller); only the interval arithmetic and the count updates run per bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import DlicError

__all__ = ["AdaptiveBinaryModel", "BinaryArithmeticEncoder", "BinaryArithmeticDecoder", "COUNT_LIMIT", "PROB_BITS"]

#: probabilities are integers in [1, 2^PROB_BITS − 1] over 2^PROB_BITS
PROB_BITS = 16
#: a context's counts are halved when their sum reaches this
COUNT_LIMIT = 1024
_TOP = 1 << 24
_MASK32 = 0xFFFFFFFF
_ONE = 1 << PROB_BITS


class AdaptiveBinaryModel:
    """Krichevsky–Trofimov counts for ``n_contexts`` binary contexts (both counts start at 0)."""

    def __init__(self, n_contexts: int) -> None:
        if n_contexts < 1:
            raise DlicError(f"a binary model needs at least one context, got {n_contexts}")
        self.n0 = [0] * n_contexts
        self.n1 = [0] * n_contexts

    @staticmethod
    def p0(n0: int, n1: int) -> int:
        """The quantised probability of a 0 given the counts: ``(2·n0 + 1)·2^16 // (2·n + 2)`` in [1, 65535]."""
        p = ((2 * n0 + 1) << PROB_BITS) // (2 * (n0 + n1) + 2)
        return 1 if p < 1 else (_ONE - 1 if p >= _ONE else p)

    def ideal_bits(self, bits: Sequence[int], contexts: Sequence[int]) -> float:
        """Information content ``Σ −log2 p(bit)`` of a run under the model (updating it as coding would)."""
        n0, n1, total = self.n0, self.n1, 0.0
        for bit, ctx in zip(bits, contexts):
            a, b = n0[ctx], n1[ctx]
            p = self.p0(a, b)
            total -= math.log2((_ONE - p if bit else p) / _ONE)
            self._update(ctx, bit)
        return total

    def _update(self, ctx: int, bit: int) -> None:
        if bit:
            self.n1[ctx] += 1
        else:
            self.n0[ctx] += 1
        if self.n0[ctx] + self.n1[ctx] >= COUNT_LIMIT:
            self.n0[ctx] = (self.n0[ctx] + 1) >> 1
            self.n1[ctx] = (self.n1[ctx] + 1) >> 1


def _as_int_list(a: np.ndarray | Sequence[int]) -> list[int]:
    return np.asarray(a, dtype=np.int64).ravel().tolist()


class BinaryArithmeticEncoder:
    """Encode runs of bits with :meth:`encode_run`; :meth:`finish` returns the bytes."""

    def __init__(self) -> None:
        self._low, self._range, self._cache, self._cache_size = 0, _MASK32, 0, 1
        self._out = bytearray()
        self._done = False

    def encode_run(self, bits: np.ndarray | Sequence[int], contexts: np.ndarray | Sequence[int],
                   model: AdaptiveBinaryModel) -> None:
        """Code ``bits`` (0/1) in order, each with the adaptive probability of its context."""
        if self._done:
            raise DlicError("the arithmetic encoder is already finished")
        bits, contexts = _as_int_list(bits), _as_int_list(contexts)
        if len(bits) != len(contexts):
            raise DlicError("bits and contexts differ in length")
        low, rng, n0, n1 = self._low, self._range, model.n0, model.n1
        for bit, ctx in zip(bits, contexts):
            a, b = n0[ctx], n1[ctx]
            p = ((2 * a + 1) << 16) // (2 * (a + b) + 2)
            p = 1 if p < 1 else (65535 if p > 65535 else p)
            bound = (rng >> 16) * p
            if bit:
                low += bound
                rng -= bound
                b += 1
            else:
                rng = bound
                a += 1
            if a + b >= COUNT_LIMIT:
                a, b = (a + 1) >> 1, (b + 1) >> 1
            n0[ctx], n1[ctx] = a, b
            while rng < _TOP:
                rng <<= 8
                low = self._shift_low(low)
        self._low, self._range = low, rng

    def _shift_low(self, low: int) -> int:
        if low < 0xFF000000 or low > _MASK32:
            carry = low >> 32
            temp = self._cache
            while True:
                self._out.append((temp + carry) & 0xFF)
                temp = 0xFF
                self._cache_size -= 1
                if not self._cache_size:
                    break
            self._cache = (low >> 24) & 0xFF
        self._cache_size += 1
        return (low & 0x00FFFFFF) << 8

    def finish(self) -> bytes:
        """Flush and return the coded bytes (leading zero byte and trailing zero bytes omitted)."""
        if not self._done:
            # a multiple of 2^24 inside [low, low + range): range ≥ 2^24 after normalisation
            low = (self._low + _TOP - 1) & ~(_TOP - 1)
            for _ in range(5):
                low = self._shift_low(low)
            self._done = True
            out = bytes(self._out)
            if out and out[0] != 0:  # pragma: no cover - impossible for an LZMA-style stream
                raise DlicError("internal error: range coder stream does not start with a zero byte")
            self._bytes = out[1:].rstrip(b"\x00")
        return self._bytes


class BinaryArithmeticDecoder:
    """Decode runs of bits from bytes written by :class:`BinaryArithmeticEncoder`."""

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0
        self._range = _MASK32
        code = 0
        for _ in range(4):
            code = (code << 8) | self._next()
        self._code = code

    def _next(self) -> int:
        pos = self._pos
        self._pos = pos + 1
        return self._data[pos] if pos < len(self._data) else 0

    def decode_run(self, contexts: np.ndarray | Sequence[int], model: AdaptiveBinaryModel) -> np.ndarray:
        """Decode one bit per context, in order; returns a ``uint8`` array."""
        contexts = _as_int_list(contexts)
        out = bytearray(len(contexts))
        code, rng, n0, n1 = self._code, self._range, model.n0, model.n1
        data, pos, size = self._data, self._pos, len(self._data)
        for i, ctx in enumerate(contexts):
            a, b = n0[ctx], n1[ctx]
            p = ((2 * a + 1) << 16) // (2 * (a + b) + 2)
            p = 1 if p < 1 else (65535 if p > 65535 else p)
            bound = (rng >> 16) * p
            if code < bound:
                rng = bound
                a += 1
            else:
                code -= bound
                rng -= bound
                b += 1
                out[i] = 1
            if a + b >= COUNT_LIMIT:
                a, b = (a + 1) >> 1, (b + 1) >> 1
            n0[ctx], n1[ctx] = a, b
            while rng < _TOP:
                rng <<= 8
                code = ((code << 8) | (data[pos] if pos < size else 0)) & _MASK32
                pos += 1
        self._code, self._range, self._pos = code, rng, pos
        return np.frombuffer(bytes(out), dtype=np.uint8).copy()
