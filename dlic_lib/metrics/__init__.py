"""Full-reference and no-reference image quality metrics, batched in PyTorch (CPU or CUDA).

Every metric takes ``(reference, distorted, data_range=255)`` and returns one float64 value per
image pair; conventions (colour matrix, range, window, borders) are documented next to each
function. :func:`compute` runs several metrics on images, batches or files and returns a table.
"""

from ._batch import MetricInputError
from .api import DEFAULT_METRICS, Metric, available_metrics, compute
from .psnr import psnr_planes, psnr_rgb, psnr_y, psnr_ycbcr, upsample_chroma
from .ssim import MS_SSIM_WEIGHTS, ms_ssim, ms_ssim_sewar, ssim, ssim_sewar
from .ifc import ifc, vif_wavelet
from .metrix import nqm, uqi, wsnr
from .niqe import niqe
from .vif import vif
from .vmaf import libvmaf
from .vsnr import vsnr

__all__ = [
    "MetricInputError",
    "Metric",
    "DEFAULT_METRICS",
    "available_metrics",
    "compute",
    "psnr_rgb",
    "psnr_y",
    "psnr_ycbcr",
    "psnr_planes",
    "upsample_chroma",
    "ssim",
    "ssim_sewar",
    "ms_ssim",
    "ms_ssim_sewar",
    "MS_SSIM_WEIGHTS",
    "vif",
    "vif_wavelet",
    "ifc",
    "uqi",
    "nqm",
    "wsnr",
    "vsnr",
    "niqe",
    "libvmaf",
]
