"""Rate targeting: find the rate parameter whose bpp is closest to a target, with few encodes.

The search assumes bpp is monotone in the codec's parameter. It works on ``log(bpp)`` against the
parameter mapped to ``u ∈ [0, 1]`` (flipped so that ``u`` up means more bits), keeps a bracket of
the target, and steps by secant (regula falsi, Illinois-style halving of a stale end) inside it,
falling back to bisection; integer parameters (QP, learned quality levels) stop when the bracket
is two neighbouring values. Every encode goes through the codec's cache, so a rerun is free.

``not_above=True`` picks the best result whose bpp does not exceed the target (the seed-000
protocol "at most the target rate"); otherwise the closest in relative terms. When the target
lies outside what the codec can reach (e.g. JPEG at 0.06 bpp on Kodak), the result is the nearest
reachable point, with ``reachable=False``; :data:`RATE_FLOORS` says why for each such codec and
:data:`KODAK_UNREACHABLE` lists the (codec, target) pairs this happens for on Kodak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DlicError
from .base import Codec, CodedImage

__all__ = ["RateResult", "encode_to_bpp", "targeting_options", "TARGETING_OPTIONS", "SEED000_TARGETS", "RATE_FLOORS", "KODAK_UNREACHABLE"]

#: the four seed-000 target rates (bpp)
SEED000_TARGETS = (0.06, 0.125, 0.25, 0.5)

#: codec options with a fine enough rate parameter for 2 % targeting, used when a codec is named
#: by string in :func:`encode_to_bpp`: whole QPs / cq-levels are 10–20 % apart in rate, so HEVC
#: uses fractional CRFs, VVC fractional QPs (lambda scaling) and AV1 SVT-AV1's quarter-step CRF
TARGETING_OPTIONS: dict[str, dict[str, Any]] = {
    "hevc": {"mode": "crf"},
    "vvc": {"mode": "lambda"},
    "av1": {"encoder": "svt-av1"},
}



def targeting_options(codec: str, **options: Any) -> dict[str, Any]:
    """``codec``'s :data:`TARGETING_OPTIONS` overridden by ``options``.

    SVT-AV1 codes 4:2:0 only, so AV1 asked for 4:4:4 without an ``encoder`` keeps libaom.
    """
    defaults = dict(TARGETING_OPTIONS.get(codec, {}))
    if codec == "av1" and str(options.get("chroma", "420")) == "444" and "encoder" not in options:
        defaults.pop("encoder", None)
    return {**defaults, **options}

#: why a codec's rate cannot go below its lowest parameter (with :data:`TARGETING_OPTIONS`)
RATE_FLOORS: dict[str, str] = {
    "jpeg": (
        "quality 1 already sets every quantiser to 255, the largest an 8-bit table holds; coarser "
        "16-bit tables (libjpeg writes them, as SOF1) are not allowed with 8-bit samples "
        "(ITU-T T.81 B.2.4.1: Pq shall be 0), so a conforming baseline/extended JPEG cannot go lower"
    ),
    "webp": (
        "quality 0 is VP8's coarsest quantiser (index 127); Pillow exposes no other rate setting, and "
        "libwebp's presets (sns 0, 'icon'/'text', via FFmpeg) change the floor by only ±5 % on Kodak"
    ),
    "jpegxl": (
        "Butteraugli distance 15 is the most FFmpeg's libjxl encoder accepts (its -distance range; "
        "-q:v 0 maps to 15 too); libjxl itself allows 25, which this FFmpeg cannot pass on"
    ),
    "hevc": (
        "CRF 51 is x265's coarsest setting, its QPs capped at 51, HEVC's largest quantiser for 8-bit "
        "video (the QP mode at 51 codes more bits); lower rates would need other coding tools (e.g. "
        "chroma QP offsets up to +12), which would change the codec's configuration at every rate"
    ),
}

#: (codec, target bpp) → the Kodak images whose lowest rate (with :data:`TARGETING_OPTIONS`) is
#: more than 2 % above the target; ``"all"`` for all 24. Measured with Pillow 13 (libjpeg-turbo,
#: libwebp 1.6) and FFmpeg n9.0.2 (libjxl effort 7, x265 preset medium); checked by the test suite.
KODAK_UNREACHABLE: dict[tuple[str, float], tuple[str, ...] | str] = {
    ("jpeg", 0.06): "all",
    ("jpeg", 0.125): ("kodim08",),
    ("webp", 0.06): tuple(f"kodim{i:02d}" for i in range(1, 25) if i not in (2, 12)),
    ("webp", 0.125): ("kodim05", "kodim08", "kodim13", "kodim24"),
    ("jpegxl", 0.06): "all",
    ("jpegxl", 0.125): "all",
    ("jpegxl", 0.25): ("kodim01", "kodim05", "kodim08", "kodim13", "kodim14", "kodim18", "kodim24"),
    ("hevc", 0.06): ("kodim05", "kodim08", "kodim13", "kodim14", "kodim24"),
}


@dataclass
class RateResult:
    """Outcome of :func:`encode_to_bpp`."""

    coded: CodedImage
    target_bpp: float
    tolerance: float
    not_above: bool
    encodes: int
    cache_hits: int
    reachable: bool
    trials: list[tuple[float, float]] = field(default_factory=list)

    @property
    def bpp(self) -> float:
        return self.coded.bpp

    @property
    def quality(self) -> float | int:
        return self.coded.quality

    @property
    def rel_error(self) -> float:
        """``bpp / target − 1``."""
        return self.coded.bpp / self.target_bpp - 1.0

    @property
    def within_tolerance(self) -> bool:
        ok = abs(self.rel_error) <= self.tolerance + 1e-12
        return ok and (not self.not_above or self.coded.bpp <= self.target_bpp)

    def record(self) -> dict[str, Any]:
        rec = self.coded.record()
        rec.update(
            target_bpp=self.target_bpp, rel_error=self.rel_error, within_tolerance=self.within_tolerance,
            reachable=self.reachable, encodes=self.encodes, cache_hits=self.cache_hits, not_above=self.not_above,
            tolerance=self.tolerance,
        )
        return rec


def encode_to_bpp(
    image: np.ndarray,
    codec: Codec | str,
    target_bpp: float,
    tolerance: float = 0.02,
    *,
    not_above: bool = False,
    max_encodes: int = 24,
    use_cache: bool = True,
) -> RateResult:
    """Encode ``image`` with ``codec`` at the parameter whose bpp is closest to ``target_bpp``.

    ``codec`` is a :class:`Codec` or a registered name (built with :data:`TARGETING_OPTIONS`).
    The search stops as soon as a result is within ``tolerance`` (relative) of the target (and
    not above it with ``not_above``), when the parameter cannot be refined further, or after
    ``max_encodes`` encodes.
    """
    if isinstance(codec, str):
        from .registry import get_codec

        codec = get_codec(codec, **targeting_options(codec))
    try:
        target = float(target_bpp)
    except (TypeError, ValueError):
        raise DlicError(f"target bpp must be a number, got {target_bpp!r}") from None
    if not (math.isfinite(target) and target > 0):
        raise DlicError(f"target bpp must be a positive number, got {target_bpp!r}")
    if not (0 < tolerance < 1):
        raise DlicError(f"tolerance must be a fraction in (0, 1), got {tolerance!r}")
    return _Search(image, codec, target, tolerance, not_above, max_encodes, use_cache).run()


class _Search:
    def __init__(self, image, codec: Codec, target, tol, not_above, max_encodes, use_cache):
        self.image, self.codec, self.target, self.tol = image, codec, target, tol
        self.not_above, self.max_encodes, self.use_cache = not_above, max_encodes, use_cache
        spec = codec.quality_spec
        values = codec.search_values() if hasattr(codec, "search_values") else spec.values
        if values is not None:
            if not values:
                raise DlicError(f"{codec.name}: no quality level is available to search")
            self.grid: list[float] | None = sorted(values, reverse=not spec.increasing)
        elif spec.integer:
            lo, hi = int(spec.low), int(spec.high)
            self.grid = list(range(lo, hi + 1)) if spec.increasing else list(range(hi, lo - 1, -1))
        elif spec.step:
            self.grid = sorted(spec.grid(), reverse=not spec.increasing)
        else:
            self.grid = None
        self.spec = spec
        self.results: dict[float, CodedImage] = {}
        self.encodes = 0
        self.hits = 0

    # u ∈ [0, 1] (more bits as u grows) ↔ codec parameter
    def param(self, u: float) -> float | int:
        u = min(1.0, max(0.0, u))
        if self.grid is not None:
            return self.grid[int(round(u * (len(self.grid) - 1)))]
        lo, hi = self.spec.low, self.spec.high
        if lo > 0 and hi / lo > 50:  # wide positive ranges (requested bpp): search in log scale
            v = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        else:
            v = lo + u * (hi - lo)
        v = v if self.spec.increasing else lo + hi - v
        return float(f"{v:.6g}")

    def u_of(self, p: float) -> float:
        if self.grid is not None:
            return self.grid.index(p) / (len(self.grid) - 1)
        lo, hi = self.spec.low, self.spec.high
        v = p if self.spec.increasing else lo + hi - p
        if lo > 0 and hi / lo > 50:
            return (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (v - lo) / (hi - lo)

    def step(self) -> float:
        return 1.0 / (len(self.grid) - 1) if self.grid is not None else 1e-4

    def bpp(self, u: float) -> float:
        p = self.param(u)
        if p not in self.results:
            coded = self.codec.encode(self.image, p, use_cache=self.use_cache)
            self.encodes += 1
            self.hits += int(coded.cached)
            self.results[p] = coded
        return self.results[p].bpp

    def good(self, b: float) -> bool:
        return abs(b / self.target - 1) <= self.tol and (not self.not_above or b <= self.target)

    def run(self):
        g = lambda b: math.log(b / self.target)  # noqa: E731
        # start from the codec's default parameter
        u0 = self.u_of(self.spec.default) if self.grid is None or self.spec.default in self.grid else 0.5
        b0 = self.bpp(u0)
        lo = hi = None  # (u, g) with g < 0 / g > 0
        (lo, hi) = ((u0, g(b0)), None) if b0 < self.target else (None, (u0, g(b0)))
        reachable = True
        if not self.good(b0):
            # expand towards the target until bracketed, with secant-guided steps
            slope = 4.0  # Δlog(bpp) per unit u: a rough prior, refined after the second point
            prev = (u0, g(b0))
            while (lo is None or hi is None) and self.encodes < self.max_encodes:
                u, gu = prev
                nu = u - gu / slope
                nu = min(1.0, max(0.0, nu))
                if abs(nu - u) < self.step():
                    nu = u + (self.step() if gu < 0 else -self.step())
                if not 0.0 <= nu <= 1.0 or (nu == u):
                    reachable = False
                    break
                b = self.bpp(nu)
                gn = g(b)
                if self.good(b):
                    break
                if gn != gu and nu != u:
                    slope = max(0.3, min(50.0, (gn - gu) / (nu - u)))
                if gn < 0:
                    lo = (nu, gn)
                else:
                    hi = (nu, gn)
                prev = (nu, gn)
                if (nu in (0.0, 1.0)) and (lo is None or hi is None):
                    reachable = False
                    break
            # refine inside the bracket
            side = 0
            while lo is not None and hi is not None and self.encodes < self.max_encodes:
                if any(self.good(c.bpp) for c in self.results.values()):
                    break
                if hi[0] - lo[0] <= self.step() * 1.0001:
                    break
                t = lo[1] / (lo[1] - hi[1])
                nu = lo[0] + t * (hi[0] - lo[0])
                margin = self.step() if self.grid is not None else 0.0
                nu = min(max(nu, lo[0] + margin), hi[0] - margin)
                if self.grid is not None:
                    nu = round(nu / self.step()) * self.step()
                    if nu <= lo[0] or nu >= hi[0]:
                        nu = round((lo[0] + hi[0]) / 2 / self.step()) * self.step()
                if self.param(nu) in (self.param(lo[0]), self.param(hi[0])):
                    break
                b = self.bpp(nu)
                gn = g(b)
                if gn < 0:
                    lo = (nu, gn)
                    if side == -1:
                        hi = (hi[0], hi[1] / 2)
                    side = -1
                else:
                    hi = (nu, gn)
                    if side == 1:
                        lo = (lo[0], lo[1] / 2)
                    side = 1
        return self.result(reachable)

    def result(self, reachable: bool) -> "RateResult":
        coded = list(self.results.values())
        if self.not_above:
            below = [c for c in coded if c.bpp <= self.target]
            best = max(below, key=lambda c: c.bpp) if below else min(coded, key=lambda c: c.bpp)
        else:
            best = min(coded, key=lambda c: abs(math.log(c.bpp / self.target)))
        bpps = [c.bpp for c in coded]
        # reachable: the target lies within the rates the codec produced (or one was good enough)
        reachable = any(self.good(b) for b in bpps) or (min(bpps) <= self.target <= max(bpps))
        trials = sorted((float(p), c.bpp) for p, c in self.results.items())
        return RateResult(best, self.target, self.tol, self.not_above, self.encodes, self.hits, reachable, trials)
