"""Learned codecs through CompressAI, with real entropy coding (``compress`` / ``decompress``).

Weights for ``(architecture, metric, quality)`` are resolved in this order:

1. a model passed in (``model=`` a module for every quality, or ``{quality: module}``) → ``"user-model"``;
2. CompressAI's pretrained zoo, unless ``DLIC_OFFLINE=1``, ``weights="book"`` or the download fails
   → ``"compressai-pretrained"``;
3. a checkpoint made by ``dlic train`` and found in the zoo (:func:`dlic_lib.zoo.resolve_model`)
   → ``"dlic-checkpoint:<sha256[:12]>"``;
4. otherwise a :class:`~dlic_lib.errors.DlicError` saying how to train the missing checkpoint.

The image is padded (edge replication) to the model's stride (16 for the factorized prior, 64
otherwise), coded, decoded and cropped back. Stored bytes (all counted in the bpp)::

    "DL" | format (uint8, 1) | architecture (uint8) | metric (uint8) | quality (uint8) | weights (6 bytes)
    | width (uint16 BE) | height (uint16 BE) | n_strings (uint8) | n_strings × (LEB128 length | bytes)

The 12-byte header makes every file self-describing: the architecture (:data:`ARCHITECTURE_CODES`),
the objective (:data:`METRIC_CODES`), the quality and the first 6 bytes of the weights' sha256 (the
release file's, or of the ``state_dict`` tensors for pretrained and user models). Decoding reads
the quality from the file and refuses a file made by another architecture, objective, quality or
set of weights. The latent shape is recomputed from the padded size, so nothing else is stored. On CUDA, images
of the same size are coded in batches (:meth:`LearnedCodec.encode_many`).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..config import offline
from ..data.images import as_rgb_uint8
from ..errors import DlicError
from .base import Codec, CodedImage, CodecUnavailableError, QualitySpec

__all__ = ["LearnedCodec", "LEARNED_ARCHITECTURES", "LearnedHeader", "pack_strings", "unpack_strings", "weights_digest"]

#: the CompressAI architectures of :mod:`dlic_lib.models.compressai_models` (named here so that importing
#: the codecs does not load the networks); their order gives the header codes, so it only grows at the end
LEARNED_ARCHITECTURES: tuple[str, ...] = ("bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean", "mbt2018", "cheng2020-anchor")
METRICS = ("mse", "ms-ssim")
#: one byte per architecture and objective in the stored header (append only: files keep their meaning)
ARCHITECTURE_CODES: dict[str, int] = {name: i + 1 for i, name in enumerate(LEARNED_ARCHITECTURES)}
METRIC_CODES: dict[str, int] = {"mse": 0, "ms-ssim": 1}
MAGIC, FORMAT = b"DL", 1
WEIGHTS_BYTES = 6
HEADER_SIZE = 6 + WEIGHTS_BYTES


@dataclass(frozen=True)
class LearnedHeader:
    """What a learned-codec file says about the model that made it."""

    architecture: str
    metric: str
    quality: int
    weights: str  # the first ``2·WEIGHTS_BYTES`` hex digits of the weights' sha256

    def to_bytes(self) -> bytes:
        return MAGIC + bytes([FORMAT, ARCHITECTURE_CODES[self.architecture], METRIC_CODES[self.metric], self.quality]) + \
            bytes.fromhex(self.weights[: 2 * WEIGHTS_BYTES])

    @classmethod
    def parse(cls, data: bytes, codec: str = "learned codec") -> tuple["LearnedHeader", bytes]:
        """The header of ``data`` and the bytes after it; a clear error for any other content."""
        if len(data) < HEADER_SIZE or data[:2] != MAGIC:
            raise DlicError(f"{codec}: the data is not a dlic learned-codec file (no header; files written before "
                            "learned files carried their model must be encoded again)")
        version, arch, metric, quality = data[2:6]
        names = {v: k for k, v in ARCHITECTURE_CODES.items()}
        metrics = {v: k for k, v in METRIC_CODES.items()}
        if version != FORMAT or arch not in names or metric not in metrics:
            raise DlicError(f"{codec}: the file's header is not one this version of dlic reads (format {version}, model code {arch})")
        return cls(names[arch], metrics[metric], quality, data[6:HEADER_SIZE].hex()), data[HEADER_SIZE:]


def weights_digest(model: Any) -> str:
    """sha256 of a network's ``state_dict`` (names, dtypes, shapes and bytes of every tensor, in order)."""
    import hashlib

    import torch

    h = hashlib.sha256()
    for key, value in model.state_dict().items():
        t = value.detach().cpu().contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update((t.float() if t.dtype == torch.bfloat16 else t).numpy().tobytes())
    return h.hexdigest()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pack_strings(width: int, height: int, strings: list[bytes]) -> bytes:
    """The stored form of one image's entropy-coded strings (format in the module docstring)."""
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise DlicError(f"image size {width}×{height} is outside 1..65535")
    out = bytearray(width.to_bytes(2, "big") + height.to_bytes(2, "big") + bytes([len(strings)]))
    for s in strings:
        out += _varint(len(s)) + s
    return bytes(out)


