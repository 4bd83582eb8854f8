"""Training images held decoded in memory and a seeded, resumable sampler of random crops.

Each crop follows Ballé et al.: the image is (virtually) down-scaled by a random factor ``s`` drawn
log-uniformly from ``scale_range`` and a ``crop × crop`` window is cut from it at a random position.
Down-scaling is done only on the window (a ``crop·s`` region resized to ``crop``), so a crop costs
one small resize whatever the image size. The sampler's whole state is a numpy ``Generator`` state,
saved in checkpoints, so a resumed run sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import DlicError

__all__ = ["ImagePool", "CropSampler", "center_crops"]

_KODAK_FILE = re.compile(r"^kodim\d\d\.(png|bmp|tiff?)$", re.IGNORECASE)
_POOL_CACHE: dict[tuple, "ImagePool"] = {}


def refuse_kodak(paths: Sequence[Path]) -> None:
    """Raise :class:`DlicError` if any file is a Kodak test image (``kodimNN``): never train on it."""
    hits = [p for p in paths if _KODAK_FILE.match(Path(p).name)]
    if hits:
        raise DlicError(
            f"refusing to train on Kodak test images ({Path(hits[0]).name} and {len(hits) - 1} more); "
            "Kodak is the evaluation set, use the wikimedia-photos pool or another training folder"
        )


def _downscale_to(image: np.ndarray, max_side: int | None) -> np.ndarray:
    if max_side is None or max(image.shape[:2]) <= max_side:
        return image
    from PIL import Image

    h, w = image.shape[:2]
    f = max_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


class ImagePool:
    """Decoded RGB ``uint8`` images in memory (each optionally down-scaled to ``max_side`` first).

    Use :meth:`load`, which decodes each file once per process and reuses the pool afterwards.
    """

    def __init__(self, images: Sequence[np.ndarray], paths: Sequence[Path] = ()):
        if not images:
            raise DlicError("the training image list is empty; give a folder or dataset holding images")
        self.images = list(images)
        self.paths = [Path(p) for p in paths]

    @classmethod
    def load(cls, paths: Sequence[str | Path], max_side: int | None = None, progress: bool = False) -> "ImagePool":
        from ..data import read_image

        paths = [Path(p) for p in paths]
        refuse_kodak(paths)
        key = (tuple(str(p.resolve()) for p in paths), tuple(_stat(p) for p in paths), max_side)
        if key not in _POOL_CACHE:
            from ..progress import task

            images = []
            with task("decoding training images", total=len(paths), unit="img", enabled=progress) as bar:
                for p in paths:  # reported in a terminal or a book run's status files, never in a notebook
                    images.append(_downscale_to(read_image(p), max_side))
                    bar.update(1)
            _POOL_CACHE[key] = cls(images, paths)
        return _POOL_CACHE[key]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def min_side(self) -> int:
        return min(min(im.shape[:2]) for im in self.images)


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


class CropSampler:
    """Batches of random ``crop × crop`` RGB crops (``uint8``, ``(B, crop, crop, 3)``) from a pool.

    ``scale_range=(1, 2)`` down-scales each image by a log-uniform random factor in [1, 2] before
    cropping (clamped so the crop fits). ``state_dict()``/``load_state_dict()`` capture the position in
    the stream of batches; ``prefetch=True`` prepares the next batch in a background thread.
    """

    def __init__(
        self,
        pool: ImagePool,
        crop: int,
        batch: int,
        scale_range: tuple[float, float] = (1.0, 1.0),
        seed: int = 0,
        prefetch: bool = False,
    ):
        if not isinstance(crop, int) or crop < 16:
            raise DlicError(f"crop size must be an integer of at least 16 pixels, got {crop!r}")
        if not isinstance(batch, int) or batch < 1:
            raise DlicError(f"batch size must be a positive integer, got {batch!r}")
        lo, hi = (float(v) for v in scale_range)
        if not (1.0 <= lo <= hi) or not math.isfinite(hi):
            raise DlicError(f"scale range must satisfy 1 <= low <= high, got {scale_range!r}")
        if pool.min_side < crop:
            small = min(range(len(pool)), key=lambda i: min(pool.images[i].shape[:2]))
            name = pool.paths[small].name if pool.paths else f"#{small}"
            raise DlicError(
                f"training image {name} is {pool.images[small].shape[1]}x{pool.images[small].shape[0]}, "
                f"smaller than the crop size {crop}; use a smaller crop or drop that image"
            )
        self.pool, self.crop, self.batch, self.scale_range = pool, crop, batch, (lo, hi)
        self._rng = np.random.default_rng(seed)
        self._executor = ThreadPoolExecutor(max_workers=1) if prefetch else None
        self._pending: Future | None = None
        self._pending_state: dict | None = None

    # -- the stream ---------------------------------------------------------------------------
    def _draw(self) -> np.ndarray:
        from PIL import Image

        rng, crop = self._rng, self.crop
        out = np.empty((self.batch, crop, crop, 3), dtype=np.uint8)
        lo, hi = self.scale_range
        for b in range(self.batch):
            image = self.pool.images[int(rng.integers(len(self.pool)))]
            h, w = image.shape[:2]
            s = math.exp(rng.uniform(math.log(lo), math.log(hi))) if hi > lo else lo
            side = min(int(round(crop * s)), h, w)
            y = int(rng.integers(h - side + 1))
            x = int(rng.integers(w - side + 1))
            region = image[y : y + side, x : x + side]
            if side != crop:
                region = np.asarray(Image.fromarray(region).resize((crop, crop), Image.Resampling.BICUBIC))
            out[b] = region
        return out

    def next_batch(self) -> np.ndarray:
        """The next batch of the stream (deterministic given the seed and the batches drawn before)."""
        if self._executor is None:
            return self._draw()
        if self._pending is None:
            self._pending_state = self._rng.bit_generator.state
            self._pending = self._executor.submit(self._draw)
        batch = self._pending.result()
        self._pending_state = self._rng.bit_generator.state
        self._pending = self._executor.submit(self._draw)
        return batch

    # -- resumption ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The generator state just after the last batch handed out (prefetched work is not counted)."""
        if self._pending is not None:
            self._pending.result()
            return dict(self._pending_state)  # type: ignore[arg-type]
        return dict(self._rng.bit_generator.state)

    def load_state_dict(self, state: dict) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        self._rng.bit_generator.state = state

    def close(self) -> None:
        if self._executor is not None:
            if self._pending is not None:
                self._pending.result()
            self._executor.shutdown(wait=True)
            self._executor, self._pending = None, None


def center_crops(pool: ImagePool, crop: int, limit: int | None = None) -> list[np.ndarray]:
    """One central ``crop × crop`` window per image (the whole image side where it is smaller)."""
    crops = []
    for image in pool.images[:limit]:
        h, w = image.shape[:2]
        ch, cw = min(crop, h), min(crop, w)
        y, x = (h - ch) // 2, (w - cw) // 2
        crops.append(np.ascontiguousarray(image[y : y + ch, x : x + cw]))
    return crops
