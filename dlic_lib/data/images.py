"""Image I/O with explicit, documented conversions and clear errors.

Every image the library hands on is an RGB ``uint8`` array of shape ``(H, W, 3)``.
:func:`read_image` converts other modes in documented ways and refuses what it cannot use:

| input | result |
|---|---|
| RGB 8-bit | as is |
| grayscale (``L``, ``1``) | replicated to 3 channels |
| palette (``P``) | expanded to RGB (refused if the palette has transparency that is used) |
| RGBA / LA with every alpha = 255 | alpha dropped |
| RGBA / LA with any transparent pixel | refused (compositing would invent content) |
| 16-bit grayscale (``I;16``) | scaled to 8-bit by rounding ``v / 257`` |
| 16-bit RGB PNG | reduced to 8 bits by Pillow on reading (most significant byte) |
| CMYK, YCbCr, float, other modes | refused |
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import ImageReadError

__all__ = ["read_image", "write_png", "as_rgb_uint8", "sha256_file", "sha256_array", "max_image_pixels"]


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_array(image: np.ndarray) -> str:
    """The hex sha256 of an array's shape, dtype and bytes (a cache key for in-memory images)."""
    digest = hashlib.sha256()
    digest.update(f"{image.shape}|{image.dtype}".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def as_rgb_uint8(image: np.ndarray, *, name: str = "image") -> np.ndarray:
    """Check (and, for grayscale, expand) an in-memory image to RGB ``uint8`` ``(H, W, 3)``."""
    if not isinstance(image, np.ndarray):
        raise ImageReadError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ImageReadError(f"{name} must have dtype uint8, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageReadError(f"{name} must have shape (H, W, 3), got {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageReadError(f"{name} is empty: shape {image.shape}")
    return np.ascontiguousarray(image)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB ``uint8`` ``(H, W, 3)`` (conversions in the module docstring)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"image file not found: {path}")
    if path.is_dir():
        raise ImageReadError(f"expected an image file, got a folder: {path}")
    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below decides
            with Image.open(path) as img:
                w, h = img.size
                if w * h > limit:
                    raise ImageReadError(_too_large(path, w, h, limit))
                img.load()
                return _pil_to_rgb(img, path)
    except Image.DecompressionBombError:
        raise ImageReadError(_too_large(path, 0, 0, limit)) from None
    except UnidentifiedImageError:
        raise ImageReadError(f"not a readable image file: {path}") from None
    except PermissionError:
        raise ImageReadError(f"cannot read image file {path}: permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        first = str(exc).strip().splitlines()
        raise ImageReadError(f"corrupt or truncated image file {path}: {first[0] if first else type(exc).__name__}") from None
    except MemoryError:
        raise ImageReadError(f"not enough memory to read image file {path}") from None


def max_image_pixels() -> int:
    """Largest image :func:`read_image` accepts, in pixels: ``DLIC_MAX_IMAGE_PIXELS`` or Pillow's hard limit.

    Pillow refuses images above twice its ``MAX_IMAGE_PIXELS`` (≈179 Mpx) as possible
    decompression bombs; ``DLIC_MAX_IMAGE_PIXELS`` can lower the limit, not raise it above Pillow's.
    """
    from PIL import Image

    pillow = 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else 1 << 62
    env = os.environ.get("DLIC_MAX_IMAGE_PIXELS", "").strip()
    if not env:
        return pillow
    try:
        value = int(float(env))
    except ValueError:
        raise ImageReadError(f"DLIC_MAX_IMAGE_PIXELS must be a number of pixels, got {env!r}") from None
    if value < 1:
        raise ImageReadError(f"DLIC_MAX_IMAGE_PIXELS must be positive, got {env!r}")
    return min(value, pillow)


def _too_large(path: Path, w: int, h: int, limit: int) -> str:
    size = f"{w}×{h} = {w * h / 1e6:.0f} Mpx" if w and h else "more pixels than Pillow allows"
    return (f"image file {path} is too large ({size}; the limit is {limit / 1e6:.0f} Mpx, a guard against "
            "decompression bombs; DLIC_MAX_IMAGE_PIXELS sets a lower one)")


def _pil_to_rgb(img, path: Path) -> np.ndarray:
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img, dtype=np.uint8).copy()
    if mode in ("L", "1"):
        return np.repeat(np.asarray(img.convert("L"), dtype=np.uint8)[:, :, None], 3, axis=2)
    if mode == "P":
        has_alpha = "transparency" in img.info or img.palette.mode == "RGBA"
        img = img.convert("RGBA" if has_alpha else "RGB")
        mode = img.mode
        if mode == "RGB":
            return np.asarray(img, dtype=np.uint8).copy()
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        arr = np.asarray(img.convert("RGBA"), dtype=np.uint8)
        if (arr[:, :, 3] != 255).any():
            raise ImageReadError(
                f"{path} has transparent pixels (mode {img.mode}); remove the alpha channel or flatten it first"
            )
        return arr[:, :, :3].copy()
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        if arr.max() > 65535 or arr.min() < 0:
            raise ImageReadError(f"{path} is a {mode} image with values outside 0..65535")
        g = np.rint(arr / 257.0).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)
    raise ImageReadError(f"{path}: image mode {mode!r} is not supported (expected RGB, grayscale, palette or opaque RGBA)")


def write_png(path: str | Path, image: np.ndarray, *, inputs=()) -> Path:
    """Write an RGB ``uint8`` image as PNG, by the library's output policy (:mod:`dlic_lib.outputs`)."""
    from PIL import Image

    from ..outputs import atomic_path

    image = as_rgb_uint8(image)
    with atomic_path(path, inputs=inputs, what="image") as tmp:
        Image.fromarray(image, "RGB").save(tmp, format="PNG")
    return Path(path)
