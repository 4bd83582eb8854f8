"""Run profiles and chapter settings: the one place that says how much work each notebook does.

| profile | for | budget |
|---|---|---|
| ``smoke`` | CI: proves every notebook runs end to end | < 60 s per notebook on 2 CPU cores |
| ``quick`` | a laptop: real, smaller experiments | book of chapters 0–2 ≤ 45 min on 2 cores from a cold cache; ≤ 10 min all cached |
| ``full`` | a GPU machine: the source documents' settings | hours |

A notebook's ``parameters`` cell names the profile; every other parameter defaults to ``None``
and is filled from :func:`get_profile` (the profile's shared settings) and :data:`CHAPTERS` (the
chapter's own settings per profile). An override naming a setting that does not exist is refused.
:data:`PARAMETER_RULES` gives the type and range of the values ``dlic run -p KEY VALUE`` accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import DlicError

__all__ = [
    "Profile", "PROFILES", "PROFILE_NAMES", "CHAPTERS", "PARAMETER_RULES", "Rule",
    "get_profile", "chapter_settings", "settings_from", "check_parameter",
]

#: seed 000's four target rates (Section 4.2.C)
_THESIS_TARGETS = (0.06, 0.125, 0.25, 0.5)


@dataclass(frozen=True)
class Profile:
    """Settings shared by all notebooks; ``extra`` holds the settings of one chapter (see :data:`CHAPTERS`)."""

    name: str
    description: str
    max_images: int | None  # images per test set (None: all)
    max_side: int | None  # longest side after down-scaling test images (None: native size)
    train_preset: str  # key of dlic_lib.train.TRAIN_PRESETS
    device: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict)

    def resolve(self, **overrides: Any) -> Profile:
        """A copy with every non-``None`` override applied; an unknown key is refused."""
        known = {f.name for f in fields(self)} - {"name", "description", "extra"}
        for key in overrides:
            if key not in known:
                raise DlicError(f"unknown profile setting {key!r}; expected one of {', '.join(sorted(known))} "
                                "(chapter settings go through get_profile(..., chapter=...))")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="CI check: tiny subsets, each notebook < 60 s on 2 CPU cores",
        max_images=2,
        max_side=256,
        train_preset="smoke",
    ),
    "quick": Profile(
        name="quick",
        description="laptop: all test images at native size, small CPU-trained networks",
        max_images=None,
        max_side=None,
        train_preset="quick",
    ),
    "full": Profile(
        name="full",
        description="GPU: the source documents' settings (full training schedules, pretrained zoo when online)",
        max_images=None,
        max_side=None,
        train_preset="full",
    ),
}
PROFILE_NAMES = tuple(PROFILES)

_ALL_CONVENTIONAL = [("jpeg", "420"), ("jpeg", "444"), ("jpeg2000", None), ("webp", None), ("hevc", "420"),
                     ("hevc", "444"), ("vvc", "420"), ("av1", "420"), ("av1", "444", {"encoder": "libaom"}),
                     ("jpegxl", None)]

#: seed 002's six content slots (semantic class → number of contents)
_SEED002_SLOTS = {"people": 2, "nature": 2, "man-made": 1, "synthetic": 1}

#: each chapter's own settings per profile (chapter = notebook stem)
CHAPTERS: dict[str, dict[str, dict[str, Any]]] = {
    "01_subjective_analysis": {
        "smoke": dict(n_bootstrap=200),
        "quick": dict(n_bootstrap=2000),
        "full": dict(n_bootstrap=10000),
    },
    # kodak/highres: images per test set; max_side: longest side of the high-res set; targets: bpp of
    # the conventional codecs; conventional: (codec, chroma[, options]); learned: seed-000 short names;
    # qualities: rungs of the learned codecs (RNN-C: 1, 2, 4, 6 iterations, coded on rnn_sets only);
    # warm_start/warm_steps: how the -E ladders are trained
    # (each rung above the lowest starts from the release of the rung below, for warm_steps steps);
    # steps/finetune_steps: steps of the lowest -E rung and of each -M fine-tune (None: the training preset's)
    "02_objective_study": {
        "smoke": dict(kodak=1, highres=1, max_side=384, targets=(0.25, 0.5),
                      conventional=[("jpeg", "420"), ("jpeg", "444"), ("webp", None), ("hevc", "420")],
                      learned=["BF-E", "RNN-C"], qualities=(1, 3), warm_start=False, warm_steps=None, steps=None,
                      finetune_steps=None, rnn_sets=("Kodak",)),
        # quick: the high-res set at ≤ 1024 px, 2000 + 800 steps per -E ladder and 150 per fine-tune keep
        # chapters 0–2 within 45 min on two CPU cores (the thesis' 2048 px and the preset's 5000 + 2500 + 500
        # steps took 81 min, 1024 px with 2000 + 1000 + 250 steps 46 min: benchmarks/book_time.py)
        "quick": dict(kodak=24, highres=8, max_side=1024, targets=_THESIS_TARGETS,
                      conventional=[("jpeg", "420"), ("jpeg", "444"), ("jpeg2000", None), ("webp", None),
                                    ("hevc", "420"), ("hevc", "444"), ("av1", "420"), ("jpegxl", None)],
                      learned=["BF-E", "BF-M", "MM-E", "MM-M", "RNN-C"], qualities=(1, 3), warm_start=True, warm_steps=800,
                      steps=2000, finetune_steps=150, rnn_sets=("Kodak",)),
        "full": dict(kodak=24, highres=8, max_side=2048, targets=_THESIS_TARGETS, conventional=_ALL_CONVENTIONAL,
                     learned=["BF-E", "BF-M", "BH-E", "BH-M", "MM-E", "MM-M", "RNN-C"], qualities=tuple(range(1, 9)),
                     warm_start=False, warm_steps=None, steps=None, finetune_steps=None, rnn_sets=("Kodak", "High-res")),
    },
    # crop: (H, W) of each content; candidates: "all" or "commons" (no T-Labs video frames); slots: semantic
    # class → contents; msssim_targets: the conventional rates (or fixed_parameters per codec); learned_rates:
    # the stand-ins' own rate parameters; n_boot: bootstrap resamples; aic4_*: None = all of the release
    "07_metrics_for_learned_codecs": {
        "smoke": dict(crop=(192, 256), candidates="commons", slots={"man-made": 1, "synthetic": 1}, msssim_targets=(),
                      n_boot=200, fixed_parameters={"JPEG2000": (0.3, 1.0), "BPG (HEVC 4:2:0)": (40,)},
                      learned_rates={"Ballé (factorized prior)": (1,), "Toderici 2017 (rnn)": (1,)}, max_encodes=8,
                      aic4_metrics=("PSNR-Y", "SSIM", "MS-SSIM"), aic4_codecs=("JPEG-2000", "VVC", "JPEG-AI")),
        "quick": dict(crop=(384, 480), candidates="all", slots=_SEED002_SLOTS, msssim_targets=(0.90, 0.95, 0.98, 0.995),
                      n_boot=2000, fixed_parameters=None, max_encodes=7, aic4_metrics=None, aic4_codecs=None,
                      learned_rates={"Ballé (factorized prior)": (1, 3), "Toderici 2017 (rnn)": (1, 2, 4, 8)}),
        "full": dict(crop=(736, 960), candidates="all", slots=_SEED002_SLOTS, msssim_targets=(0.90, 0.94, 0.97, 0.985, 0.995),
                     n_boot=10000, fixed_parameters=None, max_encodes=12, aic4_metrics=None, aic4_codecs=None,
                     learned_rates={"Ballé (factorized prior)": (1, 2, 3, 4, 5, 6), "Toderici 2017 (rnn)": (1, 2, 3, 4, 6, 8)}),
    },
}


def get_profile(name: str, *, chapter: str | None = None, **overrides: Any) -> Profile:
    """The profile called ``name`` with ``overrides`` applied (``None`` values ignored).

    With ``chapter``, ``extra`` holds that chapter's settings at this profile and ``overrides`` may
    also name those; any other key is refused.
    """
    try:
        profile = PROFILES[name]
    except KeyError:
        raise DlicError(f"unknown profile {name!r}; expected one of {', '.join(PROFILE_NAMES)}") from None
    own = {k: v for k, v in overrides.items() if k in Profile.__dataclass_fields__}
    rest = {k: v for k, v in overrides.items() if k not in own}
    if chapter is None:  # a chapter's setting named without its chapter: kept in extra, as given
        chapter_keys = {k for c in CHAPTERS.values() for ps in c.values() for k in ps}
        legacy = {k: v for k, v in rest.items() if k in chapter_keys}
        resolved = profile.resolve(**own, **{k: v for k, v in rest.items() if k not in legacy})
        return replace(resolved, extra={k: v for k, v in legacy.items() if v is not None})
    return replace(profile.resolve(**own), extra=chapter_settings(chapter, name, **rest))


def chapter_settings(chapter: str, profile: str, **overrides: Any) -> dict[str, Any]:
    """A copy of ``chapter``'s settings at ``profile`` with non-``None`` ``overrides``; unknown keys refused."""
    if chapter not in CHAPTERS:
        raise DlicError(f"chapter {chapter!r} has no settings; known: {', '.join(CHAPTERS)}")
    return settings_from(CHAPTERS[chapter], chapter, profile, **overrides)


