"""SSIM (Wang et al. 2004) and MS-SSIM (Wang, Simoncelli, Bovik 2003), batched in PyTorch.

Conventions (shared by every function here):

* Input scale: ``data_range`` is the peak of the input (255 for 8-bit); SSIM's ``L`` is that peak.
* Channels: ``channels="y"`` (default) compares the luma Y' = 0.299 R + 0.587 G + 0.114 B
  (BT.601, full range, unrounded, from :mod:`dlic_lib.color`); ``"rgb"`` averages the per-channel
  values (what ``sewar`` does on an RGB array). Single-channel input is used as is.
* Borders: 'valid' filtering — only windows that lie entirely inside the image count, which is
  what scikit-image (it crops ``(win_size - 1) // 2`` pixels), pytorch-msssim, piq and sewar
  average over.
* Variance: population moments (``E[x²] − E[x]²`` under the window weights), as in the paper;
  scikit-image's ``use_sample_covariance=False``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ._batch import MetricInputError, filter_valid, gaussian_1d, per_image, prepare_planes, uniform_1d

__all__ = ["ssim", "ssim_sewar", "ms_ssim", "ms_ssim_sewar", "MS_SSIM_WEIGHTS", "ssim_maps"]

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
"""Wang et al. 2003, Table/eq. (the exponents β_j = γ_j for 5 scales, coarsest last)."""

_OFFSET = 128.0  # moments are computed on x − 128 (same variances, better float32 precision)


def ssim_maps(
    x: torch.Tensor,
    y: torch.Tensor,
    kernel_1d: torch.Tensor,
    k1: float = 0.01,
    k2: float = 0.03,
    peak: float = 255.0,
    need_ssim: bool = True,
) -> tuple[torch.Tensor | None, torch.Tensor]:
    """SSIM and contrast-structure (cs) maps of two ``(N, C, H, W)`` batches ('valid' borders).

    With ``need_ssim=False`` only the cs map is computed (the first element is ``None``).
    """
    c = x.shape[1]
    if x.requires_grad or y.requires_grad:
        xc, yc = x - _OFFSET, y - _OFFSET
        planes = torch.cat([xc, yc, xc * xc, yc * yc, xc * yc], dim=1)
    else:  # the five planes written straight into one buffer
        planes = torch.empty((x.shape[0], 5 * c, *x.shape[2:]), dtype=x.dtype, device=x.device)
        xc, yc = planes[:, :c], planes[:, c : 2 * c]
        torch.sub(x, _OFFSET, out=xc)
        torch.sub(y, _OFFSET, out=yc)
        torch.mul(xc, xc, out=planes[:, 2 * c : 3 * c])
        torch.mul(yc, yc, out=planes[:, 3 * c : 4 * c])
        torch.mul(xc, yc, out=planes[:, 4 * c :])
    stats = filter_valid(planes, kernel_1d)
    mx, my, exx, eyy, exy = stats.split(c, dim=1)
    c1 = (k1 * peak) ** 2
    c2 = (k2 * peak) ** 2
    mxy = mx * my
    q = mx * mx
    q.addcmul_(my, my)  # mx² + my² (centred means)
    cs_num = (exy - mxy).mul_(2.0).add_(c2)  # 2σ_xy + C2
    cs_den = (exx + eyy).sub_(q).add_(c2)  # σ_x² + σ_y² + C2
    cs = cs_num / cs_den
    if not need_ssim:
        return None, cs
    # luminance on the uncentred means μ = m + 128: 2μ_xμ_y = 2m_xm_y + 256(m_x + m_y) + 2·128², same for μ_x² + μ_y²
    s = (mx + my).mul_(2.0 * _OFFSET).add_(2.0 * _OFFSET * _OFFSET + c1)
    lum = mxy.mul_(2.0).add_(s) / q.add_(s)
    return lum * cs, cs


def _window(window: str, win_size: int, sigma: float) -> torch.Tensor:
    if win_size < 1 or win_size % 2 == 0:
        raise MetricInputError(f"win_size must be a positive odd integer, got {win_size}")
    if window == "gaussian":
        return gaussian_1d(win_size, sigma)
    if window == "uniform":
        return uniform_1d(win_size)
    raise MetricInputError(f"window must be 'gaussian' or 'uniform', got {window!r}")


def ssim(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    window: str = "gaussian",
    win_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Mean SSIM per image pair (Wang et al. 2004): Gaussian 11×11, σ = 1.5, K1 = 0.01, K2 = 0.03, on Y'.

    Equals scikit-image ``structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)``, pytorch-msssim ``ssim`` and piq ``ssim(downsample=False)``
    on the same plane. ``window="uniform"`` gives the box-window variant (see :func:`ssim_sewar`).
    """
    kernel = _window(window, win_size, sigma)
    x, y = prepare_planes(
        reference, distorted, data_range, device, dtype, min_size=win_size, metric="ssim", channels=channels, standard=standard
    )
    return per_image(lambda a, b: ssim_maps(a, b, kernel, k1, k2)[0].mean(dim=(1, 2, 3)).double(), x, y)


