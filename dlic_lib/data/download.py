"""HTTP(S) download with a progress bar and sha256 verification."""

from __future__ import annotations

import hashlib

from ..errors import ChecksumError, DlicError

__all__ = ["download_file"]


def download_file(url: str, *, expected_sha256: str | None = None, progress: bool = True, timeout: float = 60.0) -> bytes:
    """Download ``url`` into memory, showing progress; verify sha256 when given."""
    import requests

    from ..progress import task

    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length") or 0) or None
            digest = hashlib.sha256()
            chunks = []
            with task(url.rsplit("/", 1)[-1], total, unit="B", scale=True, enabled=progress) as bar:
                for chunk in response.iter_content(chunk_size=1 << 16):
                    chunks.append(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except requests.RequestException as exc:
        raise DlicError(f"download of {url} failed: {exc.__class__.__name__}: {exc}") from None
    if expected_sha256 and digest.hexdigest() != expected_sha256:
        raise ChecksumError(
            f"checksum mismatch for download {url}: sha256 {digest.hexdigest()[:16]}… but the manifest expects "
            f"{expected_sha256[:16]}…; the file was not used"
        )
    return b"".join(chunks)
