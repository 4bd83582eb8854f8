"""On-disk cache of coded images under ``cache_dir()/codecs/<codec>/``.

Key: sha256 of (image sha256, codec name, all parameters, library version, the codec's cache
token such as a weights hash, cache format). Each entry is one ``.npz`` file holding the stored
bytes, the decoded image and the timings, written to a temporary file and renamed, so a killed
run never leaves a half-written entry. A corrupt entry is ignored and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..config import cache_dir
from ..data.images import sha256_array


__all__ = ["cache_key", "cache_path", "load_cached", "store_cached", "CACHE_FORMAT"]

CACHE_FORMAT = 1


def cache_key(codec: Any, image: np.ndarray, quality: float | int) -> str | None:
    """The entry key, or ``None`` when the codec cannot be cached (e.g. a user-supplied model)."""
    token = codec.cache_token()
    if token is None:
        return None
    payload = {
        "image": sha256_array(image),
        "codec": codec.name,
        "params": codec.params(quality),
        "version": codec.version(),
        "token": token,
        "format": CACHE_FORMAT,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cache_path(codec_name: str, key: str) -> Path:
    return cache_dir() / "codecs" / codec_name / key[:2] / f"{key}.npz"


def load_cached(codec: Any, key: str) -> dict | None:
    """The fields of a cached :class:`~dlic_lib.codecs.base.CodedImage` (``CodedImage(**fields)``), or ``None``."""
    path = cache_path(codec.name, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            data = z["data"].tobytes()
            decoded = z["decoded"].copy()
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return None
    return {"data": data, "decoded": decoded, "cached": True, **meta}


def store_cached(codec: Any, key: str, coded: Any) -> Path:
    from ..outputs import atomic_path

    path = cache_path(codec.name, key)
    meta = {
        k: getattr(coded, k)
        for k in (
            "codec", "quality", "params", "width", "height", "chroma", "library", "version",
            "encode_s", "decode_s", "weights",
        )
    }
    with atomic_path(path, what="codec cache entry") as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            meta=np.frombuffer(json.dumps(meta, default=str).encode(), dtype=np.uint8),
            data=np.frombuffer(coded.data, dtype=np.uint8),
            decoded=coded.decoded,
        )
    return path