def ssim_sewar(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    win_size: int = 11,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """SSIM with an 11×11 uniform (box) window, as ``sewar.full_ref.ssim`` computes it (seed 000's tool).

    Same constants and 'valid' borders as :func:`ssim`; only the window differs. sewar's own
    docstring says the default window is 8; its code uses 11, which is what this reproduces.
    """
    return ssim(
        reference, distorted, data_range, window="uniform", win_size=win_size, channels=channels,
        standard=standard, device=device, dtype=dtype,
    )


def _ms_min_size(win_size: int, scales: int) -> int:
    return (win_size - 1) * 2 ** (scales - 1) + 1


def ms_ssim(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
    win_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """MS-SSIM per image pair (Wang et al. 2003), 5 scales with the standard weights, on Y'.

    Per scale: Gaussian 11×11 σ = 1.5 'valid' SSIM/cs means; between scales a 2×2 average pool
    (odd sides zero-padded by one, as pytorch-msssim and piq do); negative cs / SSIM means are
    clipped to 0 before the weighted product ∏ cs_j^w_j · ssim_M^w_M. Needs every side larger
    than ``(win_size − 1)·2^(scales − 1)`` (160 px for 5 scales), so the coarsest scale still
    holds one full window.
    """
    kernel = _window("gaussian", win_size, sigma)
    scales = len(weights)
    if scales < 1:
        raise MetricInputError("ms_ssim needs at least one scale weight")
    need = _ms_min_size(win_size, scales)
    x, y = prepare_planes(
        reference, distorted, data_range, device, dtype, min_size=need, metric=f"ms_ssim ({scales} scales)", channels=channels, standard=standard
    )
    w = torch.tensor(weights, dtype=torch.float64, device=x.device)
    return per_image(lambda a, b: _ms_ssim(a, b, w, kernel, k1, k2), x, y)


def _ms_ssim(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, kernel: torch.Tensor, k1: float, k2: float) -> torch.Tensor:
    scales = len(w)
    values = []
    for j in range(scales):
        last = j == scales - 1
        s, cs = ssim_maps(x, y, kernel, k1, k2, need_ssim=last)
        if not last:
            values.append(torch.relu(cs.mean(dim=(2, 3))).double())
            pad = (x.shape[2] % 2, x.shape[3] % 2)
            x = F.avg_pool2d(x, kernel_size=2, padding=pad)
            y = F.avg_pool2d(y, kernel_size=2, padding=pad)
        else:
            values.append(torch.relu(s.mean(dim=(2, 3))).double())
    stacked = torch.stack(values, dim=0)  # (scales, N, C)
    return torch.prod(stacked ** w.view(-1, 1, 1), dim=0).mean(dim=1)


def ms_ssim_sewar(
    reference: Any,
    distorted: Any,
    data_range: float = 255.0,
    *,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
    win_size: int = 11,
    channels: str = "y",
    standard: str = "bt601",
    device: str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """MS-SSIM as ``sewar.full_ref.msssim`` computes it (seed 000's tool), for comparison with that seed.

    Differences from :func:`ms_ssim`: the downsampling averages samples ``(2i−1, 2i)`` (scipy
    ``uniform_filter(size=2)`` with a reflected first sample, then every second sample), scales
    are capped (with a reduced weight list) when the image is too small instead of an error, and
    negative cs means are raised to their weight as complex numbers (the real part is kept).
    With ``channels="rgb"`` sewar's filter also averages neighbouring colour channels; that
    cross-channel mixing is not reproduced, so use ``channels="y"`` (the seed's setting).
    """
    kernel = _window("gaussian", win_size, 1.5)
    x, y = prepare_planes(
        reference, distorted, data_range, device, dtype, min_size=win_size, metric="ms_ssim_sewar", channels=channels, standard=standard
    )
    min_dim = min(x.shape[-2:])
    scales = min(len(weights), int(torch.floor(torch.log2(torch.tensor(min_dim / win_size))).item()) + 1)
    w = torch.tensor(weights[:scales], dtype=torch.float64, device=x.device)
    return per_image(lambda a, b: _ms_ssim_sewar(a, b, w, kernel, scales), x, y)


def _ms_ssim_sewar(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, kernel: torch.Tensor, scales: int) -> torch.Tensor:
    ssims, css = [], []
    for j in range(scales):
        s, cs = ssim_maps(x, y, kernel, need_ssim=j == scales - 1)
        if s is not None:
            ssims.append(s.mean(dim=(1, 2, 3)).double())  # sewar averages channels per scale
        css.append(cs.mean(dim=(1, 2, 3)).double())
        if j < scales - 1:
            x, y = _sewar_down(torch.cat([x, y], dim=1)).split(x.shape[1], dim=1)
    last = ssims[-1].to(torch.complex128) ** w[scales - 1]
    if scales == 1:
        return last.real
    mcs = torch.stack(css[: scales - 1], 0).to(torch.complex128)
    return (torch.prod(mcs ** w[: scales - 1].view(-1, 1), dim=0) * last).real


def _sewar_down(x: torch.Tensor) -> torch.Tensor:
    # scipy uniform_filter(size=2, mode='reflect'): out[i] = (x[i-1] + x[i]) / 2 with x[-1] = x[0];
    # then every second sample: 2×2 means of the image with its first row and column repeated
    return F.avg_pool2d(F.pad(x, (1, 0, 1, 0), mode="replicate"), kernel_size=2, stride=2)
