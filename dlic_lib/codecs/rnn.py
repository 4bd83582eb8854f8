"""``rnn``: the recursive ConvLSTM codec (Toderici et al. 2017; seed 003 Table 4.2) with a real bitstream.

The image is padded to a multiple of 32 by edge replication and cut into 32×32 patches; all
patches run through the network in one batch per iteration (on CUDA when present). Each iteration
adds 2×2×32 bits per patch (0.125 bpp of the padded image); the rate parameter is the number of
iterations ``k``. Decoding uses the fixed-point twin of the decoder
(:mod:`dlic_lib.codecs.rnn_exact`), which the encoder runs too, so the file alone reproduces the
encoder's reconstruction bit for bit on any machine and thread count.

Stored bytes (all counted in the bpp)::

    "RN" | version·16 + mode (uint8) | width, height (uint16 BE) | k (uint8) | weights sha256[:8]
    mode 0 (raw):     the k·32·(2·H/32)·(2·W/32) code bits, packed MSB first
    mode 1 (entropy): payload length (LEB128) | context-adaptive arithmetic code of the same bits

The bits are the ``(k, 32, 2·H/32, 2·W/32)`` code map (a patch's 2×2 code at its place in the
patch grid), iteration-major. The raw mode's rate is exactly ``0.125·k`` bpp plus the 16-byte
header on sizes that are multiples of 32, the rate the seeds report; the entropy mode
(:mod:`dlic_lib.entropy`) codes the same bits losslessly with fewer bytes.

Weights: ``model=`` (a :class:`~dlic_lib.models.recurrent.RecurrentCodec`), ``checkpoint=`` (a
file saved by the training task), or the checkpoint zoo's release of ``toderici2017-rnn`` for
``profile=`` (``quick`` or ``full``). The header names the weights by the first 8 bytes of the
sha256 of their float32 values; decoding with other weights is an error.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DlicError
from .base import Codec, CodecUnavailableError, CodedImage, QualitySpec

__all__ = ["RnnCodec", "weights_fingerprint", "HEADER_BYTES", "ARCHITECTURE"]

ARCHITECTURE = "toderici2017-rnn"
MAGIC = b"RN"
VERSION = 1
MODES = {"raw": 0, "entropy": 1}
#: bytes of the fixed header (both modes; the entropy mode adds its payload length)
HEADER_BYTES = 16
PATCH = 32


def weights_fingerprint(model: Any) -> str:
    """sha256 (hex) of a network's float32 weights in ``state_dict`` order, names included."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def combined_fingerprint(*nets: Any) -> str:
    """sha256 over the weights fingerprints of several networks (``None`` marks an absent one)."""
    import hashlib

    h = hashlib.sha256()
    for net in nets:
        h.update(b"-" if net is None else bytes.fromhex(weights_fingerprint(net)))
    return h.hexdigest()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n >> 7 else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if pos >= len(data) or shift > 35:
            raise DlicError("rnn: stored data is truncated or not an rnn bitstream")
        b = data[pos]
        n |= (b & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not b & 0x80:
            return n, pos


def load_checkpoint(path: str | Path) -> Any:
    """The :class:`RecurrentCodec` saved in ``path`` (``{"architecture", "build", "state_dict"}``)."""
    import torch

    from ..models import build_model

    path = Path(path)
    if not path.is_file():
        raise DlicError(f"rnn: checkpoint {str(path)!r} does not exist")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(blob.get("architecture", ARCHITECTURE), **blob.get("build", {}))
        model.load_state_dict(blob["state_dict"])
    except DlicError:
        raise
    except Exception as exc:
        raise DlicError(f"rnn: {str(path)!r} is not a checkpoint of {ARCHITECTURE} ({exc})") from None
    return model.eval()


class RnnCodec(Codec):
    """The recursive ConvLSTM codec: ``k`` iterations of 0.125 bpp, raw or entropy-coded bits."""

    name = "rnn"
    kind = "learned"
    library = "dlic"
    quality_spec = QualitySpec("iterations", 1, 16, 4, integer=True, increasing=True,
                               meaning="iterations k of the recursive codec (0.125·k bpp of raw bits)")
    #: the bits of ``k`` iterations are a prefix of those of ``k + 1``: :meth:`encode_qualities` codes all rates in one pass
    progressive = True
    bitstream = "16-byte dlic header (size, k, mode, weights sha256) + raw or arithmetic-coded code bits"

    def __init__(self, mode: str = "entropy", checkpoint: str | None = None, profile: str | None = None,
                 model: Any = None, device: str | None = None) -> None:
        if mode not in MODES:
            raise DlicError(f"rnn: mode must be 'raw' or 'entropy', got {mode!r}")
        if model is not None and checkpoint is not None:
            raise DlicError("rnn: give either model= or checkpoint=, not both")
        opts: dict[str, Any] = {"mode": mode}
        if checkpoint is not None:
            opts["checkpoint"] = str(checkpoint)
        if profile is not None:
            opts["profile"] = str(profile)
        super().__init__(**opts)
        self._user = model
        self._device_choice = device
        self._loaded: tuple[Any, Any, str, str] | None = None

    # --- description -------------------------------------------------------------------------
    @property
    def colour(self) -> str:
        return "RGB in [0, 1] (no colour transform)"

    def version(self) -> str:
        return f"dlic-rnn {VERSION}"

    def device(self) -> str:
        from ..device import resolve_device

        return resolve_device(self._device_choice)

    def available(self) -> tuple[bool, str]:
        try:
            self._weights()
        except DlicError as exc:
            return False, str(exc)
        return True, ""

    def params(self, quality) -> dict[str, Any]:
        return {"quality": quality, "mode": self.options["mode"], "weights": self.weights_label(quality)}

    def cache_token(self) -> str | None:
        return None if self._user is not None else self._weights()[3]

    def weights_label(self, quality=None) -> str | None:
        return self._weights()[2]

    # --- weights -----------------------------------------------------------------------------
    def _weights(self) -> tuple[Any, Any, str, str]:
        """``(model, exact decoder, label, sha256)``, resolved once."""
        if self._loaded is None:
            from .rnn_exact import ExactDecoder

            if self._user is not None:
                model, label = self._user.eval(), "user-model"
            elif "checkpoint" in self.options:
                model = load_checkpoint(self.options["checkpoint"])
                label = f"checkpoint:{Path(self.options['checkpoint']).name}"
            else:
                model, label = self._from_zoo()
            if getattr(model, "bits", 32) != 32:
                raise DlicError(f"rnn: the bitstream holds 32 code bits per position; this network has {model.bits}")
            sha = weights_fingerprint(model)
            if label == "user-model":
                label = f"user-model:{sha[:12]}"
            device = self.device()
            self._loaded = (model.to(device), ExactDecoder(model.decoder, device), label, sha)
        return self._loaded

    def _from_zoo(self) -> tuple[Any, str]:
        from .. import zoo

        profile = self.options.get("profile", "quick")
        entry = zoo.find(ARCHITECTURE, task="recurrent", objective="l1", profile=profile)
        if entry is None:
            raise CodecUnavailableError(
                f"rnn: no {profile} release of {ARCHITECTURE} is in the checkpoint zoo; train it with "
                f"'dlic train --task recurrent --profile {profile}' (in Python: "
                f"dlic_lib.train.tasks.recurrent.train_recurrent({profile!r})) or pass checkpoint=PATH")
        return zoo.load_model(entry), f"dlic-checkpoint:{entry.sha256[:12]}"

    # --- coding ------------------------------------------------------------------------------
    def _patches(self, image: np.ndarray):
        import torch

        h, w = image.shape[:2]
        hp, wp = -(-h // PATCH), -(-w // PATCH)
        padded = np.pad(image, ((0, hp * PATCH - h), (0, wp * PATCH - w), (0, 0)), mode="edge")
        x = torch.from_numpy(padded).float().div_(255.0).permute(2, 0, 1)
        x = x.reshape(3, hp, PATCH, wp, PATCH).permute(1, 3, 0, 2, 4).reshape(hp * wp, 3, PATCH, PATCH)
        return x.contiguous(), hp, wp

    def _encode(self, image: np.ndarray, quality) -> bytes:
        return self._progressive(image, (int(quality),))[0][0]

    def _progressive(self, image: np.ndarray, ks: Sequence[int]) -> list[tuple[bytes, np.ndarray, float, float]]:
        """One pass of ``max(ks)`` iterations → per ``k`` in ``ks``: the file of the first ``k`` iterations,
        its decoded image (the exact twin the encoder runs, which is what :meth:`decode` computes from the
        file), the encoder's seconds up to ``k`` and the seconds of the twin's ``k`` steps."""
        import torch

        model, exact, _, sha = self._weights()
        height, width = image.shape[:2]
        if width > 65535 or height > 65535:
            raise DlicError(f"rnn: image size {width}×{height} is outside 1..65535")
        x, hp, wp = self._patches(image)
        x = x.to(self.device())
        codes, out_by_k, want = [], [], set(ks)
        t_enc = t_dec = 0.0
        with torch.no_grad():
            target = x.double() - 0.5
            r = x - 0.5
            enc_state = model.encoder.init_state(r)
            dec_state = exact.init_state(x.shape[0], 2, 2)
            total = torch.zeros_like(target)
            for k in range(1, max(ks) + 1):
                t0 = time.perf_counter()
                code, enc_state = model.encoder(r, enc_state)
                b = torch.where(code >= 0, 1.0, -1.0)
                t1 = time.perf_counter()
                out, dec_state = exact.step(b, dec_state)
                total += out
                t2 = time.perf_counter()
                r = (target - total * 2.0 ** -(_act_bits() + 1)).float()
                codes.append(b.cpu())
                t_enc, t_dec = t_enc + t2 - t0, t_dec + t2 - t1
                if k in want:
                    t3 = time.perf_counter()
                    data = self._pack(self._code_map(torch.stack(codes), hp, wp), width, height, k, sha)
                    decoded = _to_image(total.cpu(), hp, wp, height, width)
                    out_by_k.append((k, data, decoded, t_enc + time.perf_counter() - t3, t_dec))
        by_k = {k: rest for k, *rest in out_by_k}
        return [tuple(by_k[int(k)]) for k in ks]

    def encode_qualities(self, image: np.ndarray, qualities: Sequence[int], *, use_cache: bool = True) -> list[CodedImage]:
        """Code ``image`` at several iteration counts in one pass (the bits of ``k`` are a prefix of those
        of ``k + 1``). ``decode_s`` is the time of the exact decoder's steps in that pass — the work
        :meth:`decode` repeats from the file, with the same result bit for bit (tested)."""
        from ..data.images import as_rgb_uint8
        from .cache import cache_key, load_cached, store_cached

        image = as_rgb_uint8(image)
        qs = [self.quality_spec.check(q, self.name) for q in qualities]
        self.require_available()
        keys = {q: cache_key(self, image, q) if use_cache else None for q in qs}
        done = {q: CodedImage(**hit) for q in qs if keys[q] and (hit := load_cached(self, keys[q])) is not None}
        todo = sorted({q for q in qs if q not in done})
        if todo:
            for q, (data, decoded, enc_s, dec_s) in zip(todo, self._progressive(image, todo)):
                done[q] = self._record(image, q, data, decoded, enc_s, dec_s)
                if keys[q] is not None:
                    store_cached(self, keys[q], done[q])
        return [done[q] for q in qs]

    @staticmethod
    def _code_map(codes, hp: int, wp: int) -> np.ndarray:
        """``(k, N, C, 2, 2)`` ±1 codes → ``(k, C, 2·hp, 2·wp)`` 0/1 map."""
        k, n, c = codes.shape[:3]
        m = codes.reshape(k, hp, wp, c, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(k, c, 2 * hp, 2 * wp)
        return (m.numpy() > 0).astype(np.uint8)

    @staticmethod
    def _codes(bits: np.ndarray):
        """Inverse of :meth:`_code_map`: ``(k, N, C, 2, 2)`` ±1 float tensor."""
        import torch

        k, c, h2, w2 = bits.shape
        t = torch.from_numpy(bits.astype(np.float32) * 2 - 1)
        return t.reshape(k, c, h2 // 2, 2, w2 // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(k, -1, c, 2, 2)

    def _pack(self, bits: np.ndarray, width: int, height: int, k: int, sha: str) -> bytes:
        from ..entropy import encode_bitplanes

        mode = MODES[self.options["mode"]]
        header = (MAGIC + bytes([VERSION * 16 + mode]) + width.to_bytes(2, "big") + height.to_bytes(2, "big")
                  + bytes([k]) + bytes.fromhex(sha[:16]))
        if mode == 0:
            return header + np.packbits(bits.ravel()).tobytes()
        payload = encode_bitplanes(bits)
        return header + _varint(len(payload)) + payload

    @staticmethod
    def parse_header(data: bytes) -> dict[str, Any]:
        """The header fields of an ``rnn`` file: ``mode``, ``width``, ``height``, ``iterations``, ``sha256_prefix``."""
        if len(data) < HEADER_BYTES or data[:2] != MAGIC or data[2] >> 4 != VERSION or (data[2] & 15) > 1:
            raise DlicError("rnn: stored data is truncated or not an rnn bitstream")
        width, height, k = int.from_bytes(data[3:5], "big"), int.from_bytes(data[5:7], "big"), data[7]
        if not width or not height or not k:
            raise DlicError("rnn: stored data is truncated or not an rnn bitstream")
        return {"mode": "raw" if data[2] & 15 == 0 else "entropy", "width": width, "height": height,
                "iterations": k, "sha256_prefix": data[8:16].hex()}

    def read_bits(self, data: bytes) -> tuple[dict[str, Any], np.ndarray]:
        """Header and the ``(k, 32, 2·H/32, 2·W/32)`` code bits of a file (no network needed)."""
        from ..entropy import decode_bitplanes

        head = self.parse_header(data)
        hp, wp = -(-head["height"] // PATCH), -(-head["width"] // PATCH)
        shape = (head["iterations"], 32, 2 * hp, 2 * wp)
        bad = DlicError("rnn: stored data is truncated or not an rnn bitstream")
        if head["mode"] == "raw":
            n = int(np.prod(shape))
            if len(data) != HEADER_BYTES + -(-n // 8):
                raise bad
            bits = np.unpackbits(np.frombuffer(data, np.uint8, offset=HEADER_BYTES))[:n].reshape(shape)
        else:
            size, pos = _read_varint(data, HEADER_BYTES)
            if pos + size != len(data):
                raise bad
            bits = decode_bitplanes(data[pos:], shape)
        return head, bits

    def decode(self, data: bytes, quality: int | None = None) -> np.ndarray:
        """The image of an ``rnn`` file (self-describing; ``quality``, if given, must equal its iteration count)."""
        import torch

        head, bits = self.read_bits(bytes(data))
        if quality is not None and int(quality) != head["iterations"]:
            raise DlicError(f"rnn: the file holds {head['iterations']} iterations, not {quality}")
        model, exact, _, sha = self._weights()
        if head["sha256_prefix"] != sha[:16]:
            raise DlicError(f"rnn: the file was coded with weights {head['sha256_prefix']}…, "
                            f"this codec has {sha[:16]}…")
        codes = self._codes(bits)
        hp, wp = bits.shape[2] // 2, bits.shape[3] // 2
        with torch.no_grad():
            state = exact.init_state(codes.shape[1], 2, 2)
            total = None
            for b in codes:
                out, state = exact.step(b, state)
                total = out if total is None else total + out
        return _to_image(total.cpu(), hp, wp, head["height"], head["width"])


def _act_bits() -> int:
    from .rnn_exact import ACT_BITS

    return ACT_BITS


def _to_image(total, hp: int, wp: int, height: int, width: int) -> np.ndarray:
    """RGB uint8 from the summed integer corrections (grid ``2^−(A+1)``): ``round(255·(0.5 + Σ))``, exact."""
    a1 = _act_bits() + 1
    t = total.numpy().astype(np.int64)  # exact integers
    v = (255 * t + (255 << a1) // 2 + (1 << (a1 - 1))) >> a1  # round-half-up of 255·(½ + t·2^−a1)
    img = np.clip(v, 0, 255).astype(np.uint8)
    img = img.reshape(hp, wp, 3, PATCH, PATCH).transpose(0, 3, 1, 4, 2).reshape(hp * PATCH, wp * PATCH, 3)
    return np.ascontiguousarray(img[:height, :width])
