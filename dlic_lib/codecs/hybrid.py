"""JPEG wrapped in CNNs (seed 001): every pipeline of the chapter as a codec with a real JPEG inside.

All code the luma plane only (Pillow's ``convert("L")``) and decode to a gray RGB image ``(Y, Y, Y)``:

* ``jpeg-y`` — the Y plane as a grayscale baseline JPEG (the stored file is exactly that JPEG);
* ``bicubic-jpeg`` — PIL bicubic ↓2, JPEG, PIL bicubic ↑2;
* ``cnn-yl``, ``cnn-fc-frame``, ``cnn-fc-block-pixel``, ``cnn-fc-block-dct``, ``cnn-rd``,
  ``cnn-rdv2``, ``cnn-mse`` — CNN-CR ↓2, JPEG, CNN-SR ↑2 (the decoded image is the CNN-SR
  reconstruction), with the weights each pipeline trains (:data:`PIPELINES`).

JPEG uses the IJG tables at the quality factor and, like the thesis, the standard Annex K Huffman
tables (``optimize=True`` for optimised ones). The down-sampled plane is rounded to ``uint8``
before coding. Stored bytes of the down/up pipelines (all counted in the bpp)::

    width (uint16 BE) | height (uint16 BE) | quality factor (uint8) | grayscale JFIF file of the LR plane

Odd sizes are padded by edge replication to even ones and cropped after up-sampling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DlicError
from ..jpeg import decode_luma, encode_luma, luma_to_rgb, pil_bicubic, rgb_to_luma
from .base import Codec, CodecUnavailableError, QualitySpec

__all__ = ["LumaJpegCodec", "BicubicJpegCodec", "CnnJpegCodec", "PIPELINES", "HYBRID_CODECS", "THESIS_QFS",
           "pack_hybrid", "unpack_hybrid"]

#: the quality factors of §4.1 at which the CNN pipelines are trained and evaluated
THESIS_QFS = (25, 55, 75, 90)

#: codec name → (zoo objective of its CNN-CR, of its CNN-SR, objective to fall back to, description)
PIPELINES: dict[str, tuple[str, str, str | None, str]] = {
    "cnn-yl": ("cnn-yl", "cnn-yl", None, "CNN-YL (Table 3.1 steps S1–S4)"),
    "cnn-fc-frame": ("cnn-fc-frame", "cnn-yl", None, "CNN-CR retrained through the frame FakeCodec (Table 3.2 step 5)"),
    "cnn-fc-block-pixel": ("cnn-fc-block-pixel", "cnn-yl", None, "CNN-CR retrained through the block-pixel FakeCodec"),
    "cnn-fc-block-dct": ("cnn-fc-block-dct", "cnn-yl", None, "CNN-CR retrained through the block-DCT FakeCodec"),
    "cnn-rd": ("cnn-rd", "cnn-rd", None, "CNN-CR trained with the rate proxy (λ per QF, §4.4.2)"),
    "cnn-rdv2": ("cnn-rdv2", "cnn-rdv2", "cnn-rd", "CNN-RD with λ = 1e-8 at QF 90 (CNN-RD's models elsewhere)"),
    "cnn-mse": ("cnn-mse", "cnn-mse", None, "CNN-CR trained without guidance or rate term (λ = 0)"),
}

_HEADER = 5


def pack_hybrid(width: int, height: int, quality: int, jpeg: bytes) -> bytes:
    """The stored form of a down/up pipeline's file (format in the module docstring)."""
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise DlicError(f"image size {width}×{height} is outside 1..65535")
    return width.to_bytes(2, "big") + height.to_bytes(2, "big") + bytes([int(quality)]) + jpeg


def unpack_hybrid(data: bytes, codec: str) -> tuple[int, int, int, bytes]:
    if len(data) < _HEADER + 4 or data[_HEADER:_HEADER + 2] != b"\xff\xd8":
        raise DlicError(f"{codec}: stored data is truncated or not a header followed by a JPEG file")
    return int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big"), data[4], data[_HEADER:]


def _pad_even(y: np.ndarray) -> np.ndarray:
    h, w = y.shape
    return np.pad(y, ((0, h % 2), (0, w % 2)), mode="edge")


def _pillow_version() -> str:
    import PIL
    from PIL import features

    return f"libjpeg-turbo {features.version('jpg')} / Pillow {PIL.__version__}"


