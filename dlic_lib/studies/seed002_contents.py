"""Seed 002's six test contents, regenerated from the book's own non-training images.

Valenzise et al. chose 6 of 19 pristine images by spatial information (SI), key, colourfulness and
semantics (two HDR video frames with people, two landscapes, a man-made object, a screenshot) and
cropped them to 736×960 (H×W: two of them side by side fill a 1920-pixel screen). Here:

* candidates — the Commons ``val``/``test`` photos large enough for the crop (never the training
  split: the learned stand-ins train on it), the four 2160² T-Labs reference frames (decoded with
  the bundled FFmpeg as BT.709 limited range, since the streams carry no colour metadata), and one
  deterministic synthetic screen content (:func:`synthetic_screen`);
* :func:`key` — ``(log L̄ − log L_min)/(log L_max − log L_min)`` of linear luminance, with the
  log-average L̄ and 1 %/99 % percentiles for L_min/L_max (Akyüz & Reinhard 2006);
* :func:`best_crop` — the 736×960 window of highest P.910 SI (an integral-image scan);
* :func:`select_contents` — one semantic class per slot (:data:`SLOTS`), filled greedily by the
  largest minimum distance to the contents already chosen in standardised (SI, key, colourfulness).

The semantic class of each candidate (:data:`SEMANTICS`) was assigned by looking at the images.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.describe import colorfulness, spatial_information
from ..errors import DlicError

__all__ = ["CROP", "SLOTS", "SEMANTICS", "key", "best_crop", "synthetic_screen", "decode_video_frame",
           "content_statistics", "select_contents", "candidate_images", "chosen_crops"]

#: the crop of every content, (height, width)
CROP = (736, 960)
#: the paper's six slots: semantic class → how many contents
SLOTS: dict[str, int] = {"people": 2, "nature": 2, "man-made": 1, "synthetic": 1}
#: semantic class of each candidate (Commons photo number or T-Labs source stem)
SEMANTICS: dict[str, str] = {
    "006": "man-made", "016": "man-made", "018": "nature", "019": "nature", "021": "man-made", "025": "people",
    "030": "man-made", "036": "man-made", "043": "man-made", "044": "people", "046": "man-made",
    "NTIA_4K_Vignette_1_Violin": "people", "RollerCoaster": "man-made", "costa_rica": "nature", "venice": "man-made",
    "screen": "synthetic",
}


def key(image: np.ndarray) -> float:
    """Key (overall brightness on a log scale, 0–1) of an sRGB ``uint8`` image."""
    c = image.astype(np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lum = linear @ np.array([0.2126, 0.7152, 0.0722])
    log_l = np.log(lum + 1e-4)
    lo, hi = np.percentile(log_l, [1, 99])
    if hi - lo < 1e-12:
        return 0.5
    return float(np.clip((log_l.mean() - lo) / (hi - lo), 0.0, 1.0))


def best_crop(image: np.ndarray, size: tuple[int, int] = CROP, step: int = 16) -> tuple[int, int]:
    """Top-left ``(row, col)`` of the ``size`` window with the highest spatial information.

    SI of a window is the standard deviation of the Sobel magnitude of its luma, evaluated for every
    window on a ``step`` grid from integral images of the magnitude and its square.
    """
    from scipy import ndimage

    from ..color import rgb_to_y

    h, w = size
    if image.shape[0] < h or image.shape[1] < w:
        raise DlicError(f"image of {image.shape[0]}×{image.shape[1]} is smaller than the {h}×{w} crop")
    y = rgb_to_y(image)
    g = np.hypot(ndimage.sobel(y, axis=1, mode="nearest"), ndimage.sobel(y, axis=0, mode="nearest"))
    s1 = np.pad(g.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    s2 = np.pad((g * g).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    rows = np.arange(0, image.shape[0] - h + 1, step)
    cols = np.arange(0, image.shape[1] - w + 1, step)
    r, c = np.meshgrid(rows, cols, indexing="ij")

    def box(s):
        return s[r + h, c + w] - s[r, c + w] - s[r + h, c] + s[r, c]

    n = h * w
    mean = box(s1) / n
    var = box(s2) / n - mean**2
    i, j = np.unravel_index(int(np.argmax(var)), var.shape)
    return int(rows[i]), int(cols[j])


def synthetic_screen(size: tuple[int, int] = CROP, seed: int = 0) -> np.ndarray:
    """A deterministic screen content: window chrome, text, buttons, a table and a bar chart.

    Drawn at (at least) the paper's 736×960 with Pillow's built-in bitmap font (no FreeType), so the
    pixels depend only on ``seed``; a smaller ``size`` is the top-left part of that screen.
    """
    from PIL import Image, ImageDraw, ImageFont

    h, w = max(size[0], CROP[0]), max(size[1], CROP[1])
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (w, h), (246, 246, 246))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default_imagefont()
    d.rectangle([0, 0, w, 28], fill=(40, 44, 52))
    for k, colour in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):
        d.ellipse([10 + 20 * k, 8, 22 + 20 * k, 20], fill=colour)
    d.text((90, 9), "report.txt - Editor", fill=(230, 230, 230), font=font)
    d.rectangle([0, 28, 180, h], fill=(225, 229, 235))
    words = ["rate", "distortion", "codec", "entropy", "latent", "quality", "bitstream", "pixel", "model", "score"]
    for k in range(24):
        d.text((12, 40 + 18 * k), f"{k + 1:02d}  {words[k % len(words)]}_{int(rng.integers(100, 999))}.png",
               fill=(30, 30, 30) if k != 5 else (0, 90, 200), font=font)
    for line in range(22):
        n_words = int(rng.integers(5, 14))
        text = " ".join(words[int(i)] for i in rng.integers(0, len(words), n_words))
        d.text((200, 44 + 15 * line), text, fill=(20, 20, 20), font=font)
    for k, label in enumerate(("Open", "Save", "Encode", "Cancel")):
        x = 200 + 110 * k
        d.rounded_rectangle([x, 390, x + 96, 416], radius=5, fill=(0, 120, 215) if k == 2 else (210, 210, 210))
        d.text((x + 26, 398), label, fill=(255, 255, 255) if k == 2 else (0, 0, 0), font=font)
    for r in range(9):  # a table with grid lines
        y = 440 + 22 * r
        d.line([200, y, 620, y], fill=(160, 160, 160))
        for cidx in range(4):
            value = ("codec", "bpp", "PSNR", "SSIM")[cidx] if r == 0 else f"{rng.uniform(0, 50):.2f}"
            d.text((208 + 105 * cidx, y + 6), value, fill=(0, 0, 0), font=font)
    for cidx in range(5):
        d.line([200 + 105 * cidx, 440, 200 + 105 * cidx, 638], fill=(160, 160, 160))
    d.rectangle([650, 440, w - 20, 700], outline=(80, 80, 80), fill=(255, 255, 255))  # a bar chart
    palette = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40))
    for k in range(8):
        height = int(rng.integers(30, 230))
        d.rectangle([665 + 34 * k, 690 - height, 690 + 34 * k, 690], fill=palette[k % 4])
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8)[: size[0], : size[1]])


def decode_video_frame(path: str | Path) -> np.ndarray:
    """The first frame of a video file as RGB ``uint8`` (BT.709 limited range when untagged)."""
    from PIL import Image

    from ..codecs.ffmpeg import run_ffmpeg

    data = Path(path).read_bytes()
    png = run_ffmpeg(["-i", "pipe:0", "-frames:v", "1",
                      "-vf", "scale=in_color_matrix=bt709:in_range=tv:flags=accurate_rnd+full_chroma_int,format=rgb24",
                      "-f", "image2pipe", "-vcodec", "png", "pipe:1"], data, what=f"decoding {Path(path).name}")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def content_statistics(candidates: Mapping[str, np.ndarray], size: tuple[int, int] = CROP) -> pd.DataFrame:
    """Crop each candidate at its highest-SI window; one row per candidate with its statistics.

    Columns: ``content, semantics, height, width, row, col, si, key, colorfulness``; candidates
    smaller than ``size`` are left out.
    """
    rows = []
    for name, image in candidates.items():
        if image.shape[0] < size[0] or image.shape[1] < size[1]:
            continue
        r, c = best_crop(image, size)
        crop = image[r:r + size[0], c:c + size[1]]
        stem = name if name in SEMANTICS else next((s for s in SEMANTICS if name.startswith(s)), name)
        rows.append({"content": name, "semantics": SEMANTICS.get(stem, "unknown"), "height": image.shape[0],
                     "width": image.shape[1], "row": r, "col": c, "si": spatial_information(crop), "key": key(crop),
                     "colorfulness": colorfulness(crop)})
    return pd.DataFrame(rows)


def select_contents(stats: pd.DataFrame, slots: Mapping[str, int] = SLOTS) -> pd.DataFrame:
    """Fill ``slots`` greedily: each pick is the candidate of the slot's class that lies farthest (largest
    minimum Euclidean distance in z-scored SI, key, colourfulness) from the contents already chosen;
    the first pick is the one farthest from the candidates' centroid; candidates of ``unknown`` class fill
    slots no candidate of the right class is left for. Returns the chosen rows in pick order with ``slot``,
    ``pick`` and ``min_distance`` columns.
    """
    feats = stats[["si", "key", "colorfulness"]].to_numpy(float)
    z = (feats - feats.mean(0)) / np.where(feats.std(0) > 0, feats.std(0), 1.0)
    classes = stats["semantics"].tolist()
    chosen: list[int] = []
    distances: list[float] = []
    filled: list[str] = []
    need = dict(slots)

    def farthest(eligible: list[int]) -> tuple[int | None, float]:
        best, best_d = None, -1.0
        for i in eligible:
            d = float(np.linalg.norm(z[i])) if not chosen else float(min(np.linalg.norm(z[i] - z[j]) for j in chosen))
            if d > best_d:
                best, best_d = i, d
        return best, best_d

    while any(need.values()):
        best, best_d = farthest([i for i, c in enumerate(classes) if i not in chosen and need.get(c, 0) > 0])
        slot = classes[best] if best is not None else None
        if best is None:  # e.g. the embedded default images: candidates of unknown class fill what is left
            best, best_d = farthest([i for i, c in enumerate(classes) if i not in chosen and c == "unknown"])
            slot = next(k for k, v in need.items() if v)
        if best is None:
            missing = {k: v for k, v in need.items() if v}
            raise DlicError(f"not enough candidates for the content slots {missing}")
        chosen.append(best)
        distances.append(best_d)
        filled.append(slot)
        need[slot] -= 1
    out = stats.iloc[chosen].copy()
    out["slot"] = filled
    out["pick"] = range(1, len(chosen) + 1)
    out["min_distance"] = distances
    return out.reset_index(drop=True)


def candidate_images(which: str = "all") -> dict[str, np.ndarray]:
    """The candidates by name: Commons ``val``/``test`` photos, (``which="all"``) the T-Labs reference frames,
    and the synthetic screen. Decoded video frames are cached as PNG in the result cache.
    """
    from ..config import cache_dir
    from ..data import read_image, resolve_dataset, resolve_optional, write_png

    photos = resolve_dataset("wikimedia-photos", progress=False)
    out = {p.stem: read_image(p) for split in ("val", "test") for p in photos.images(split)}
    if which == "all":
        tlabs = resolve_optional("tlabs-image-quality", progress=False)
        for path in sorted(p for p in (tlabs.files() if tlabs else []) if p.suffix == ".mkv"):
            stem = next((s for s in SEMANTICS if path.name.startswith(s)), path.name.split(".")[0])
            cached = cache_dir() / "seed002" / f"{stem}.png"
            if not cached.is_file():
                write_png(cached, decode_video_frame(path))
            out[stem] = read_image(cached)
    out["screen"] = synthetic_screen()
    return out


def chosen_crops(chosen: pd.DataFrame, candidates: Mapping[str, np.ndarray], size: tuple[int, int] = CROP) -> dict[str, np.ndarray]:
    """The crops of the chosen contents (``row``/``col`` from :func:`content_statistics`)."""
    h, w = size
    return {r.content: np.ascontiguousarray(candidates[r.content][r.row:r.row + h, r.col:r.col + w])
            for r in chosen.itertuples(index=False)}
