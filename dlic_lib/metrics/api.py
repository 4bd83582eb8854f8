"""``compute()``: many metrics on single images, batches or lists of files, as one tidy table.

The registry maps the names used by the CLI and the result tables to functions. Full-reference
metrics take ``(reference, distorted)``; no-reference ones (``niqe``) score the distorted image.
Names starting with ``libvmaf_`` and ``vmaf`` itself come from one libvmaf run per pair batch.

Large images: the PSNR metrics of a pair above :func:`tile_pixels` pixels (``DLIC_METRIC_TILE_PIXELS``,
default 16 Mpx) are computed strip by strip — their squared errors add up exactly — so a
100-Mpx PSNR needs a few hundred MB beyond the two 8-bit images instead of several GB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import importlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import DlicError

__all__ = ["Metric", "METRICS", "available_metrics", "compute", "DEFAULT_METRICS", "tile_pixels"]

#: metrics whose value is a function of per-plane mean squared errors: name → planes (None: one MSE)
_MSE_PLANES: dict[str, tuple[float, float, float] | None] = {
    "psnr_rgb": None, "psnr_y": None, "psnr_ycbcr": (6.0, 1.0, 1.0), "psnr_ycbcr_411": (4.0, 1.0, 1.0),
}
_STRIP_PIXELS = 1 << 22


def tile_pixels() -> int:
    """Pixel count above which PSNR metrics are computed in strips (``DLIC_METRIC_TILE_PIXELS``)."""
    import os

    env = os.environ.get("DLIC_METRIC_TILE_PIXELS", "")
    try:
        value = int(env) if env.strip() else 16_000_000
    except ValueError:
        raise DlicError(f"DLIC_METRIC_TILE_PIXELS must be a whole number of pixels, got {env!r}") from None
    if value < 1:
        raise DlicError(f"DLIC_METRIC_TILE_PIXELS must be positive, got {env!r}")
    return value


def _strips(height: int, width: int):
    rows = max(1, min(_STRIP_PIXELS, tile_pixels()) // max(1, width))
    for top in range(0, height, rows):
        yield slice(top, min(height, top + rows))


def _ycbcr_planes(x, data_range: float, standard: str = "bt601", range: str = "full", round_planes: bool = False):
    """Y'CbCr planes of an RGB strip on the 0..255 scale, as :func:`~dlic_lib.metrics.psnr.psnr_ycbcr` forms them."""
    import numpy as np

    from .. import color

    planes = color.rgb_to_ycbcr(np.asarray(x, dtype=np.float64) * (255.0 / data_range), standard=standard, range=range)
    return np.clip(np.rint(planes), 0.0, 255.0) if round_planes else planes


def _tiled_psnr(metric: "Metric", ref, dist, data_range: float, device: str, options: dict[str, Any]) -> float:
    """PSNR of a large pair from the squared errors of row strips (exact: MSEs are means of sums)."""
    import math

    import numpy as np

    ref, dist = np.asarray(ref), np.asarray(dist)
    if ref.shape != dist.shape:
        from ._batch import MetricInputError

        raise MetricInputError(f"{metric.name}: reference and distorted shapes differ ({ref.shape} vs {dist.shape})")
    weights = _MSE_PLANES[metric.name]
    max_db = options.get("max_db")
    opts = {k: v for k, v in options.items() if k not in ("max_db", "weights")}
    if weights is not None:
        weights = tuple(options.get("weights", weights))
    sums = [0.0, 0.0, 0.0]
    for rows in _strips(ref.shape[0], ref.shape[1]):
        a, b = ref[rows], dist[rows]
        n = a.shape[0] * a.shape[1]
        if weights is None:
            values = [float(metric.func(a, b, data_range, device=device, **opts).reshape(-1)[0])]
        else:  # the three plane PSNRs of psnr_ycbcr, from one colour conversion per strip
            from .psnr import psnr_planes

            pa, pb = (_ycbcr_planes(x, data_range, **opts) for x in (a, b))
            values = [float(v) for v in psnr_planes(pa, pb, 255.0, device=device).reshape(-1)]
        for k, db in enumerate(values):
            sums[k] += 0.0 if math.isinf(db) else n * 255.0**2 / 10.0 ** (db / 10.0)
    total = ref.shape[0] * ref.shape[1]

    def psnr(sse: float) -> float:
        db = math.inf if sse == 0 else 10.0 * math.log10(255.0**2 * total / sse)
        return min(db, max_db) if max_db is not None else db

    if weights is None:
        return psnr(sums[0])
    return sum(w * psnr(e) for w, e in zip(weights, sums)) / sum(weights)


@dataclass(frozen=True)
class Metric:
    """A named metric: ``func(reference, distorted, data_range, device=...) -> (N,) tensor``."""

    name: str
    func: Callable[..., Any] | None
    description: str
    backend: str = "torch"  # "torch" | "libvmaf" | "no-reference"
    higher_is_better: bool = True
    options: dict[str, Any] = field(default_factory=dict)