class _LumaCodec(Codec):
    """Shared parts: IJG quality factor, luma in, gray RGB out, Huffman option."""

    library = "libjpeg-turbo (Pillow)"
    quality_spec = QualitySpec("quality", 1, 100, 25, integer=True, meaning="IJG quality factor of the JPEG inside")

    def __init__(self, optimize: bool = False, **options: Any) -> None:
        if not isinstance(optimize, (bool, np.bool_)) and optimize not in (0, 1, "0", "1", "true", "false"):
            raise DlicError(f"{self.name}: optimize must be true or false, got {optimize!r}")
        optimize = optimize if isinstance(optimize, (bool, np.bool_)) else str(optimize).lower() in ("1", "true")
        super().__init__(optimize=bool(optimize), **options)

    @property
    def chroma(self) -> str:
        return "4:0:0"

    @property
    def colour(self) -> str:
        return "luma only: Pillow convert('L'), (19595 R + 38470 G + 7471 B + 2^15) >> 16"

    def version(self) -> str:
        return _pillow_version()


class LumaJpegCodec(_LumaCodec):
    """The luma plane as a baseline grayscale JPEG (the thesis' plain JPEG anchor)."""

    name = "jpeg-y"
    bitstream = "grayscale baseline JFIF file; Annex K Huffman tables unless optimize=true"

    def _encode(self, image: np.ndarray, quality: int) -> bytes:
        return encode_luma(rgb_to_luma(image), quality, optimize=self.options["optimize"])

    def decode(self, data: bytes, quality: Any = None) -> np.ndarray:
        return luma_to_rgb(decode_luma(data))


