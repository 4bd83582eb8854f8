"""Intra prediction: HEVC's 35 modes exactly as H.265 specifies them (batched), and the blocks of an image."""

from .blocks import BlockReferences, block_grid, block_references, hevc_mode_errors, hevc_predictions
from .hevc import DC, HORIZONTAL, MODES, PLANAR, VERTICAL, predict

__all__ = [
    "predict",
    "MODES",
    "PLANAR",
    "DC",
    "HORIZONTAL",
    "VERTICAL",
    "BlockReferences",
    "block_grid",
    "block_references",
    "hevc_mode_errors",
    "hevc_predictions",
]