def _registry() -> dict[str, Metric]:
    psnr, ssim, vif = (importlib.import_module(f"{__package__}.{n}") for n in ("psnr", "ssim", "vif"))

    m = [
        Metric("psnr_rgb", psnr.psnr_rgb, "PSNR over RGB samples (dB)"),
        Metric("psnr_y", psnr.psnr_y, "PSNR of BT.601 full-range luma (dB)"),
        Metric("psnr_ycbcr", psnr.psnr_ycbcr, "(6·PSNR_Y + PSNR_Cb + PSNR_Cr)/8, BT.601 full range (dB)"),
        Metric(
            "psnr_ycbcr_411",
            partial(psnr.psnr_ycbcr, weights=(4.0, 1.0, 1.0)),
            "(4·PSNR_Y + PSNR_Cb + PSNR_Cr)/6, BT.601 full range (dB)",
        ),
        Metric("ssim", ssim.ssim, "SSIM, Gaussian 11×11 σ=1.5, on Y (Wang et al. 2004)"),
        Metric("ssim_sewar", ssim.ssim_sewar, "SSIM with an 11×11 uniform window on Y (sewar's variant)"),
        Metric("ms_ssim", ssim.ms_ssim, "MS-SSIM, 5 scales, standard weights, on Y"),
        Metric("ms_ssim_sewar", ssim.ms_ssim_sewar, "MS-SSIM as sewar computes it, on Y"),
        Metric("vif", vif.vif, "pixel-domain VIF (VIF-P), 4 scales, on Y"),
        Metric("vmaf", None, "VMAF v0.6.1 (libvmaf through FFmpeg)", backend="libvmaf"),
    ]
    for feat in ("psnr_y", "psnr_cb", "psnr_cr", "float_ssim", "float_ms_ssim",
                 "vif_scale0", "vif_scale1", "vif_scale2", "vif_scale3", "integer_adm2"):  # fmt: skip
        m.append(Metric(f"libvmaf_{feat}", None, f"libvmaf feature {feat}", backend="libvmaf"))
    try:
        from . import metrix
    except ImportError:  # pragma: no cover
        metrix = None
    if metrix is not None:
        m += metrix.registry_entries(Metric)
    try:  # the module, not the function of the same name that the package exports
        niqe = importlib.import_module(f"{__package__}.niqe")
    except ImportError:  # pragma: no cover
        niqe = None
    if niqe is not None:
        m.append(Metric("niqe", niqe.niqe_pair, "NIQE of the distorted image (no-reference; lower is better)",
                        backend="no-reference", higher_is_better=False))  # fmt: skip
    try:
        from . import vmaf_torch
    except ImportError:  # pragma: no cover
        vmaf_torch = None
    if vmaf_torch is not None and vmaf_torch.available():
        m.append(Metric("vmaf_torch", vmaf_torch.vmaf_torch_pair, "differentiable VMAF v0.6.1 (PyTorch)"))
    m.append(Metric("proxiqa_vmaf", importlib.import_module(f"{__package__}.proxiqa").proxiqa_vmaf, "VMAF predicted by the ProxIQA network (checkpoint= a release, default the zoo's proxy)"))
    return {x.name: x for x in m}


_CACHE: dict[str, Metric] = {}


def available_metrics() -> dict[str, Metric]:
    """Name → :class:`Metric` for every metric ``compute`` knows."""
    if not _CACHE:
        _CACHE.update(_registry())
    return dict(_CACHE)


class _Lazy(dict):
    def __missing__(self, key):  # pragma: no cover - convenience
        return available_metrics()[key]


METRICS = _Lazy()
DEFAULT_METRICS = ("psnr_rgb", "psnr_y", "psnr_ycbcr", "ssim", "ms_ssim", "vif")


def _resolve(metrics: Sequence[str] | str | None) -> list[Metric]:
    reg = available_metrics()
    if metrics is None:
        names = list(DEFAULT_METRICS)
    elif isinstance(metrics, str):
        names = [s.strip() for s in metrics.split(",") if s.strip()]
    else:
        names = list(metrics)
    unknown = [n for n in names if n not in reg]
    if unknown:
        raise DlicError(f"unknown metric(s) {', '.join(unknown)}; available: {', '.join(sorted(reg))}")
    if not names:
        raise DlicError("no metric requested; name at least one")
    return [reg[n] for n in names]


def _is_pathlike(x: Any) -> bool:
    return isinstance(x, (str, Path))