class _DownUpCodec(_LumaCodec):
    """↓2, JPEG of the ``uint8`` low-resolution plane, ↑2; subclasses give the two resamplers."""

    bitstream = "5-byte header (width, height, QF) + grayscale baseline JFIF file of the ↓2 luma plane"

    def _down(self, y: np.ndarray, quality: int) -> np.ndarray:
        raise NotImplementedError

    def _up(self, lr: np.ndarray, quality: int) -> np.ndarray:
        raise NotImplementedError

    def _encode(self, image: np.ndarray, quality: int) -> bytes:
        y = rgb_to_luma(image)
        lr = self._down(_pad_even(y), quality)
        return pack_hybrid(y.shape[1], y.shape[0], quality, encode_luma(lr, quality, optimize=self.options["optimize"]))

    def decode(self, data: bytes, quality: Any = None) -> np.ndarray:
        width, height, qf, jpeg = unpack_hybrid(data, self.name)
        lr = decode_luma(jpeg)
        if lr.shape != ((height + 1) // 2, (width + 1) // 2):
            raise DlicError(f"{self.name}: JPEG size {lr.shape[1]}×{lr.shape[0]} does not fit the header's {width}×{height}")
        return luma_to_rgb(self._up(lr, qf)[:height, :width])


class BicubicJpegCodec(_DownUpCodec):
    """Bicubic-JPEG: Pillow's bicubic ↓2 and ↑2 around the luma JPEG (§4.1)."""

    name = "bicubic-jpeg"

    def _down(self, y: np.ndarray, quality: int) -> np.ndarray:
        return pil_bicubic(y, (y.shape[1] // 2, y.shape[0] // 2))

    def _up(self, lr: np.ndarray, quality: int) -> np.ndarray:
        return pil_bicubic(lr, (2 * lr.shape[1], 2 * lr.shape[0]))


class CnnJpegCodec(_DownUpCodec):
    """CNN-CR ↓2, luma JPEG, CNN-SR ↑2 with the weights of one pipeline (see :data:`PIPELINES`).

    ``cr`` / ``sr``: networks to use instead of the checkpoint zoo (one module, or ``{qf: module}``);
    ``profile``: only zoo entries trained at this profile. Quality factors: :data:`THESIS_QFS`.
    """

    kind = "learned"
    library = "dlic CNNs (torch) + libjpeg-turbo (Pillow)"
    quality_spec = QualitySpec("quality", 25, 90, 55, integer=True, values=THESIS_QFS,
                               meaning="IJG quality factor of the JPEG inside (one CNN-SR per QF)")
    pipeline = ""

    def __init__(self, optimize: bool = False, cr: Any = None, sr: Any = None, profile: str | None = None,
                 device: str | None = None) -> None:
        super().__init__(optimize=optimize)
        if profile is not None:
            self.options["profile"] = str(profile)
        self._user = {"cr": cr, "sr": sr}
        self._device_choice = device
        self._nets: dict[tuple[str, int], tuple[Any, str]] = {}

    # --- weights -----------------------------------------------------------------------------
    def _entry(self, role: str, quality: int):
        from .. import zoo

        objective, fallback = PIPELINES[self.name][0 if role == "cr" else 1], PIPELINES[self.name][2]
        profile = self.options.get("profile")
        for obj in (objective, fallback):
            if obj is None:
                continue
            found = zoo.entries(f"cnn-{role}", task="jpeg-cnn", objective=obj, profile=profile)
            for match in ([e for e in found if e.rate_key.get("qf") == quality], [e for e in found if "qf" not in e.rate_key]):
                if match:
                    return max(match, key=lambda e: (int(e.config.get("steps") or 0), float(e.config.get("registered_at") or 0)))
        return None

    def _net(self, role: str, quality: int) -> tuple[Any, str]:
        key = (role, quality)
        if key not in self._nets:
            user = self._user[role]
            if user is not None:
                net = user.get(quality) if isinstance(user, Mapping) else user
                if net is None:
                    raise DlicError(f"{self.name}: no {role.upper()} network given for QF {quality}")
                self._nets[key] = (net.eval().to(self.device()), "user-model")
            else:
                from .. import zoo

                entry = self._entry(role, quality)
                if entry is None:
                    raise CodecUnavailableError(self._missing(quality))
                self._nets[key] = (zoo.load_model(entry, device=self.device()), f"dlic-checkpoint:{entry.sha256[:12]}")
        return self._nets[key]

    def _missing(self, quality: int | None = None) -> str:
        from ..config import checkpoint_dir

        at = f" at QF {quality}" if quality is not None else ""
        return (f"no trained {self.name} networks{at} are registered in {checkpoint_dir()}; train them with "
                f"'dlic train --task jpeg-cnn --profile quick' or by running the chapter notebooks/03_cnn_around_jpeg.py")

    def available(self) -> tuple[bool, str]:
        if self._user["cr"] is not None and self._user["sr"] is not None:
            return True, ""
        try:
            if any(self._entry("cr", q) and self._entry("sr", q) for q in THESIS_QFS):
                return True, ""
        except DlicError as exc:  # unreadable registry
            return False, str(exc)
        return False, self._missing()

    def device(self) -> str:
        from ..device import resolve_device

        return resolve_device(self._device_choice)

    def cache_token(self) -> str | None:
        return None if self._user["cr"] is not None or self._user["sr"] is not None else ""

    def params(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, **self.options, "weights": self.weights_label(quality)}

    def weights_label(self, quality: int) -> str | None:
        labels = {self._net("cr", int(quality))[1], self._net("sr", int(quality))[1]}
        return "+".join(sorted(labels))

    def version(self) -> str:
        import torch

        return f"{_pillow_version()} / torch {torch.__version__.split('+')[0]}"

    # --- coding --------------------------------------------------------------------------------
    def _run(self, net: Any, plane: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(plane.astype(np.float32) / 255.0)[None, None].to(self.device())
        with torch.no_grad():
            out = net(x)[0, 0].float().cpu().numpy()
        return np.clip(np.floor(out * 255.0 + 0.5), 0, 255).astype(np.uint8)

    def _down(self, y: np.ndarray, quality: int) -> np.ndarray:
        return self._run(self._net("cr", quality)[0], y)

    def _up(self, lr: np.ndarray, quality: int) -> np.ndarray:
        if quality not in THESIS_QFS:
            raise DlicError(f"{self.name}: the file's quality factor {quality} is not one of {list(THESIS_QFS)}")
        return self._run(self._net("sr", quality)[0], lr)


def _pipeline_codec(name: str) -> type[CnnJpegCodec]:
    doc = PIPELINES[name][3]
    class_name = "".join(part.title() for part in name.split("-")) + "Codec"
    return type(class_name, (CnnJpegCodec,), {"name": name, "__doc__": doc, "__module__": __name__})


#: every pipeline of the chapter as a codec class, by name
HYBRID_CODECS: dict[str, type[Codec]] = {
    LumaJpegCodec.name: LumaJpegCodec,
    BicubicJpegCodec.name: BicubicJpegCodec,
    **{name: _pipeline_codec(name) for name in PIPELINES},
}
