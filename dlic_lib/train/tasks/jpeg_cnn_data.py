"""Luma training data for the CNN-around-JPEG tasks: Y planes in memory, real JPEG targets, samplers.

* :class:`LumaPool` — the Y planes (Pillow's integer luma) of the training images, decoded once
  per process, with their real JPEG decodings at any quality factor made on demand (standard
  Huffman tables; the coding of an 8×8-aligned crop equals the crop of the coded image, since
  baseline grayscale JPEG codes each block on its own).
* :class:`PatchSampler` — seeded, resumable batches of random crops ``(B, 1, P, P)`` on [0, 1]:
  ``aligned=8`` keeps crops on the block grid (FakeCodec inputs with their JPEG targets),
  ``flips`` adds random horizontal flips (CR/SR training).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ...errors import DlicError
from ...jpeg import decode_luma, encode_luma, rgb_to_luma

__all__ = ["LumaPool", "PatchSampler", "luma_files"]

_POOLS: dict[tuple, "LumaPool"] = {}


def luma_files(split: str, dataset: str = "wikimedia-photos") -> list[Path]:
    """The image files of a split of ``dataset`` (Kodak is refused by the training sources)."""
    from ..crops import refuse_kodak
    from ...data import resolve_dataset

    files = [Path(p) for p in resolve_dataset(dataset).images(split=split)]
    refuse_kodak(files)
    if not files:
        raise DlicError(f"dataset {dataset!r} has no {split!r} images")
    return files


class LumaPool:
    """Y planes of images, and their JPEG decodings per quality factor (cached in memory)."""

    def __init__(self, planes: Sequence[np.ndarray]):
        if not planes:
            raise DlicError("the luma training pool is empty")
        self.planes = [np.ascontiguousarray(p) for p in planes]
        self._coded: dict[int, list[np.ndarray]] = {}

    @classmethod
    def load(cls, paths: Sequence[str | Path], max_side: int | None = None) -> "LumaPool":
        from ...data import read_image
        from ..crops import _downscale_to, refuse_kodak

        paths = [Path(p) for p in paths]
        refuse_kodak(paths)
        key = (tuple(str(p.resolve()) for p in paths), max_side)
        if key not in _POOLS:
            _POOLS[key] = cls([rgb_to_luma(_downscale_to(read_image(p), max_side)) for p in paths])
        return _POOLS[key]

    def coded(self, quality: int) -> list[np.ndarray]:
        """Each plane after a real luma JPEG at ``quality`` (standard Huffman tables), decoded."""
        q = int(quality)
        if q not in self._coded:
            self._coded[q] = [decode_luma(encode_luma(p, q)) for p in self.planes]
        return self._coded[q]

    def __len__(self) -> int:
        return len(self.planes)


class PatchSampler:
    """Random crops of a :class:`LumaPool` as float tensors on [0, 1]; the state is the RNG state.

    ``target_quality`` adds the same crops of the JPEG-decoded planes (batches become ``(x, target)``).
    """

    def __init__(self, pool: LumaPool, patch: int, batch: int, seed: int, *, aligned: int = 2,
                 flips: bool = False, target_quality: int | None = None):
        usable = [i for i, p in enumerate(pool.planes) if min(p.shape) >= patch]
        if not usable:
            raise DlicError(f"no training image is at least {patch}×{patch}")
        self.pool, self.patch, self.batch, self.aligned, self.flips = pool, int(patch), int(batch), int(aligned), bool(flips)
        self.usable, self.target_quality = usable, target_quality
        self.targets = pool.coded(target_quality) if target_quality is not None else None
        self.rng = np.random.default_rng(seed)

    def _crop(self, plane: np.ndarray, r: int, c: int) -> np.ndarray:
        return plane[r:r + self.patch, c:c + self.patch]

    def next_batch(self):
        xs, ts = [], []
        for _ in range(self.batch):
            i = self.usable[int(self.rng.integers(len(self.usable)))]
            h, w = self.pool.planes[i].shape
            a = self.aligned
            r = int(self.rng.integers((h - self.patch) // a + 1)) * a
            c = int(self.rng.integers((w - self.patch) // a + 1)) * a
            flip = self.flips and bool(self.rng.integers(2))
            x = self._crop(self.pool.planes[i], r, c)
            xs.append(x[:, ::-1] if flip else x)
            if self.targets is not None:
                ts.append(self._crop(self.targets[i], r, c))
        x = torch.from_numpy(np.stack(xs).astype(np.float32) / 255.0)[:, None]
        if self.targets is None:
            return x
        return x, torch.from_numpy(np.stack(ts).astype(np.float32) / 255.0)[:, None]

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
