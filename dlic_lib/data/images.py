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
from pathlib import Path

import numpy as np

from ..errors import ImageReadError

__all__ = ["read_image", "write_png", "as_rgb_uint8", "sha256_file", "sha256_array"]


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
    try:
        with Image.open(path) as img:
            img.load()
            return _pil_to_rgb(img, path)
    except UnidentifiedImageError:
        raise ImageReadError(f"not a readable image file: {path}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"corrupt or truncated image file {path}: {exc}") from None


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


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write an RGB ``uint8`` image as PNG (atomically: a temporary file then a rename)."""
    from PIL import Image

    image = as_rgb_uint8(image)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    Image.fromarray(image, "RGB").save(tmp, format="PNG")
    tmp.replace(path)
    return path