def unpack_strings(data: bytes, codec: str = "learned codec") -> tuple[int, int, list[bytes]]:
    bad = DlicError(f"{codec}: stored data is truncated or not in dlic's learned-codec format")
    if len(data) < 6:
        raise bad
    width, height, count = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big"), data[4]
    pos, strings = 5, []
    for _ in range(count):
        n, shift = 0, 0
        while True:
            if pos >= len(data) or shift > 35:
                raise bad
            b = data[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if pos + n > len(data):
            raise bad
        strings.append(bytes(data[pos:pos + n]))
        pos += n
    if pos != len(data) or width == 0 or height == 0 or count == 0:
        raise bad
    return width, height, strings


class LearnedCodec(Codec):
    """A CompressAI architecture at qualities 1–8, MSE- or MS-SSIM-optimised."""

    kind = "learned"
    library = "CompressAI"
    quality_spec = QualitySpec("quality", 1, 8, 4, integer=True, increasing=True,
                               values=tuple(range(1, 9)), meaning="CompressAI quality level (λ index)")
    bitstream = "dlic header (model, objective, quality, weights hash, size, string lengths) + CompressAI entropy-coded strings"

    def __init__(
        self,
        arch: str,
        metric: str = "mse",
        model: Any = None,
        device: str | None = None,
        batch_size: int | None = None,
        weights: str = "auto",
    ) -> None:
        if weights not in ("auto", "book"):
            raise DlicError(f"{arch}: weights must be 'auto' (pretrained when online, else the book's) or 'book', "
                            f"got {weights!r}")
        if arch not in LEARNED_ARCHITECTURES:
            raise DlicError(f"unknown learned codec {arch!r}; known: {', '.join(LEARNED_ARCHITECTURES)}")
        if metric not in METRICS:
            raise DlicError(f"{arch}: metric must be 'mse' or 'ms-ssim', got {metric!r}")
        super().__init__(metric=metric, **({"weights": "book"} if weights == "book" else {}))
        self.name = arch
        self._user = model
        self._device_choice = device
        self._batch_size = batch_size
        self._models: dict[int, tuple[Any, str]] = {}
        self._digests: dict[int, str] = {}

    # --- description -------------------------------------------------------------------------
    @property
    def colour(self) -> str:
        return "RGB in [0, 1] (no colour transform)"

    def available(self) -> tuple[bool, str]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import compressai  # noqa: F401
        except Exception as exc:  # pragma: no cover - compressai is a dependency
            return False, f"compressai cannot be imported ({exc})"
        if self._user is not None or not self._book_only():
            return True, ""
        try:
            from .. import zoo

            if zoo.entries(self.name, task="rd", objective=self.options["metric"]):
                return True, ""
        except Exception as exc:  # the checkpoint registry is unreadable
            return False, f"checkpoint registry unreadable ({exc})"
        why = "offline (DLIC_OFFLINE=1)" if offline() else "the book's weights asked for (weights=book)"
        return False, (f"{why} and no {self.options['metric']} checkpoint of {self.name} "
                       f"is registered; run 'dlic train --model {self.name}'"
                       + (" or allow downloads" if offline() else ""))

    def _book_only(self) -> bool:
        """True when only the book's checkpoints may be used (offline, or ``weights="book"``)."""
        return offline() or self.options.get("weights") == "book"

    def version(self) -> str:
        import compressai

        return f"compressai {compressai.__version__}"

    def device(self) -> str:
        from ..device import resolve_device

        return resolve_device(self._device_choice)

    def cache_token(self) -> str | None:
        return None if self._user is not None else self.options["metric"]

    def params(self, quality) -> dict[str, Any]:
        return {"quality": quality, "metric": self.options["metric"], "weights": self._weights_key(quality), "format": FORMAT}

    def _weights_key(self, quality) -> str:
        """Which weights would be used (resolving them, so the cache key names the exact model)."""
        return self._model(int(quality))[1]

    def weights_label(self, quality) -> str | None:
        return self._model(int(quality))[1]

    def search_values(self) -> list[int]:
        """The quality levels rate targeting may pick: the user's models, else those with weights."""
        if self._user is not None:
            return sorted(self._user) if isinstance(self._user, Mapping) else list(self.quality_spec.values)
        if self._book_only():
            from .. import zoo

            return sorted({e.quality for e in zoo.entries(self.name, task="rd", objective=self.options["metric"])})
        return list(self.quality_spec.values)

    # --- weights -----------------------------------------------------------------------------
    def _model(self, quality: int) -> tuple[Any, str]:
        if quality not in self._models:
            self._models[quality] = self._resolve(quality)
        return self._models[quality]

    def _resolve(self, quality: int) -> tuple[Any, str]:
        device = self.device()
        metric = self.options["metric"]
        if self._user is not None:
            model = self._user.get(quality) if isinstance(self._user, Mapping) else self._user
            if model is None:
                raise DlicError(f"{self.name}: no user model given for quality {quality}")
            return model.eval().to(device), "user-model"
        from .. import zoo

        try:
            model, label, entry = zoo.resolve_model(self.name, objective=metric, rate_key={"quality": quality}, device=device,
                                                    pretrained=not self._book_only())
        except zoo.MissingWeightsError as exc:
            raise CodecUnavailableError(str(exc)) from None
        if entry is not None:
            self._digests[quality] = entry.sha256
        return model, label

    def _header(self, quality: int) -> LearnedHeader:
        """The header of files coded at ``quality`` with the weights this codec resolves."""
        model, _ = self._model(quality)
        if quality not in self._digests:
            self._digests[quality] = weights_digest(model)
        return LearnedHeader(self.name, self.options["metric"], quality, self._digests[quality][: 2 * WEIGHTS_BYTES])

    def read_header(self, data: bytes) -> LearnedHeader:
        """The header of stored ``data``, refused unless it names this codec's architecture and objective."""
        header, _ = LearnedHeader.parse(data, self.name)
        if header.architecture != self.name:
            raise DlicError(f"{self.name}: the file was made by {header.architecture}; decode it with --codec {header.architecture}")
        if header.metric != self.options["metric"]:
            raise DlicError(f"{self.name}: the file was made by the {header.metric}-optimised model, not the "
                            f"{self.options['metric']} one; decode it with metric={header.metric}")
        return header

    def _stride(self, model: Any) -> int:
        return 16 if type(model).__name__ in ("FactorizedPrior", "FactorizedPriorReLU") else 64

    # --- coding ------------------------------------------------------------------------------
    def _to_batch(self, images: list[np.ndarray], stride: int, device: str):
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(255.0)
        h, w = x.shape[-2:]
        ph, pw = -(-h // stride) * stride, -(-w // stride) * stride
        if (ph, pw) != (h, w):
            x = F.pad(x, (0, pw - w, 0, ph - h), mode="replicate")
        return x.to(device)

    def _compress(self, images: list[np.ndarray], quality: int) -> list[bytes]:
        import torch

        model, _ = self._model(quality)
        stride = self._stride(model)
        x = self._to_batch(images, stride, self.device())
        with torch.inference_mode():
            out = model.compress(x)
        h, w = images[0].shape[:2]
        header = self._header(quality).to_bytes()
        return [header + pack_strings(w, h, [group[i] for group in out["strings"]]) for i in range(len(images))]

    def _decompress(self, blobs: list[bytes], quality: int) -> list[np.ndarray]:
        import torch

        model, _ = self._model(quality)
        stride = self._stride(model)
        expected = self._header(quality)
        parsed = []
        for blob in blobs:
            header = self.read_header(blob)
            if header.quality != quality:
                raise DlicError(f"{self.name}: the file was coded at quality {header.quality}, not {quality}")
            if header.weights != expected.weights:
                raise DlicError(f"{self.name}: the file was coded with weights {header.weights}…, but quality {quality} "
                                f"resolves to {self.weights_label(quality)} ({expected.weights}…); decode it with those weights")
            parsed.append(unpack_strings(blob[HEADER_SIZE:], self.name))
        w, h = parsed[0][0], parsed[0][1]
        n_groups = len(parsed[0][2])
        if any((p[0], p[1], len(p[2])) != (w, h, n_groups) for p in parsed):
            raise DlicError(f"{self.name}: a batch to decode must hold images of one size")
        strings = [[p[2][g] for p in parsed] for g in range(n_groups)]
        shape = (-(-h // stride), -(-w // stride))
        try:
            with torch.inference_mode():
                x = model.decompress(strings, shape)["x_hat"]
        except DlicError:
            raise
        except Exception as exc:
            raise DlicError(f"{self.name}: cannot decode the stored data with this model ({type(exc).__name__})") from None
        x = x[:, :, :h, :w].clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        return [np.ascontiguousarray(a) for a in x]

    def _encode(self, image: np.ndarray, quality: int) -> bytes:
        return self._compress([image], quality)[0]

    def decode(self, data: bytes, quality: int | None = None) -> np.ndarray:
        """Decode stored bytes with the model their header names; a given ``quality`` must agree with it."""
        header = self.read_header(data)
        if quality is not None and int(quality) != header.quality:
            raise DlicError(f"{self.name}: the file was coded at quality {header.quality}, not {quality}")
        return self._decompress([data], header.quality)[0]

    def encode(self, image: np.ndarray, quality=None, *, use_cache: bool = True) -> CodedImage:
        q = self.quality_spec.check(self.quality_spec.default if quality is None else quality, self.name)
        self._model(q)  # resolve first, so decode() uses the same model
        self._models[q] = self._models.pop(q)  # mark as most recent
        return super().encode(image, q, use_cache=use_cache)

    def encode_many(self, images: list[np.ndarray], quality: int, *, use_cache: bool = True) -> list[CodedImage]:
        """Code several images; on CUDA, same-size images are coded in batches (``batch_size``, default 8)."""
        from .cache import cache_key, load_cached, store_cached

        q = self.quality_spec.check(quality, self.name)
        self.require_available()
        images = [as_rgb_uint8(im) for im in images]
        results: list[CodedImage | None] = [None] * len(images)
        keys = [cache_key(self, im, q) if use_cache else None for im in images]
        todo = []
        for i, key in enumerate(keys):
            hit = load_cached(self, key) if key is not None else None
            if hit is not None:
                results[i] = CodedImage(**hit)
            else:
                todo.append(i)
        cuda = self.device().startswith("cuda")
        size = self._batch_size or (8 if cuda else 1)
        groups: dict[tuple[int, int], list[int]] = {}
        for i in todo:
            groups.setdefault(images[i].shape[:2], []).append(i)
        for idx in groups.values():
            for start in range(0, len(idx), size):
                chunk = idx[start:start + size]
                t0 = time.perf_counter()
                blobs = self._compress([images[i] for i in chunk], q)
                if cuda:
                    import torch

                    torch.cuda.synchronize()
                t1 = time.perf_counter()
                decoded = self._decompress(blobs, q)
                t2 = time.perf_counter()
                for i, blob, dec in zip(chunk, blobs, decoded):
                    coded = self._record(images[i], q, blob, dec, (t1 - t0) / len(chunk), (t2 - t1) / len(chunk))
                    if keys[i] is not None:
                        store_cached(self, keys[i], coded)
                    results[i] = coded
        return results  # type: ignore[return-value]
