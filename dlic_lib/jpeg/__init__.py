"""The luma JPEG path of the CNN-around-JPEG chapter and its differentiable counterparts.

* :mod:`.luma` — grayscale (Y) JPEG as the thesis ran it: IJG tables scaled by the quality factor,
  standard (Annex K) or optimised Huffman tables, Pillow's integer luma;
* :mod:`.dct` — the 8×8 orthonormal DCT-II (JPEG's FDCT) and quantisation in torch;
* :mod:`.rate_proxy` — the soft and hard counts of non-zero quantised coefficients (eqs. 3.4–3.8);
* :mod:`.resample` — PIL's bicubic kernel, bit-exact in numpy and differentiable in torch.
"""

from .dct import block_dct, block_idct, dct_matrix, dequantise, quantise, to_blocks, from_blocks
from .luma import (
    decode_luma,
    encode_luma,
    luma_quant_table,
    luma_to_rgb,
    read_quantised,
    rgb_to_luma,
)
from .rate_proxy import hard_nonzero_count, soft_nonzero_count
from .resample import bicubic_resize, pil_bicubic, resample_weights

__all__ = [
    "rgb_to_luma",
    "luma_to_rgb",
    "luma_quant_table",
    "encode_luma",
    "decode_luma",
    "read_quantised",
    "dct_matrix",
    "to_blocks",
    "from_blocks",
    "block_dct",
    "block_idct",
    "quantise",
    "dequantise",
    "soft_nonzero_count",
    "hard_nonzero_count",
    "bicubic_resize",
    "pil_bicubic",
    "resample_weights",
]
