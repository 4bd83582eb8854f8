"""Variational codecs of seed 003 (§4.3, §5.4) with rANS-coded latents, plain or with closed-loop intra prediction.

=================  ===================================================  ============================
codec              what is coded                                        prediction
=================  ===================================================  ============================
``vae``            the image (``patch=0``) or independent P×P patches   none
``vae-intra-ae``   32×32 residuals ``x − AE1(context)``                 frozen ``intra-ae1``
``vae-embedded``   P×P residuals ``x − f(TL, T, TR, L)``                Table 4.4's predictor, trained
                                                                        jointly with the VAE
=================  ===================================================  ============================

The VAE is Table 4.3's (``jung2021-vae``: 9×9/5×5 GDN transforms, first stride 2, factorised
entropy model); its rate parameter is the λ it was trained for. The latents of all patches of an
image are coded as one rANS string (the factorised prior is position-independent, so patches are
stacked along the latent's height): a single flush instead of one per patch. Intra variants are
closed-loop: patches are decoded along anti-diagonals (:mod:`dlic_lib.predictive.schedule`), each
prediction is made from the decoded canvas and rounded to 8 bits, and the decoder runs the same
synthesis on the same batches as the encoder, so ``decode(file)`` reproduces the encoder's canvas
bit for bit (on one machine and thread count: the transforms are float networks).

Stored bytes: ``"VI" | version | variant | width, height (uint16) | P (uint8) | λ index (uint8) |
weights sha256[:8] | rANS string`` (18-byte header; the string is everything after it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DlicError
from .base import Codec, CodecUnavailableError, QualitySpec

__all__ = ["VaeIntraCodec", "VAE_CODECS", "LAMBDAS"]

#: the λ of the thesis' VAEs (§5.4.1), high rate to low rate
LAMBDAS: tuple[float, ...] = (0.5, 0.1, 0.05, 0.01, 0.005, 0.001, 0.0001)
_VARIANTS = ("vae", "vae-intra-ae", "vae-embedded")
MAGIC, VERSION, HEADER_BYTES = b"VI", 1, 18


def _fingerprint(*nets: Any) -> str:
    from .rnn import combined_fingerprint

    return combined_fingerprint(*nets)


class VaeIntraCodec(Codec):
    """Table 4.3's VAE, alone or coding the residual of an intra prediction (see the module docstring)."""

    kind = "learned"
    library = "dlic"
    quality_spec = QualitySpec("lmbda", min(LAMBDAS), max(LAMBDAS), 0.01, values=LAMBDAS, increasing=True,
                               meaning="λ of the rate-distortion loss λ·255²·MSE + bpp the VAE was trained with")
    bitstream = "18-byte header (size, patch, λ, weights sha256) + one rANS string of all latents"

    def __init__(self, variant: str, *, patch: int | None = None, vae: Any = None, ae1: Any = None, predictor: Any = None,
                 profile: str = "quick", device: str | None = None) -> None:
        if variant not in _VARIANTS:
            raise DlicError(f"unknown VAE codec {variant!r}; known: {', '.join(_VARIANTS)}")
        default = {"vae": 0, "vae-intra-ae": 32, "vae-embedded": 32}[variant]
        patch = default if patch is None else patch
        allowed = {"vae": (0, 32, 64, 128), "vae-intra-ae": (32,), "vae-embedded": (32, 64)}[variant]
        if patch not in allowed:
            raise DlicError(f"{variant}: patch must be one of {list(allowed)}, got {patch!r}")
        self.name = variant
        super().__init__(patch=patch, profile=profile)
        self._user = {"vae": vae, "ae1": ae1, "predictor": predictor}
        self._device_choice = device
        self._loaded: dict[float, tuple] = {}

    @property
    def colour(self) -> str:
        return "RGB in [0, 1] (no colour transform)"

    def version(self) -> str:
        return "dlic-vae-intra 1"

    def device(self) -> str:
        from ..device import resolve_device

        return resolve_device(self._device_choice)

    def available(self) -> tuple[bool, str]:
        try:
            self._weights(self.quality_spec.default)
        except DlicError as exc:
            return False, str(exc)
        return True, ""

    def cache_token(self) -> str | None:
        return None if any(v is not None for v in self._user.values()) else self._weights(self.quality_spec.default)[3]

    def weights_label(self, quality=None) -> str | None:
        return f"sha256:{self._weights(self.quality_spec.default if quality is None else quality)[3][:12]}"

    # --- weights -----------------------------------------------------------------------------
    def _objective(self) -> str:
        return {"vae": "mse", "vae-intra-ae": "residual-ae1", "vae-embedded": f"embedded-p{self.options['patch']}"}[self.name]

    def _zoo(self, architecture: str, lmbda: float | None, objective: str | None) -> Any:
        from .. import zoo

        profile = self.options["profile"]
        key = {"lmbda": lmbda} if lmbda is not None else None
        task = "predictive" if lmbda is not None else None
        entry = zoo.find(architecture, task=task, objective=objective, rate_key=key, profile=profile)
        if entry is None:
            what = f"{architecture} ({objective}, λ = {lmbda:g})" if lmbda is not None else architecture
            raise CodecUnavailableError(f"{self.name}: no {profile} release of {what} in the checkpoint zoo; train it "
                                        f"with 'dlic train --task predictive --profile {profile}' (what chapter "
                                        "05_predictive_codecs trains)")
        return zoo.load_model(entry)

    def _weights(self, lmbda: float) -> tuple[Any, Any, Any, str]:
        """``(vae, ae1, predictor, sha256)`` for ``lmbda``."""
        lmbda = float(lmbda)
        if lmbda not in self._loaded:
            user = self._user
            vae = user["vae"] if user["vae"] is not None else self._zoo("jung2021-vae", lmbda, self._objective())
            ae1 = pred = None
            if self.name == "vae-intra-ae":
                ae1 = user["ae1"] if user["ae1"] is not None else self._zoo("intra-ae1", None, None)
            if self.name == "vae-embedded":
                pred = user["predictor"] if user["predictor"] is not None else self._zoo(
                    "jung2021-embedded-intra", lmbda, self._objective())
            device = self.device()
            vae.update(force=True)
            for net in (vae, ae1, pred):
                if net is not None:
                    net.eval().to(device)
            self._loaded[lmbda] = (vae, ae1, pred, _fingerprint(vae, ae1, pred))
        return self._loaded[lmbda]

    # --- predictions -------------------------------------------------------------------------
    def _predict(self, canvas: np.ndarray, index: np.ndarray, p: int, ae1: Any, pred: Any) -> np.ndarray:
        """(B, 3, P, P) 8-bit predictions of the patches ``index`` from the decoded canvas (int64)."""
        import torch

        from ..intra.context import block_neighbours, masked_contexts

        nb = block_neighbours(canvas, p)[index]  # (B, 4, P, P, 3)
        if self.name == "vae-intra-ae":
            x, net = masked_contexts(nb).transpose(0, 3, 1, 2), ae1
        else:
            x, net = nb.transpose(0, 1, 4, 2, 3).reshape(len(index), 12, p, p), pred
        with torch.no_grad():
            t = torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0).to(self.device())
            y = net(t).float().clamp_(0, 1).mul_(255.0).round_()
        return y.to(torch.int64).cpu().numpy()

    # --- coding ------------------------------------------------------------------------------
    def _layout(self, height: int, width: int) -> tuple[int, int, int]:
        """Patch side (the padded image for ``patch=0``), rows, cols of the padded image."""
        p = self.options["patch"]
        if p == 0:
            return 0, -(-height // 8) * 8, -(-width // 8) * 8
        return p, -(-height // p), -(-width // p)

    def _code_step(self, vae, x_res, torch):
        """Latents (B, M, h, w) dequantised exactly as the decoder will see them, and their symbols' strings."""
        y = vae.g_a(x_res)
        b, m, h, w = y.shape
        stacked = y.permute(1, 0, 2, 3).reshape(1, m, b * h, w)
        strings = vae.entropy_bottleneck.compress(stacked)
        y_hat = vae.entropy_bottleneck.decompress(strings, stacked.shape[-2:])
        return y_hat.reshape(m, b, h, w).permute(1, 0, 2, 3).contiguous()

    def encode_patches(self, image: np.ndarray, quality) -> tuple[np.ndarray, bytes]:
        """The encoder's reconstruction (padded, uint8) and the file's bytes."""
        import torch

        from ..predictive.schedule import waves

        lmbda = float(quality)
        vae, ae1, pred, sha = self._weights(lmbda)
        height, width = image.shape[:2]
        if width > 65535 or height > 65535:
            raise DlicError(f"{self.name}: image size {width}×{height} is outside 1..65535")
        p, a, b = self._layout(height, width)
        side = (p * a, p * b) if p else (a, b)
        padded = np.pad(image, ((0, side[0] - height), (0, side[1] - width), (0, 0)), mode="edge")
        canvas = np.zeros_like(padded)
        latents = []
        dev = self.device()
        steps = [np.array([0])] if p == 0 else waves(a, b, "independent" if self.name == "vae" else "wavefront")
        with torch.no_grad():
            for index in steps:
                x = self._blocks(padded, index, p, b)
                base = np.zeros_like(x) if self.name == "vae" else self._predict(canvas, index, p, ae1, pred)
                res = torch.from_numpy((x - base).astype(np.float32) / 255.0).to(dev)
                y_hat = self._code_step(vae, res, torch)
                latents.append(y_hat)
                self._paste(canvas, index, p, b, self._reconstruct(vae, y_hat, base, torch))
            y_all = torch.cat(latents)
            n, m, h, w = y_all.shape
            strings = vae.entropy_bottleneck.compress(y_all.permute(1, 0, 2, 3).reshape(1, m, n * h, w))
        head = (MAGIC + bytes([VERSION, _VARIANTS.index(self.name)]) + width.to_bytes(2, "big")
                + height.to_bytes(2, "big") + bytes([p, LAMBDAS.index(lmbda)]) + bytes.fromhex(sha[:16]))
        return canvas, head + strings[0]

    def _encode(self, image: np.ndarray, quality) -> bytes:
        return self.encode_patches(image, quality)[1]

    @staticmethod
    def _blocks(image: np.ndarray, index: np.ndarray, p: int, cols: int) -> np.ndarray:
        if p == 0:
            return image.transpose(2, 0, 1)[None].astype(np.int64)
        r, c = index // cols, index % cols
        out = [image[y * p:(y + 1) * p, x * p:(x + 1) * p] for y, x in zip(r, c)]
        return np.stack(out).transpose(0, 3, 1, 2).astype(np.int64)

    @staticmethod
    def _paste(canvas: np.ndarray, index: np.ndarray, p: int, cols: int, patches: np.ndarray) -> None:
        if p == 0:
            canvas[:] = patches[0].transpose(1, 2, 0)
            return
        for i, q in zip(index, patches):
            y, x = divmod(int(i), cols)
            canvas[y * p:(y + 1) * p, x * p:(x + 1) * p] = q.transpose(1, 2, 0)

    @staticmethod
    def _reconstruct(vae, y_hat, base: np.ndarray, torch) -> np.ndarray:
        out = vae.g_s(y_hat).float().mul_(255.0).cpu().numpy().astype(np.float64)
        return np.clip(np.round(base + out), 0, 255).astype(np.uint8)

    def decode(self, data: bytes) -> np.ndarray:
        """The image of a file."""
        import torch

        from ..predictive.schedule import waves

        data = bytes(data)
        bad = DlicError(f"{self.name}: stored data is truncated or not a {self.name} bitstream")
        if len(data) <= HEADER_BYTES or data[:2] != MAGIC or data[2] != VERSION or data[3] >= len(_VARIANTS):
            raise bad
        if _VARIANTS[data[3]] != self.name:
            raise DlicError(f"{self.name}: the file was written by {_VARIANTS[data[3]]}")
        width, height = int.from_bytes(data[4:6], "big"), int.from_bytes(data[6:8], "big")
        p, li = data[8], data[9]
        if not width or not height or li >= len(LAMBDAS) or p != self.options["patch"]:
            raise DlicError(f"{self.name}: the file holds patch size {p}, this codec codes {self.options['patch']}")
        vae, ae1, pred, sha = self._weights(LAMBDAS[li])
        if data[10:18].hex() != sha[:16]:
            raise DlicError(f"{self.name}: the file was coded with weights {data[10:18].hex()}…, this codec has {sha[:16]}…")
        _, a, b = self._layout(height, width)
        side = (p * a, p * b) if p else (a, b)
        n, h, w = (1, a // 8, b // 8) if p == 0 else (a * b, p // 8, p // 8)
        try:
            y_all = vae.entropy_bottleneck.decompress([data[HEADER_BYTES:]], (n * h, w))
        except Exception:
            raise bad from None
        m = y_all.shape[1]
        y_all = y_all.reshape(m, n, h, w).permute(1, 0, 2, 3).contiguous()
        canvas = np.zeros((*side, 3), dtype=np.uint8)
        steps = [np.array([0])] if p == 0 else waves(a, b, "independent" if self.name == "vae" else "wavefront")
        with torch.no_grad():
            for index in steps:
                index_t = torch.from_numpy(np.asarray(index))
                base = (np.zeros((len(index), 3, *(side if p == 0 else (p, p))), dtype=np.int64) if self.name == "vae"
                        else self._predict(canvas, index, p, ae1, pred))
                self._paste(canvas, index, p, b, self._reconstruct(vae, y_all[index_t].to(self.device()), base, torch))
        return np.ascontiguousarray(canvas[:height, :width])


def _factory(variant: str):
    def build(**options: Any) -> VaeIntraCodec:
        return VaeIntraCodec(variant, **options)

    return build


#: registry name → factory
VAE_CODECS = {name: _factory(name) for name in _VARIANTS}
