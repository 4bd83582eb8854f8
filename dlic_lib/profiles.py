"""Run profiles: one place that says how much work each notebook does.

| profile | for | budget |
|---|---|---|
| ``smoke`` | CI: proves every notebook runs end to end | < 60 s per notebook on 2 CPU cores |
| ``quick`` | a laptop: real, smaller experiments | whole book 32 min on 2 cores from a cold cache (20 min of it training networks, with native bfloat16); chapter 2 12 min with its networks cached; ≤ 10 min all cached |
| ``full`` | a GPU machine: the source documents' settings | hours |

A notebook's ``parameters`` cell names the profile; every other parameter defaults to ``None``
and is filled from :func:`get_profile` (papermill ``-p KEY VALUE`` overrides either).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .errors import DlicError

__all__ = ["Profile", "PROFILES", "get_profile", "PROFILE_NAMES"]


@dataclass(frozen=True)
class Profile:
    """Settings shared by all notebooks; ``extra`` holds chapter-specific values."""

    name: str
    description: str
    max_images: int | None  # images per test set (None: all)
    max_side: int | None  # longest side after down-scaling test images (None: native size)
    train_preset: str  # key of dlic_lib.train.TRAIN_PRESETS
    device: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict)

    def resolve(self, **overrides: Any) -> Profile:
        """A copy with every non-``None`` override applied (unknown keys go to ``extra``)."""
        known = {k: v for k, v in overrides.items() if v is not None and k in self.__dataclass_fields__}
        extra = dict(self.extra)
        extra.update({k: v for k, v in overrides.items() if v is not None and k not in self.__dataclass_fields__})
        return replace(self, extra=extra, **known)

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


def get_profile(name: str, **overrides: Any) -> Profile:
    """The profile called ``name`` with ``overrides`` applied (``None`` values ignored)."""
    try:
        profile = PROFILES[name]
    except KeyError:
        raise DlicError(f"unknown profile {name!r}; expected one of {', '.join(PROFILE_NAMES)}") from None
    return profile.resolve(**overrides)