def settings_from(table: dict[str, dict[str, Any]], chapter: str, profile: str, **overrides: Any) -> dict[str, Any]:
    """A copy of ``table[profile]`` (one chapter's settings per profile) with non-``None`` ``overrides``.

    An unknown profile or setting is a one-line :class:`DlicError` naming what is known.
    """
    if profile not in table:
        raise DlicError(f"unknown profile {profile!r}: chapter {chapter} has no settings for it; expected one of "
                        f"{', '.join(table)}")
    settings = dict(table[profile])
    for key, value in overrides.items():
        if key not in settings:
            raise DlicError(f"unknown setting {key!r} for chapter {chapter}; expected one of {', '.join(settings)}")
        if value is not None:
            settings[key] = value
    return settings


# -- what `dlic run -p KEY VALUE` accepts ----------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """The values a notebook parameter accepts: ``kind`` (int, float, bool, str), a range, a check."""

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], Any] | None = None  # raises DlicError on a bad value
    hint: str = ""


def _qualities(value: Any) -> None:
    items = str(value).split(",") if not isinstance(value, (list, tuple)) else list(value)
    items = [i for i in items if not (isinstance(i, str) and not i.strip())]
    if not items:
        raise DlicError("name at least one quality")
    for item in items:
        try:
            q = int(item)
        except (TypeError, ValueError):
            raise DlicError(f"quality {item!r} is not an integer") from None
        if isinstance(item, bool) or q != float(item) or not 1 <= q <= 8:
            raise DlicError(f"quality {item!r} is not an integer from 1 to 8")