def _items(x: Any, name: str) -> tuple[list[Any], list[str | None]]:
    """Split ``x`` into per-pair items (paths or arrays) and their labels."""
    if _is_pathlike(x):
        return [Path(x)], [str(x)]
    if isinstance(x, (list, tuple)):
        if not x:
            raise DlicError(f"{name} is an empty list")
        return list(x), [str(i) if _is_pathlike(i) else None for i in x]
    if getattr(x, "ndim", 0) == 4:  # a batch, numpy (N, H, W, C) or torch (N, C, H, W)
        return [x[i] for i in range(x.shape[0])], [None] * x.shape[0]
    return [x], [None]


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _load(item: Any) -> Any:
    if _is_pathlike(item):
        from ..data import read_image

        return read_image(item)
    return item


def compute(
    reference: Any,
    distorted: Any,
    metrics: Sequence[str] | str | None = None,
    device: str | None = None,
    data_range: float = 255.0,
    options: dict[str, dict[str, Any]] | None = None,
    progress: bool | None = None,
):
    """Compute ``metrics`` for each (reference, distorted) pair; one row per pair, one column per metric.

    ``reference``/``distorted``: a path, a list of paths, one image (numpy ``(H, W[, C])`` or
    torch ``(C, H, W)``), a batch (numpy ``(N, H, W, C)`` / torch ``(N, C, H, W)``) or a list of
    images (sizes may differ between pairs). ``options`` passes keyword arguments per metric,
    e.g. ``{"psnr_ycbcr": {"weights": (4, 1, 1)}}``. Progress is shown for more than one pair
    unless ``progress=False``. Returns a :class:`pandas.DataFrame` with columns ``pair``,
    ``reference``, ``distorted`` (file names, when given) and the metric names.
    """
    import pandas as pd

    from ..device import resolve_device
    from ..progress import track

    chosen = _resolve(metrics)
    options = options or {}
    unknown_opts = set(options) - {m.name for m in chosen}
    if unknown_opts:
        raise DlicError(f"options given for metric(s) not requested: {', '.join(sorted(unknown_opts))}")
    dev = resolve_device(device)
    refs, ref_labels = _items(reference, "reference")
    dists, dist_labels = _items(distorted, "distorted")
    if len(refs) != len(dists):
        raise DlicError(f"{len(refs)} reference images but {len(dists)} distorted images; give one per pair")
    show = progress if progress is not None else len(refs) > 1
    rows = []
    torch_metrics = [m for m in chosen if m.backend in ("torch", "no-reference")]
    vmaf_metrics = [m for m in chosen if m.backend == "libvmaf"]
    for i in track(range(len(refs)), "metrics", unit="pair", enabled=show):  # never into a notebook
        try:
            rows.append(_pair_row(i, refs[i], dists[i], ref_labels[i], dist_labels[i], torch_metrics, vmaf_metrics,
                                  data_range, dev, options))
        except DlicError as exc:
            if len(refs) == 1:
                raise
            label = f" ({ref_labels[i]} vs {dist_labels[i]})" if ref_labels[i] or dist_labels[i] else ""
            try:
                wrapped = type(exc)(f"pair {i + 1}{label}: {exc}")
            except TypeError:  # pragma: no cover - an error class with another signature
                wrapped = DlicError(f"pair {i + 1}{label}: {exc}")
            raise wrapped from None
    df = pd.DataFrame(rows)
    if all(lbl is None for lbl in ref_labels) and all(lbl is None for lbl in dist_labels):
        df = df.drop(columns=["reference", "distorted"])
    return df


def _pair_row(i, ref_item, dist_item, ref_label, dist_label, torch_metrics, vmaf_metrics, data_range, dev, options):
    import numpy as np
    import torch

    ref, dist = _load(ref_item), _load(dist_item)
    row: dict[str, Any] = {"pair": i, "reference": ref_label, "distorted": dist_label}
    large = (isinstance(ref, np.ndarray) and ref.ndim == 3 and ref.shape[0] * ref.shape[1] > tile_pixels())
    with torch.no_grad():
        for m in torch_metrics:
            if large and m.name in _MSE_PLANES:
                row[m.name] = _tiled_psnr(m, ref, dist, data_range, dev, options.get(m.name, {}))
                continue
            value = m.func(ref, dist, data_range, device=dev, **options.get(m.name, {}))
            row[m.name] = float(torch.as_tensor(value).reshape(-1)[0])
    if vmaf_metrics:
        from .vmaf import libvmaf

        if data_range != 255.0:
            raise DlicError("libvmaf metrics need 8-bit images (data_range=255)")
        kw: dict[str, Any] = {}
        for m in vmaf_metrics:
            kw.update(options.get(m.name, {}))
        res = libvmaf(ref, dist, **kw)[0]
        for m in vmaf_metrics:
            key = m.name.removeprefix("libvmaf_") if m.name != "vmaf" else "vmaf"
            if key not in res:
                raise DlicError(f"libvmaf did not report {key!r}; reported: {', '.join(sorted(res))}")
            row[m.name] = res[key]
    return row
