"""Lossless entropy coding: an adaptive binary arithmetic coder and context modelling of bit planes."""

from .binary_coder import AdaptiveBinaryModel, BinaryArithmeticDecoder, BinaryArithmeticEncoder
from .bitplanes import N_CONTEXTS, decode_bitplanes, encode_bitplanes, ideal_bitplane_bits

__all__ = [
    "AdaptiveBinaryModel", "BinaryArithmeticEncoder", "BinaryArithmeticDecoder",
    "encode_bitplanes", "decode_bitplanes", "ideal_bitplane_bits", "N_CONTEXTS",
]