def _learned_codecs(value: Any) -> None:
    from .evaluate import learned_setting

    names = [n.strip() for n in str(value).split(",") if n.strip()] if not isinstance(value, (list, tuple)) else value
    if not names:
        raise DlicError("name at least one learned codec, e.g. BF-E,MM-M")
    for n in names:
        learned_setting(str(n), (1,))


def _logistic(value: Any) -> None:
    if value not in ("5p", "4p"):
        raise DlicError("must be 5p or 4p")


#: parameters with a type or range beyond their default's type (by name, in every notebook)
PARAMETER_RULES: dict[str, Rule] = {
    "max_images": Rule(int, minimum=1),
    "max_side": Rule(int, minimum=16),
    "n_bootstrap": Rule(int, minimum=1),
    "learned_qualities": Rule(str, check=_qualities, hint="qualities 1..8 separated by commas, e.g. 1,3"),
    "learned_codecs": Rule(str, check=_learned_codecs, hint="seed-000 names separated by commas, e.g. BF-E,MM-M"),
    "train_missing": Rule(bool),
    "logistic": Rule(str, check=_logistic, hint="5p (seed 000) or 4p (VQEG)"),
    "kodak": Rule(int, minimum=1),
    "highres": Rule(int, minimum=1),
    "ae_width": Rule(float, minimum=0.01, hint="width multiplier of the autoencoders, e.g. 0.5 (1 = Table 4.1)"),
    "ae_steps": Rule(int, minimum=1),
}


def _kind_name(kind: type) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(kind, kind.__name__)


def check_parameter(name: str, value: Any, rule: Rule) -> Any:
    """``value`` if it fits ``rule``; otherwise a :class:`DlicError` naming ``name`` and what it accepts."""
    def fail(why: str) -> DlicError:
        return DlicError(f"parameter {name!r}: {why}, got {value!r}" + (f" ({rule.hint})" if rule.hint else ""))

    if rule.check is not None and isinstance(value, (str, int, list, tuple)) and not isinstance(value, bool):
        try:
            rule.check(value)
        except DlicError as exc:
            raise fail(str(exc).rstrip(".")) from None
        return value
    if rule.kind is bool:
        ok = isinstance(value, bool)
    elif rule.kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif rule.kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, rule.kind)
    if not ok:
        raise fail(f"must be {_kind_name(rule.kind)}")
    if rule.minimum is not None and value < rule.minimum:
        raise fail(f"must be at least {rule.minimum:g}")
    if rule.maximum is not None and value > rule.maximum:
        raise fail(f"must be at most {rule.maximum:g}")
    return value
